"""Measuring never touches the user's work: ``perf validate`` and ``taskorch fleet`` on a
database that already holds a real plan, in a normal run, a run that breaks off midway and
repeated runs; and bad usage of ``fleet`` refused before anything is written."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import taskorch
from perfkit import OrchestrationSession
from perfkit.validation.spec import Spec
from taskorch import TaskStatus
from taskorch.cli import main
from tests.hostile import hostile_files
from tests.support import ROOT

# The specialists the toolkit's own subtasks had before they got one of their own.
OLD_NAMES = ("benchmark", "stress_test", "memory", "researcher", "implementer", "tester")


@pytest.fixture
def user_plan(db_url: str) -> Iterator[tuple[str, list[int]]]:
    """A database holding a real plan: ready subtasks of other specialists and of the names
    the toolkit used before, and one waiting on another."""
    subtasks: list[dict[str, Any]] = [
        {"key": name, "title": f"real work for {name}", "specialist": name} for name in OLD_NAMES
    ]
    subtasks.append(
        {"key": "later", "title": "after research", "specialist": "writer",
         "depends_on": ["researcher"]}
    )  # fmt: skip
    with taskorch.open(db_url) as orch:
        plan = orch.plan("the user's goal", subtasks, context={"real": True})
    yield db_url, list(plan.task_ids)


def assert_untouched(url: str, ids: list[int]) -> None:
    with taskorch.open(url) as orch:
        tasks = [orch.get(i) for i in ids]
        ready = {t.id for t in orch.tasks(status="ready", limit=10_000)}
        claimed = orch.tasks(status="claimed", limit=10_000)
    for task in tasks:
        expected = TaskStatus.PENDING if task.key == "later" else TaskStatus.READY
        assert (task.status, task.attempts, task.result, task.agent) == (expected, 0, None, None)
    assert not claimed, f"left claimed: {claimed}"
    assert ready == {t.id for t in tasks if t.key != "later"}, "the toolkit left work ready"


# -- perf validate ---------------------------------------------------------------------------


def fast(spec: Spec, directory: Path) -> dict[str, object]:
    return {"mean_ms": 0.1, "rss_mb": 1.0, "active_agents": 50, "double_claims": 0,
            "lost_tasks": 0, "errors": 0, "passed": True}  # fmt: skip


def validate(url: str) -> int:
    return main(["perf", "validate", "--quick", "--skip", "leaks", "--duration", "1",
                 "--json", "--db", url])  # fmt: skip


def test_perf_validate_leaves_the_users_plan_alone(
    user_plan: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ids = user_plan
    monkeypatch.setattr("perfkit.validation.session.run_spec", fast)
    assert validate(url) == 0
    assert_untouched(url, ids)


def test_perf_validate_runs_again_and_again(
    user_plan: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ids = user_plan
    monkeypatch.setattr("perfkit.validation.session.run_spec", fast)
    assert [validate(url) for _ in range(3)] == [0, 0, 0]
    assert_untouched(url, ids)
    with taskorch.open(url) as orch:
        assert orch.status()["completed"] == 3 * 4  # each run's four specs, nothing else


def test_perf_validate_interrupted_midway_leaves_nothing_claimed_or_ready(
    user_plan: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ids = user_plan
    calls: list[str] = []

    def interrupted(spec: Spec, directory: Path) -> dict[str, object]:
        calls.append(spec.target)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the second spec runs
        return fast(spec, directory)

    monkeypatch.setattr("perfkit.validation.session.run_spec", interrupted)
    assert validate(url) == 130
    assert_untouched(url, ids)
    with taskorch.open(url) as orch:
        assert orch.status()["cancelled"] == 3  # the spec broken off and the two not run
    monkeypatch.setattr("perfkit.validation.session.run_spec", fast)
    assert validate(url) == 0  # and the next run is not confused by what this one left


def test_a_session_that_raises_midway_cancels_what_it_holds(
    user_plan: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ids = user_plan
    monkeypatch.setattr("perfkit.validation.session.run_spec", fast)
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        if len(lines) == 3:  # the second spec starts
            raise RuntimeError("the terminal went away")

    session = OrchestrationSession("s", db=url, progress=progress)
    specs = [{"type": "benchmark", "target": "task_creation", "iterations": 5}] * 3
    with pytest.raises(RuntimeError, match="terminal"):
        asyncio.run(session.execute_performance_tests(specs))
    assert_untouched(url, ids)
    with taskorch.open(url) as orch:
        assert (orch.status()["completed"], orch.status()["cancelled"]) == (1, 2)


# -- taskorch fleet --------------------------------------------------------------------------


def fleet(url: str, *options: str) -> int:
    return main(["fleet", "--agents", "2", "--tasks", "30", "--db", url, *options])


def test_fleet_completes_only_its_own_demo_work(user_plan: tuple[str, list[int]]) -> None:
    url, ids = user_plan
    assert fleet(url) == 0
    assert fleet(url, "--fan-in", "1") == 0
    assert_untouched(url, ids)
    with taskorch.open(url) as orch:
        assert orch.status()["completed"] == 60


def test_fleet_json_is_the_whole_standard_output(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fleet(db_url, "--json") == 0
    out, err = capsys.readouterr()
    report = json.loads(out)  # nothing else on stdout: a pipe to a JSON reader works
    assert report["completed"] == 30 and report["agents"] == 2
    assert "planned 30 subtasks" in err


def test_a_fleet_leaves_another_fleets_subtasks_alone(db_url: str) -> None:
    from perfkit.commands.fleet_command import DEMO_SPECIALIST

    with taskorch.open(db_url) as orch:  # what a fleet running at the same time has planned
        other = orch.plan("another run", [{"key": "x", "title": "its work",
                                            "specialist": DEMO_SPECIALIST}])  # fmt: skip
    assert fleet(db_url) == 0
    with taskorch.open(db_url) as orch:
        [task] = orch.subtasks(other.parent_id)
        assert (task.status, task.attempts) == (TaskStatus.READY, 0)


def test_fleet_of_a_plan_file_works_that_plan_only(
    user_plan: tuple[str, list[int]], tmp_path: Path
) -> None:
    url, ids = user_plan
    plan = tmp_path / "plan.json"
    plan.write_text('{"goal": "g", "subtasks": [{"key": "a", "title": "a",'
                    ' "specialist": "implementer"}]}')  # fmt: skip
    assert fleet(url, "--plan", str(plan)) == 0
    assert_untouched(url, ids)


def test_fleet_broken_off_midway_leaves_nothing_claimed_or_ready(
    user_plan: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ids = user_plan
    from perfkit.workloads.demo import DemoHandler

    class Breaks(DemoHandler):
        async def __call__(self, task: taskorch.Task, context: dict[str, Any]) -> Any:
            if sum(self.handled.values()) == 5:
                raise KeyboardInterrupt  # what Ctrl-C does to a running handler
            return await super().__call__(task, context)

    monkeypatch.setattr("perfkit.commands.fleet_command.DemoHandler", Breaks)
    assert fleet(url) == 130
    assert_untouched(url, ids)
    monkeypatch.undo()
    assert fleet(url) == 0
    assert_untouched(url, ids)


def test_a_terminated_fleet_cancels_its_plans(user_plan: tuple[str, list[int]]) -> None:
    url, ids = user_plan
    command = [sys.executable, "-m", "taskorch", "fleet", "--agents", "2", "--tasks", "500",
               "--work-ms", "20", "--db", url]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as proc:  # fmt: skip
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("planned 500 subtasks")
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    assert_untouched(url, ids)
    with taskorch.open(url) as orch:
        assert orch.status()["cancelled"] > 0


BAD_OPTIONS = [
    ("--agents", "0"), ("--agents", "-3"), ("--agents", "x"), ("--agents", "1e9"),
    ("--tasks", "0"), ("--tasks", "-1"), ("--tasks", "many"), ("--tasks", str(10**12)),
    ("--fan-in", "-1"), ("--fan-in", "1.5"), ("--work-ms", "-1"), ("--work-ms", "nan"),
    ("--work-ms", "inf"), ("--duration", "0"), ("--duration", "-2"), ("--duration", "nan"),
    ("--duration", "inf"), ("--lease", "0"), ("--lease", "nan"), ("--lease", "-5"),
    ("--max-batch", "0"), ("--max-batch", "ten"),
]  # fmt: skip


def exit_status(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse refuses bad usage this way
        return int(str(exc.code))


@pytest.mark.parametrize(("option", "value"), BAD_OPTIONS)
def test_bad_fleet_options_exit_2_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    db = tmp_path / "never.db"
    assert exit_status(["fleet", "--db", f"sqlite:///{db}", option, value]) == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err
    assert not db.exists()


def test_bad_fleet_options_leave_an_existing_database_as_it_was(
    user_plan: tuple[str, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, ids = user_plan
    assert exit_status(["fleet", "--agents", "0", "--db", url]) == 2
    assert_untouched(url, ids)
    with taskorch.open(url) as orch:
        assert orch.status().total == len(ids)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "No such file"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"[1, 2]", "a JSON object"),
        (b'{"goal": "g", "subtasks": "abc"}', "a JSON object"),
    ],
)
def test_a_missing_or_bad_plan_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, why: str
) -> None:
    plan = tmp_path / "plan.json"
    if content is not None:
        plan.write_bytes(content)
    db = tmp_path / "never.db"
    assert exit_status(["fleet", "--plan", str(plan), "--db", f"sqlite:///{db}"]) == 2
    err = capsys.readouterr().err
    assert str(plan) in err and why in err and "Traceback" not in err
    assert not db.exists()


def test_a_killed_runs_leftovers_are_cancelled_not_run(
    user_plan: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ids = user_plan
    with taskorch.open(url) as orch:  # what a SIGKILLed run leaves once its lease ran out
        left = orch.plan("killed run", [{"key": "spec-0", "title": "t",
                                         "specialist": "perfkit-validation"}])  # fmt: skip
    ran: list[str] = []
    monkeypatch.setattr(
        "perfkit.validation.session.run_spec", lambda s, d: ran.append(s.target) or fast(s, d)
    )
    assert validate(url) == 0
    assert ran == ["task_creation", "database_operations", "concurrent_agents", "baseline"]
    assert_untouched(url, ids)
    with taskorch.open(url) as orch:
        assert orch.get(left.task_ids[0]).status is TaskStatus.CANCELLED


def test_a_fifo_a_device_or_a_deeply_nested_plan_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "never.db"
    with hostile_files(tmp_path) as files:
        for path, words in files.values():
            assert exit_status(["fleet", "--plan", str(path), "--db", f"sqlite:///{db}"]) == 2
            err = capsys.readouterr().err
            assert f"plan file {path}" in err and words in err and "Traceback" not in err
    assert not db.exists()
