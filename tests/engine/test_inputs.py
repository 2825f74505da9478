"""taskorch.inputs: the files a command reads are regular files of bounded size, parsed with
bounded nesting, and every refusal names the file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from taskorch import InvalidArgumentError, inputs
from tests.hostile import hostile_files


def test_a_regular_file_is_read_and_parsed(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"goal": "g"}')
    assert inputs.read_bytes(path) == b'{"goal": "g"}'
    assert inputs.load(path, json.loads) == {"goal": "g"}


def test_fifo_device_and_deep_nesting_are_refused_at_once_naming_the_file(tmp_path: Path) -> None:
    with hostile_files(tmp_path) as files:
        for path, words in files.values():
            started = time.monotonic()
            with pytest.raises(InvalidArgumentError, match=words) as refused:
                inputs.load(path, json.loads)
            assert refused.value.argument == str(path)
            assert time.monotonic() - started < 1.0  # before a blocked reader would be let go


def test_a_directory_is_refused_and_a_missing_file_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="is a directory"):
        inputs.read_bytes(tmp_path)
    with pytest.raises(FileNotFoundError):
        inputs.read_bytes(tmp_path / "missing.json")


def test_a_file_larger_than_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "MAX_BYTES", 2**20)
    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2**20)
    assert len(inputs.read_bytes(path)) == 2**20  # at the bound: read whole
    path.write_bytes(b" " * (2**20 + 1))
    with pytest.raises(InvalidArgumentError, match="larger than 1 MiB"):
        inputs.read_bytes(path)


def test_bad_text_is_refused_naming_the_file_and_the_language(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff{}")
    with pytest.raises(InvalidArgumentError, match=r"bad\.json: is not UTF-8"):
        inputs.load(path, json.loads)
    path.write_bytes(b"{oops")
    with pytest.raises(InvalidArgumentError, match="is not valid JSON"):
        inputs.load(path, json.loads)
