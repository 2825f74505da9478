"""The agent runtime: fleets drain plans exactly once, leases, cancellation, errors."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import taskorch
from perfkit.workloads.demo import DemoHandler, check_invariants, demo_subtasks, plan_demo
from taskorch.agents import (
    DatabaseWorker,
    Fleet,
    LoopLagMonitor,
    Result,
    Samples,
    WorkerClosedError,
)
from taskorch.testing import FakeClock
from tests.support import ROOT

MODES: dict[str, dict[str, Any]] = {
    "automatic": {},
    "group-thread": {"db_thread": True},
    "per-call": {"group_commit": False},
    "on-loop": {"db_thread": False},
    "small-batches": {"max_batch": 3},
}


@pytest.mark.parametrize("mode", MODES)
def test_a_fleet_drains_a_plan_with_dependencies_exactly_once(
    orch: taskorch.Orchestrator, mode: str
) -> None:
    plans = plan_demo(orch, 300, fan_in=2, width=50)
    ledger: Counter[int] = Counter()
    handler = DemoHandler()
    report = asyncio.run(Fleet(orch, handler, agents=25, ledger=ledger, **MODES[mode]).run())
    check = check_invariants(orch, plans, ledger, handler.handled)
    assert check.ok, str(check)
    assert report.counters.completed == 300 and report.counters.lost == 0
    # A completion per subtask, at least: each claims its agent's next subtask in the same call.
    assert report.calls >= 300
    assert orch.synthesize(plans[0].parent_id)["status"] == "completed"


def test_the_context_holds_dependency_results(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", demo_subtasks(20, fan_in=1, width=10))
    seen: dict[str, list[Any]] = {}

    async def handler(task: taskorch.Task, context: dict[str, Any]) -> str:
        seen[context["task"]["key"]] = [d["result"] for d in context["dependencies"]]
        return f"result of {task.key}"

    asyncio.run(Fleet(orch, handler, agents=5).run())
    assert seen["t0"] == []
    # With fan_in=1 a subtask depends on the one at its position in the layer before.
    assert seen["t10"] == ["result of t0"]


def test_a_result_carries_artifacts(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("g", [{"key": "a", "title": "t", "specialist": "s"}])

    async def handler(task: taskorch.Task, context: dict[str, Any]) -> Result:
        return Result({"ok": True}, ("report.md",))

    asyncio.run(Fleet(orch, handler).run())
    task = orch.get(plan.task_ids[0])
    assert task.result == {"ok": True} and task.artifacts == ("report.md",)


def test_a_raising_handler_is_retried_then_fails_and_blocks_dependents(
    orch: taskorch.Orchestrator,
) -> None:
    plan = orch.plan(
        "g",
        [
            {"key": "bad", "title": "t", "specialist": "s"},
            {"key": "after", "title": "t", "specialist": "s", "depends_on": ["bad"]},
            {"key": "free", "title": "t", "specialist": "s"},
        ],
    )

    async def handler(task: taskorch.Task, context: dict[str, Any]) -> str:
        if task.key == "bad":
            raise RuntimeError("boom")
        return "fine"

    report = asyncio.run(Fleet(orch, handler, agents=3, max_attempts=3).run())
    bad, after, free = (orch.get(i) for i in plan.task_ids)
    assert (bad.status, bad.attempts, bad.error) == ("failed", 3, "RuntimeError: boom")
    assert after.status == "blocked" and free.status == "completed"
    c = report.counters
    assert (c.completed, c.retried, c.failed, c.lost) == (1, 2, 1, 0)


def test_renewed_leases_outlive_their_length(tmp_path: Path) -> None:
    clock = FakeClock()
    with taskorch.open(f"sqlite:///{tmp_path}/t.db", clock=clock, lease_seconds=60) as orch:
        plan = orch.plan("g", [{"key": "a", "title": "t", "specialist": "s"}])
        fleet: Fleet

        async def handler(task: taskorch.Task, context: dict[str, Any]) -> str:
            clock.advance(40)
            assert await fleet.renew_leases() == 1
            clock.advance(40)  # 80 s after the claim: alive only thanks to the renewal
            return "done"

        fleet = Fleet(orch, handler)
        report = asyncio.run(fleet.run())
        assert report.counters.completed == 1 and report.counters.lost == 0
        assert orch.get(plan.task_ids[0]).attempts == 1


def test_an_expired_lease_is_reclaimed_and_completed_exactly_once(tmp_path: Path) -> None:
    clock = FakeClock()
    with taskorch.open(f"sqlite:///{tmp_path}/t.db", clock=clock, lease_seconds=60) as orch:
        plans = [orch.plan("g", [{"key": "a", "title": "t", "specialist": "s"}])]
        handled: Counter[int] = Counter()
        ledger: Counter[int] = Counter()

        async def handler(task: taskorch.Task, context: dict[str, Any]) -> str:
            handled[task.id] += 1
            if handled[task.id] == 1:
                clock.advance(61)  # the first run outlives its lease without renewing
            return "done"

        report = asyncio.run(Fleet(orch, handler, ledger=ledger).run())
        assert report.counters.lost == 1 and report.counters.completed == 1
        check = check_invariants(orch, plans, ledger, handled, faults=True)
        assert check.ok, str(check)
        assert orch.get(plans[0].task_ids[0]).attempts == 2
        # without faults=True the second claim is reported
        assert not check_invariants(orch, plans, ledger, handled).ok


def test_the_supervisor_renews_leases_while_handlers_run(tmp_path: Path) -> None:
    with taskorch.open(f"sqlite:///{tmp_path}/t.db", lease_seconds=0.3) as orch:
        plan = orch.plan("g", [{"key": "a", "title": "t", "specialist": "s"}])
        report = asyncio.run(Fleet(orch, DemoHandler(work_seconds=0.8), poll_interval=0.02).run())
        assert report.counters.completed == 1 and report.counters.lost == 0
        assert orch.get(plan.task_ids[0]).attempts == 1


def test_cancelled_handlers_release_their_tasks(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("g", [{"key": f"k{i}", "title": "t", "specialist": "s"} for i in range(3)])
    never = DemoHandler(work_seconds=3600)
    report = asyncio.run(Fleet(orch, never, agents=5).run(duration=0.2, grace=0))
    assert report.counters.released == 3 and report.counters.completed == 0
    tasks = orch.subtasks(plan.parent_id)
    assert {t.status for t in tasks} == {"ready"} and {t.agent for t in tasks} == {None}


def test_stop_lets_running_handlers_finish(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", [{"key": f"k{i}", "title": "t", "specialist": "s"} for i in range(50)])
    fleet: Fleet

    async def handler(task: taskorch.Task, context: dict[str, Any]) -> None:
        fleet.stop()
        await asyncio.sleep(0.01)

    fleet = Fleet(orch, handler, agents=4)
    report = asyncio.run(fleet.run())
    c = report.counters
    # the handler that ran finished; claims that landed after stop() were given back
    assert c.completed >= 1 and c.completed + c.released <= 4
    assert orch.status().subtasks.get("claimed", 0) == 0


def test_a_database_locked_past_the_busy_timeout_stops_the_fleet_with_a_clear_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    with taskorch.open(f"sqlite:///{path}", busy_timeout=0.2) as orch:
        plan_demo(orch, 10)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            with pytest.raises(taskorch.DatabaseLockedError, match="busy_timeout"):
                asyncio.run(Fleet(orch, DemoHandler(), agents=5).run())
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert orch.status().subtasks == {"ready": 10}  # nothing half-done


def test_the_worker_isolates_a_failing_call_in_a_shared_transaction(
    orch: taskorch.Orchestrator,
) -> None:
    plan = orch.plan("g", [{"key": "a", "title": "t", "specialist": "s"}])

    async def main() -> list[Any]:
        async with DatabaseWorker(orch, max_batch=10) as worker:
            calls = [
                worker.submit(orch.claim, "a1"),
                worker.submit(orch.complete, 999_999, "a1"),
                worker.submit(orch.status),
            ]
            return await asyncio.gather(*calls, return_exceptions=True)

    claimed, missing, status = asyncio.run(main())
    assert claimed.id == plan.task_ids[0]
    assert isinstance(missing, taskorch.UnknownTaskError)
    assert status.subtasks == {"claimed": 1}


def test_a_failed_commit_reaches_every_call_as_a_storage_error_naming_the_database(
    orch: taskorch.Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextlib.contextmanager
    def commit_fails(write: bool = True) -> Iterator[None]:
        yield
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(orch.store, "transaction", commit_fails)

    async def main() -> list[Any]:
        async with DatabaseWorker(orch, max_batch=10) as worker:
            calls = [worker.submit(orch.status), worker.submit(orch.claim, "a1")]
            return await asyncio.gather(*calls, return_exceptions=True)

    errors = asyncio.run(main())
    assert all(isinstance(e, taskorch.StorageError) for e in errors), errors
    assert all(str(e) == f"{orch.store.describe()}: disk on fire" for e in errors)
    assert all(isinstance(e.__cause__, RuntimeError) for e in errors)


def test_a_closed_worker_refuses_calls(orch: taskorch.Orchestrator) -> None:
    async def main() -> None:
        worker = DatabaseWorker(orch)
        async with worker:
            pass
        with pytest.raises(WorkerClosedError):
            worker.submit(orch.status)

    asyncio.run(main())


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"agents": 0}, "agents"),
        ({"agents": True}, "agents"),
        ({"agents": 2.0}, "agents"),
        ({"lease_seconds": math.nan}, "lease_seconds"),
        ({"lease_seconds": -1}, "lease_seconds"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": math.inf}, "poll_interval"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": "3"}, "max_attempts"),
        ({"specialist": ""}, "specialist"),
        ({"handler": None}, "handler"),
        ({"db_thread": "yes"}, "db_thread"),
        ({"db_thread": 1}, "db_thread"),
        ({"group_commit": None}, "group_commit"),
        ({"max_batch": 0}, "max_batch"),
        ({"max_batch": 1.5}, "max_batch"),
    ],
)
def test_fleet_arguments_are_checked(
    orch: taskorch.Orchestrator, options: dict[str, Any], argument: str
) -> None:
    given: dict[str, Any] = {"handler": DemoHandler(), **options}
    handler = given.pop("handler")
    with pytest.raises(taskorch.InvalidArgumentError) as caught:
        Fleet(orch, handler, **given)
    assert caught.value.argument == argument


def test_fleet_options_are_checked(orch: taskorch.Orchestrator) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        DatabaseWorker(orch, max_batch=0)


def test_the_lag_monitor_sees_a_blocked_loop() -> None:
    async def main() -> float:
        monitor = LoopLagMonitor(interval=0.001)
        monitor.start()
        await asyncio.sleep(0.01)
        time.sleep(0.05)  # synchronous work on the loop: exactly what the monitor must catch
        await asyncio.sleep(0.01)
        return (await monitor.stop()).max

    assert asyncio.run(main()) >= 0.04


def test_samples_stay_bounded_and_summarize() -> None:
    samples = Samples(capacity=64)
    for i in range(1000):
        samples.add(i / 1000)
    summary = samples.summary()
    assert len(samples.data) < 64 and summary.count == 1000
    assert 0.4 < summary.p50 < 0.6 and summary.p99 <= summary.max <= 0.999
    assert Samples().summary().count == 0


def test_the_readme_fleet_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "Fleet(" in b]
    assert blocks, "the README shows a fleet"
    exec(compile(blocks[0], "README.md", "exec"), {"__name__": "readme"})
    assert "'completed': 1000" in capsys.readouterr().out


def test_the_module_example_runs() -> None:
    import doctest

    import taskorch.agents

    result = doctest.testmod(taskorch.agents)
    assert result.attempted > 0 and result.failed == 0
