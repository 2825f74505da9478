"""The README's Python example runs as written; the README and scripts/quickstart publish the
site with the one command; the README lists every perfkit command and its exit statuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from perfkit.commands import COMMANDS
from perfkit.kit.exits import MEANINGS
from tests.support import ROOT

README = ROOT / "README.md"


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has a Python example"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    summary = namespace["summary"]
    assert isinstance(summary, dict) and summary["results"][0]["result"] == {"spec": "..."}
    assert (tmp_path / "work" / "taskorch.db").is_file()


# A command line that publishes the site, or does one of its steps alone.
PUBLISHING = re.compile(r"asv publish|asv_assets\.py|perfkit\.sitedata|scripts/publish\.py")


def publishing_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if PUBLISHING.search(line.split("#", 1)[0])]


def test_the_readme_publishes_with_the_one_command() -> None:
    """asv's own ``asv publish`` leaves its step detection on the regressions page; the one
    command (scripts/publish.py) rewrites it by the history's rule and vendors the libraries."""
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    lines = [line for block in blocks for line in publishing_lines(block)]
    assert lines, "the README shows how to publish the site"
    for line in lines:
        command = line.split("#", 1)[0].split()
        assert command == [".venv/bin/python", "scripts/publish.py"], line


def test_quickstart_publishes_with_the_one_command() -> None:
    lines = publishing_lines((ROOT / "scripts" / "quickstart").read_text(encoding="utf-8"))
    assert [line.split(">", 1)[0].split() for line in lines] == [
        [".venv/bin/python", "scripts/publish.py"]
    ]


def test_the_readme_lists_every_perfkit_command() -> None:
    listed = re.findall(r"^python -m perfkit ([a-z-]+)", README.read_text(encoding="utf-8"), re.M)
    assert listed == list(COMMANDS)


def test_the_readme_gives_the_exit_status_table() -> None:
    rows = re.findall(r"^\| `(\d+)` \| (.*) \|$", README.read_text(encoding="utf-8"), re.M)
    assert rows == [(str(int(status)), meaning) for status, meaning in MEANINGS.items()]
