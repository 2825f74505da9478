"""``taskorch perf validate`` checks every option and file before the run starts: bad usage
exits 2 with a message naming it, with nothing run and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfkit.validation.spec import Spec
from taskorch.cli import main
from tests.hostile import DEEP_JSON, DEEP_TOML, hostile_files


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []

    def record(spec: Spec, directory: Path) -> dict[str, object]:
        ran.append(spec.target)
        return {"passed": True}

    monkeypatch.setattr("perfkit.validation.session.run_spec", record)
    return ran


def status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return int(str(exc.code))


def validate(tmp_path: Path, *options: str) -> int:
    db = f"sqlite:///{tmp_path}/v.db"
    return status(["perf", "validate", "--quick", "--skip", "leaks", "--db", db, *options])


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], ran: list[str],
            *options: str) -> str:  # fmt: skip
    assert validate(tmp_path, *options) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ran == []
    assert not (tmp_path / "v.db").exists()
    return err


def test_a_report_path_that_is_a_file_is_refused_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str]
) -> None:
    report = tmp_path / "report.txt"
    report.write_text("not a folder")
    err = refused(tmp_path, capsys, runs, "--report", str(report))
    assert f"--report {report}" in err
    err = refused(tmp_path, capsys, runs, "--report", str(report / "sub"))
    assert f"--report {report / 'sub'}" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "1e9", "soon"])
def test_a_bad_duration_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str], value: str
) -> None:
    assert "--duration" in refused(tmp_path, capsys, runs, "--duration", value)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot read budgets file"),
        (b"[budgets\n", "cannot read budgets file"),
        (b"\xff\xfe[budgets]", "cannot read budgets file"),
        (b"[budgets]\ntask_creation_ms = nan\n", "must be finite"),
        (b"[budgets]\nspeed = 1\n", "unknown budget"),
        (b"budgets = 5\n", "'budgets' must be a table"),
        (b"[budget]\ntask_creation_ms = 1\n", "unknown key(s) ['budget']"),
        (b"[budgets]\ntask_creation_ms = -1\n", "'task_creation_ms' must be above 0"),
        (b"[budgets]\ntask_creation_ms = 0\n", "'task_creation_ms' must be above 0"),
        (b"[budgets]\ndatabase_query_ms = true\n", "'database_query_ms' must be a number"),
        (b"[budgets]\nconcurrent_agents = 60.5\n", "'concurrent_agents' must be an integer"),
        (b"[budgets]\nleaks = -1\n", "'leaks' must be 0"),
        (b'[budgets]\ntask_creation_ms = "5"\n', "'task_creation_ms' must be a number"),
    ],
)
def test_a_bad_budgets_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str],
    content: bytes | None, words: str,
) -> None:  # fmt: skip
    path = tmp_path / "budgets.toml"
    if content is not None:
        path.write_bytes(content)
    err = refused(tmp_path, capsys, runs, "--budgets", str(path))
    assert "--budgets" in err and str(path) in err and words in err


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "does not exist"), (b"{oops", "not valid JSON"), (b"\xff{}", "not UTF-8"),
     (b'[{"leaked": "maybe"}]', "entry 0.leaked")],
)  # fmt: skip
def test_a_bad_leakcheck_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str],
    content: bytes | None, words: str,
) -> None:  # fmt: skip
    path = tmp_path / "leaks.json"
    if content is not None:
        path.write_bytes(content)
    err = refused(tmp_path, capsys, runs, "--leakcheck-json", str(path))
    assert "--leakcheck-json" in err and str(path) in err and words in err


@pytest.mark.parametrize("option", ["--budgets", "--leakcheck-json"])
def test_a_fifo_a_device_or_a_deeply_nested_input_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str], option: str
) -> None:
    deep = DEEP_TOML if option == "--budgets" else DEEP_JSON
    with hostile_files(tmp_path, deep) as files:
        for path, words in files.values():
            err = refused(tmp_path, capsys, runs, option, str(path))
            assert option in err and str(path) in err and words in err


def test_a_bad_database_url_is_a_taskorch_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str]
) -> None:
    code = status(["perf", "validate", "--quick", "--skip", "leaks", "--db", "nosuch://x"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("taskorch: ") and "Traceback" not in err
    assert runs == []


def test_the_help_gives_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert status(["perf", "validate", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(s in out for s in ("0 every criterion", "3 a criterion", "1 a taskorch error",
                                  "2 bad usage", "130 interrupted"))  # fmt: skip


@pytest.mark.parametrize("value", ["nan", "0", "-5", "1e9", "soon"])
def test_a_bad_capacity_budget_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str], value: str
) -> None:
    assert "--capacity" in refused(tmp_path, capsys, runs, "--capacity", value)


def test_capacity_adds_the_search_to_the_run_and_is_not_in_a_default_one(
    tmp_path: Path, runs: list[str]
) -> None:
    from perfkit.commands.cli import validation_specs

    # exit 3: the fake run measures nothing; what matters here is which specs ran
    assert validate(tmp_path) == 3 and "agent_capacity" not in runs
    runs.clear()
    assert validate(tmp_path, "--capacity", "30") == 3 and runs[-1] == "agent_capacity"
    [search] = [s for s in validation_specs(10, True, 30.0) if s["target"] == "agent_capacity"]
    assert search["budget_seconds"] == 30.0


def test_a_run_with_every_criterion_skipped_judged_nothing_and_does_not_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], runs: list[str]
) -> None:
    from perfkit.validation.slo import CRITERIA

    every = [a for c in CRITERIA for a in ("--skip", c.key)]
    assert validate(tmp_path, *every) == 3
    out = capsys.readouterr().out
    assert "Gate: **FAIL**" in out and "Every criterion was skipped: nothing was judged" in out
    assert validate(tmp_path, *every[:-2]) == 3  # one left, which the fake run did not measure
