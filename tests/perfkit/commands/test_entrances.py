"""The entrances of the toolkit, each as a user takes it: ``python -m perfkit COMMAND`` (and
the scripts, which hand over to it) and the shell scripts of ``scripts/``. Every option with a
default says it in the help; bad usage exits 64 naming what was wrong; an output that cannot be
written is refused before the run; a missing tool or package is a message, not a traceback."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from perfkit.commands import COMMANDS, STRESS, Exit, main
from perfkit.kit.options import Parser
from tests.support import ROOT

EVERY_COMMAND = [[name] for name in COMMANDS if name != "stress"] + [
    ["stress", name] for name in STRESS
]


class Built(Exception):
    """Raised where a command would read its arguments: its parser is built."""


def parser_of(command: list[str], monkeypatch: pytest.MonkeyPatch) -> Parser:
    """The parser ``python -m perfkit COMMAND`` reads its arguments with."""
    built: list[Parser] = []

    def capture(self: Parser, *args: object, **kwargs: object) -> NoReturn:
        built.append(self)
        raise Built

    monkeypatch.setattr(Parser, "parse_args", capture)
    monkeypatch.setattr(Parser, "parse_known_args", capture)
    with pytest.raises(Built):
        main(command)
    return built[0]


def _with_a_default(action: argparse.Action) -> bool:
    default = action.default
    return (
        bool(action.option_strings)
        and action.nargs != 0
        and action.help is not argparse.SUPPRESS
        and default is not None
        and not isinstance(default, bool)
        and default not in ([], (), "")
    )


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_the_help_says_the_default_of_every_option_that_has_one(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = parser_of(command, monkeypatch)
    text = parser.format_help()
    options = [a for a in parser._actions if _with_a_default(a)]
    for action in options:
        start = text.index(f"  {', '.join(action.option_strings)}")
        end = text.find("\n  -", start + 1)
        block = " ".join(text[start : None if end < 0 else end].split())
        assert "default" in block, f"{' '.join(command)}: {block}"


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_bad_usage_names_the_bad_argument(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--no-such-option"]) == Exit.USAGE
    assert "--no-such-option" in capsys.readouterr().err


SHELL_SCRIPTS = ["pg-server", "quickstart", "test"]


@pytest.mark.parametrize("name", SHELL_SCRIPTS)
def test_a_shell_script_prints_its_help_and_does_nothing_else(name: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": str(tmp_path / "no-such-python")}  # were it to set up .venv
    proc = subprocess.run([str(ROOT / "scripts" / name), "--help"], capture_output=True,
                          text=True, timeout=60, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"usage: scripts/{name}" in proc.stdout and proc.stderr == ""


BAD_USAGE = [("pg-server", ["bogus"]), ("pg-server", []), ("pg-server", ["stop"]),
             ("quickstart", ["--bogus"])]  # fmt: skip


@pytest.mark.parametrize(("name", "argv"), BAD_USAGE)
def test_a_shell_script_refuses_bad_usage_with_64_naming_it(name: str, argv: list[str]) -> None:
    proc = subprocess.run([str(ROOT / "scripts" / name), *argv], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 64
    assert proc.stdout == "" and (argv[0] if argv else "a command is needed") in proc.stderr


OUTPUTS = [
    (["monitor"], "--out", "folder"),
    (["report"], "--out", "folder"),
    (["side-by-side"], "--dir", "folder"),
    (["stress", "crash"], "--dir", "folder"),
    (["count"], "--json", "file"),
    (["peer"], "--json", "file"),
    *((["stress", name], "--json", "file")
      for name in ("ab", "agents", "compare", "crash", "large-graph", "multiprocess")),
]  # fmt: skip


@pytest.mark.parametrize(("command", "option", "kind"), OUTPUTS, ids=lambda v: str(v))
def test_an_output_that_cannot_be_written_is_refused_before_the_run(
    command: list[str], option: str, kind: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    bad = a_file / "inside" if kind == "folder" else tmp_path / "no-such-folder" / "out.json"
    extra = {"ab": ["a", "b"], "compare": ["lease"]}.get(command[-1], [])
    assert main([*command, *extra, option, str(bad)]) == Exit.USAGE
    err = capsys.readouterr().err
    assert f"{option}: cannot write" in err and "Traceback" not in err


def test_a_missing_package_is_a_message_and_exit_4_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)  # makes `import psutil` fail
    code = main(["monitor", "--duration", "0.2", "--out", str(tmp_path / "monitor")])
    assert code == Exit.CANNOT_RUN
    err = capsys.readouterr().err
    assert "python -m perfkit monitor: cannot run: " in err and "pip install" in err


def test_a_guarded_commands_message_names_the_command_as_it_was_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # outside any repository
    assert main(["calibrate"]) == Exit.CANNOT_RUN
    err = capsys.readouterr().err
    assert err.startswith("python -m perfkit calibrate: ConfigurationError: not inside a git")


def test_a_reader_that_goes_away_stops_the_command_quietly() -> None:
    # what `python -m perfkit figures | head -1` does when head has gone before the table comes
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfkit", "figures", "9295de9", "--machine", "ref-2core"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # no reader left: the command's first write fails
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=120) == Exit.CLOSED_PIPE
    assert "Traceback" not in err and "BrokenPipeError" not in err


MARKUP = re.compile(r"``|:[a-z]+(:[a-z]+)?:`|`[^`\s][^`]*`")


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_the_help_is_plain_text(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A help is read in a terminal: no Sphinx roles or backquoted literals from the
    docstrings it is made of."""
    try:
        status = main([*command, "--help"])
    except SystemExit as exc:  # argparse's own way out of --help
        status = int(exc.code or 0)
    assert status == Exit.OK
    text = capsys.readouterr().out
    assert "usage:" in text
    assert not MARKUP.search(text), f"{' '.join(command)}: {MARKUP.search(text)}"
