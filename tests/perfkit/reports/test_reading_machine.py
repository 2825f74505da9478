"""Which machine's results a command that reads them reads, the same for ``report`` and
``figures``: the one named (``--machine``, else ``$TASKORCH_ASV_MACHINE``), which must have
results; else this host when it has some; else the machine with the most (on a fresh clone, the
kept reference's). A named machine without results is refused, naming those that have some."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from perfkit.commands import Exit, run
from perfkit.kit.options import UsageError
from perfkit.verdict.history import reading_machine
from tests.reports import write_asv

pytest.importorskip("matplotlib")


@pytest.fixture
def results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results folder as on a fresh clone: one machine, ``box``, and not this host."""
    monkeypatch.delenv("TASKORCH_ASV_MACHINE", raising=False)
    monkeypatch.setattr("platform.node", lambda: "thishost")
    folder = tmp_path / ".asv" / "results"
    write_asv(folder, [1e-5, 1e-5, 1e-5], [5e-6, 5e-6, 5e-6])
    return folder


def copy_machine(results: Path, name: str, files: int) -> None:
    """A second machine holding ``files`` of ``box``'s result files."""
    (results / name).mkdir()
    shutil.copy(results / "box" / "machine.json", results / name / "machine.json")
    kept = sorted(p for p in (results / "box").glob("*.json") if p.name != "machine.json")
    for path in kept[:files]:
        shutil.copy(path, results / name / path.name)


def test_a_fresh_clone_reads_the_machine_that_has_results(results: Path) -> None:
    assert reading_machine(results, None) is None  # load_history's pick: the most results
    copy_machine(results, "small", 1)
    assert reading_machine(results, None) is None


def test_this_host_is_read_when_it_has_results(results: Path) -> None:
    copy_machine(results, "thishost", 1)  # fewer than box: this host is still the one meant
    assert reading_machine(results, None) == "thishost"
    assert reading_machine(results, "box") == "box"


def test_a_named_machine_without_results_is_refused_naming_those_with_some(
    results: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_machine(results, "small", 1)
    with pytest.raises(UsageError, match=r"--machine nosuch: .*machines with results: box, small"):
        reading_machine(results, "nosuch")
    monkeypatch.setenv("TASKORCH_ASV_MACHINE", "elsewhere")
    with pytest.raises(UsageError, match=r"\$TASKORCH_ASV_MACHINE=elsewhere: no results"):
        reading_machine(results, None)
    assert reading_machine(results, "small") == "small"  # the option wins over the variable
    with pytest.raises(UsageError, match="no machine has any"):
        reading_machine(results.parent / "empty", "box")


def report(root: Path, *extra: str) -> int:
    return run("report", ["--repo", str(root), "--out", str(root / "out"), *extra])


def test_report_reads_the_machine_with_results_by_default_and_says_which(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = results.parents[1]
    assert report(root) == Exit.OK
    assert "asv history        found (machine box)" in capsys.readouterr().out


def test_report_refuses_a_machine_without_results_and_writes_nothing(
    results: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = results.parents[1]
    assert report(root, "--machine", "nosuch") == Exit.USAGE
    err = capsys.readouterr().err
    assert "--machine nosuch: no results" in err and "machines with results: box" in err
    assert "nothing written" in err and not (root / "out").exists()


@pytest.mark.parametrize("command", ["report", "figures"])
def test_the_help_of_each_reading_command_says_the_default(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit, match="0"):
        run(command, ["--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "$TASKORCH_ASV_MACHINE; else this host" in said
    assert "else the machine with the most results" in said


@pytest.mark.parametrize("command", ["nightly", "calibrate"])
def test_the_help_of_each_writing_command_says_the_default(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("platform.node", lambda: "thishost")
    with pytest.raises(SystemExit, match="0"):
        run(command, ["--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "(default: $TASKORCH_ASV_MACHINE, else this host's name, 'thishost';" in said
