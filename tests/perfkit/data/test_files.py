"""Files written whole or not at all: the target holds the old text or the new, and no
temporary file is left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perfkit.data.files import write_bytes_atomic, write_text_atomic


def test_writes_a_new_file_and_replaces_an_old_one(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    write_text_atomic(target, "première\n")
    assert target.read_bytes() == "première\n".encode()
    write_text_atomic(str(target), "second")
    assert target.read_text(encoding="utf-8") == "second"
    write_bytes_atomic(target, b"\x00\xff")
    assert target.read_bytes() == b"\x00\xff"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_the_encoding_is_the_callers(tmp_path: Path) -> None:
    target = tmp_path / "latin.txt"
    write_text_atomic(target, "é", encoding="latin-1")
    assert target.read_bytes() == b"\xe9"


def test_a_failed_replace_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "regressions.json"
    target.write_text("old", encoding="utf-8")

    def fail(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_text_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["regressions.json"]


def test_text_that_cannot_be_encoded_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "ascii.txt"
    target.write_text("old", encoding="ascii")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(target, "→", encoding="ascii")
    assert target.read_text(encoding="ascii") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ascii.txt"]


def test_an_existing_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "run.sh"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o750)
    write_text_atomic(target, "new")
    assert target.stat().st_mode & 0o777 == 0o750


def test_a_missing_directory_is_an_error_not_a_stray_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_text_atomic(tmp_path / "nowhere" / "x.json", "{}")
    assert list(tmp_path.iterdir()) == []
