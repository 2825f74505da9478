"""A SQLite URL names one file or is refused: its path's escapes are strict UTF-8 without NUL."""

from __future__ import annotations

from pathlib import Path

import pytest

import taskorch


@pytest.mark.parametrize("escape", ["%ff", "%fe", "%c3", "%80"])
def test_an_escape_that_is_not_utf8_is_refused_not_replaced(tmp_path: Path, escape: str) -> None:
    url = f"sqlite:///{tmp_path}/a{escape}.db"
    with pytest.raises(taskorch.ConfigurationError, match="not UTF-8") as refused:
        taskorch.open(url)
    assert url in str(refused.value)
    assert list(tmp_path.iterdir()) == []  # no file was created


def test_a_nul_in_the_path_is_a_configuration_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a%00b.db"
    with pytest.raises(taskorch.ConfigurationError, match="NUL") as refused:
        taskorch.open(url)
    assert url in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_valid_escapes_still_name_their_file(tmp_path: Path) -> None:
    with taskorch.open(f"sqlite:///{tmp_path}/caf%C3%A9%20bar.db") as orch:
        orch.plan("g", [{"key": "a", "title": "A", "specialist": "s"}])
    assert (tmp_path / "café bar.db").is_file()
