"""Every script and tool is a working entry point: run as a file, as the README shows, it prints
its help and exits 0, it is executable, and it hands over to a command of ``python -m perfkit``,
whose commands all give the same exit status for bad usage."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfkit.commands import COMMANDS, STRESS, Exit, main
from tests.support import ROOT

ENTRY_POINTS = sorted(
    [*ROOT.glob("scripts/*.py"), *ROOT.glob("scripts/stress/*.py"), *ROOT.glob("tools/**/*.py")]
)


def test_every_script_is_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in ENTRY_POINTS}
    assert {
        "scripts/nightly.py",
        "scripts/generate_performance_report.py",
        "tools/diagnostics/performance_monitor.py",
        "scripts/stress/agents.py",
    } <= names


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_script_prints_its_help(path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120,
        cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage:" in proc.stdout.lower()


def handed_over_to(path: Path) -> list[str]:
    """The command (and stress run) a script names in its call of ``perfkit.commands.run``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "run"]  # fmt: skip
    assert len(calls) == 1, f"{path.name} must call perfkit.commands.run once"
    return [n.value for n in ast.walk(calls[0]) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]  # fmt: skip


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_script_is_a_thin_executable_entry_point_over_one_command(path: Path) -> None:
    names = handed_over_to(path)
    assert names[0] in COMMANDS
    if names[0] == "stress":
        assert names[1] in STRESS
    assert os.access(path, os.X_OK), f"{path} is not executable"
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 30


def test_every_command_but_the_peer_comparison_and_the_changepoint_score_has_a_script() -> None:
    named = {tuple(handed_over_to(path)[:2]) for path in ENTRY_POINTS}
    scripted = {n[0] for n in named} | {f"stress {n[1]}" for n in named if n[0] == "stress"}
    wanted = {*COMMANDS, *(f"stress {name}" for name in STRESS)}
    # validate and fleet are run as taskorch perf validate and taskorch fleet; regressions and
    # evaluate-changepoints are run by the nightly and by hand.
    assert wanted - scripted == {"validate", "fleet", "regressions"}


def test_the_help_lists_every_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "perfkit", "--help"], capture_output=True, text=True, timeout=60,
        cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ")}
    assert set(COMMANDS) <= listed
    assert "64" in proc.stdout


EVERY_COMMAND = [[name] for name in COMMANDS if name != "stress"] + [
    ["stress", name] for name in STRESS
]


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_bad_usage_is_the_same_status_for_every_command(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # outside any repository: nothing to write a report into
    assert main([*command, "--no-such-option"]) == Exit.USAGE == 64


@pytest.mark.parametrize("argv", [[], ["no-such-command"], ["stress"], ["stress", "nothing"]])
def test_a_missing_or_unknown_command_is_bad_usage(argv: list[str]) -> None:
    assert main(argv) == Exit.USAGE


@pytest.mark.parametrize("command", [["count"], ["stress", "agents"]], ids=" ".join)
def test_a_command_run_by_the_entry_point_is_named_so_in_its_usage(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m perfkit {' '.join(command)} ")
