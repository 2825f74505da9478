"""A fleet never stalls silently, and faults in its database thread end the run with the error,
nothing lost: every subtask completed exactly once or still ready/pending, nothing left claimed
(or, where the database cannot be written at all, claimed under a lease that runs out)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import taskorch
from taskorch.agents import Fleet
from taskorch.testing import FakeClock
from tests.support import chain

BOUND = 30  # seconds: a run that has not ended by then hangs; the test fails instead of waiting


def independent(n: int) -> list[dict[str, object]]:
    return [{"key": f"i{i}", "title": f"t{i}", "specialist": "s"} for i in range(n)]


async def quick(task: taskorch.Task, context: dict[str, Any]) -> str:
    await asyncio.sleep(0)
    return f"done {task.key}"


def run(fleet: Fleet, **options: Any) -> taskorch.agents.FleetReport:
    return asyncio.run(asyncio.wait_for(fleet.run(**options), BOUND))


def states(orch: taskorch.Orchestrator) -> dict[int, taskorch.Task]:
    return {t.id: t for t in orch.tasks(limit=10_000) if not t.is_parent}


def assert_nothing_lost(
    orch: taskorch.Orchestrator, ledger: Counter[int], claimed: int = 0
) -> None:
    """Completed once (and counted) or ready/pending; at most ``claimed`` left claimed."""
    tasks = states(orch)
    assert all(n == 1 for n in ledger.values()), ledger
    completed = {i for i, t in tasks.items() if t.status is taskorch.TaskStatus.COMPLETED}
    assert completed == set(ledger)
    left = Counter(t.status.value for i, t in tasks.items() if i not in completed)
    assert set(left) <= {"ready", "pending", "claimed"}, left
    assert left["claimed"] <= claimed, left


def finish(orch: taskorch.Orchestrator, clock: FakeClock, ledger: Counter[int]) -> None:
    """Let any lease left behind run out, drain the rest: each subtask ends completed once."""
    clock.advance(3600)
    run(Fleet(orch, quick, agents=3, ledger=ledger, name="second"))
    tasks = states(orch)
    assert all(t.status is taskorch.TaskStatus.COMPLETED for t in tasks.values())
    assert ledger == Counter(dict.fromkeys(tasks, 1))


def test_waiting_on_a_lease_held_elsewhere_ends_with_a_stall_error(
    orch: taskorch.Orchestrator,
) -> None:
    orch.plan("g", independent(6))
    outside = orch.claim("outsider", lease_seconds=3600)
    assert outside is not None
    ledger: Counter[int] = Counter()
    fleet = Fleet(orch, quick, agents=3, ledger=ledger, stall_timeout=0.3, poll_interval=0.02)
    with pytest.raises(taskorch.FleetStalledError) as caught:
        run(fleet)
    message = str(caught.value)
    assert f"#{outside.id} by 'outsider' (lease ends in 3600s)" in message, message
    assert "the database worker is idle, 0 calls queued" in message
    assert len(ledger) == 5
    assert_nothing_lost(orch, ledger, claimed=1)
    assert orch.get(outside.id).agent == "outsider"


def test_a_stall_is_raised_one_stall_timeout_after_the_last_progress(
    orch: taskorch.Orchestrator,
) -> None:
    orch.plan("g", [{"key": "a", "title": "t", "specialist": "tester"}])
    fleet = Fleet(orch, quick, specialist="coder", stall_timeout=0.6, poll_interval=0.02)
    started = time.monotonic()
    with pytest.raises(taskorch.FleetStalledError) as caught:
        run(fleet)
    elapsed = time.monotonic() - started
    assert 0.6 <= elapsed < 1.0, elapsed  # not twice stall_timeout
    reported = float(re.search(r"nothing finished for ([0-9.]+)s", str(caught.value))[1])  # type: ignore[index]
    assert abs(reported - elapsed) < 0.2, (reported, elapsed)


def test_ready_work_for_another_specialist_is_a_stall_not_a_silent_wait(
    orch: taskorch.Orchestrator,
) -> None:
    orch.plan("g", [{"key": "a", "title": "t", "specialist": "tester"}])
    fleet = Fleet(orch, quick, specialist="coder", stall_timeout=0.2, poll_interval=0.02)
    with pytest.raises(taskorch.FleetStalledError, match=r"1 ready subtask.*'coder'"):
        run(fleet)


def test_slow_handlers_are_not_a_stall(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", independent(2))

    async def slow(task: taskorch.Task, context: dict[str, Any]) -> str:
        await asyncio.sleep(0.5)
        return "ok"

    report = run(Fleet(orch, slow, agents=1, stall_timeout=0.1, poll_interval=0.02))
    assert report.counters.completed == 2


def test_a_hung_database_thread_is_reported_with_its_call_and_queue(
    orch: taskorch.Orchestrator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch.plan("g", independent(10))
    gate = threading.Event()
    real_claim = orch.claim

    def hung_claim(*args: Any, **kwargs: Any) -> taskorch.Task | None:
        gate.wait(BOUND)
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(orch, "claim", hung_claim)
    ledger: Counter[int] = Counter()
    # On the thread: a call stuck on the loop would stop the loop itself, stall checks included.
    fleet = Fleet(
        orch,
        quick,
        agents=4,
        ledger=ledger,
        stall_timeout=0.3,
        poll_interval=0.02,
        db_thread=True,
    )
    try:
        with pytest.raises(taskorch.FleetStalledError) as caught:
            run(fleet, grace=0.1)
    finally:
        gate.set()
    message = str(caught.value)
    assert "did not answer" in message and "in Fleet._claim for" in message, message
    assert "calls queued" in message
    thread = fleet.worker._thread
    assert thread is not None
    thread.join(BOUND)
    assert not thread.is_alive()  # it ran the call it was stuck in, and no further one
    monkeypatch.setattr(orch, "claim", real_claim)
    assert_nothing_lost(orch, ledger, claimed=1)
    finish(orch, clock, ledger)


class Crash(BaseException):
    """Not an Exception: what used to kill the database thread and leave every agent waiting."""


@pytest.mark.parametrize("db_thread", [None, True, False])
def test_an_error_that_kills_the_database_thread_ends_the_run(
    orch: taskorch.Orchestrator,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    db_thread: bool | None,
) -> None:
    orch.plan("g", independent(20))
    real_complete = orch.complete
    calls = 0

    def crashing_complete(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise Crash("injected")
        real_complete(*args, **kwargs)

    monkeypatch.setattr(orch, "complete", crashing_complete)
    ledger: Counter[int] = Counter()
    with pytest.raises(taskorch.WorkerClosedError, match="stopped: Crash: injected") as caught:
        run(Fleet(orch, quick, agents=4, ledger=ledger, db_thread=db_thread))
    assert isinstance(caught.value.__cause__, Crash)
    monkeypatch.setattr(orch, "complete", real_complete)
    assert_nothing_lost(orch, ledger)
    finish(orch, clock, ledger)


def test_an_exception_in_a_database_call_ends_the_run_with_it(
    orch: taskorch.Orchestrator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch.plan("g", chain(3) + independent(12))
    real_complete = orch.store.complete
    calls = 0

    def failing_complete(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise taskorch.StorageError("injected: the disk controller said no")
        return real_complete(*args)

    monkeypatch.setattr(orch.store, "complete", failing_complete)
    ledger: Counter[int] = Counter()
    with pytest.raises(taskorch.StorageError, match="injected"):
        run(Fleet(orch, quick, agents=4, ledger=ledger))
    monkeypatch.setattr(orch.store, "complete", real_complete)
    assert_nothing_lost(orch, ledger)
    finish(orch, clock, ledger)


def test_a_claim_that_fails_after_a_completion_in_the_same_call_keeps_the_completion(
    orch: taskorch.Orchestrator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch.plan("g", independent(12))
    real_claim = orch.store.claim
    calls = 0

    def failing_claim(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 6:  # past the first claims: this one follows an agent's completion
            raise taskorch.StorageError("injected: no claim this time")
        return real_claim(*args)

    monkeypatch.setattr(orch.store, "claim", failing_claim)
    ledger: Counter[int] = Counter()
    with pytest.raises(taskorch.StorageError, match="injected"):
        # One agent: the worker has nothing queued when it settles, so it claims with each.
        run(Fleet(orch, quick, agents=1, ledger=ledger))
    monkeypatch.setattr(orch.store, "claim", real_claim)
    assert ledger  # the completion that came with the failed claim is counted with the others
    assert_nothing_lost(orch, ledger)
    finish(orch, clock, ledger)


def test_an_agent_that_finds_nothing_after_the_fleet_stopped_does_not_wait_for_work(
    orch: taskorch.Orchestrator,
) -> None:
    # A claim under way when the supervisor found the work drained and stopped the fleet comes
    # back empty after stop() woke the idle agents: its agent must not wait for a wake-up that
    # no one will give (the run would never end).
    fleet = Fleet(orch, quick, agents=1)

    async def look_for_work_after_stop() -> None:
        fleet.stop()
        await asyncio.wait_for(fleet._wait_idle(), 5)

    asyncio.run(look_for_work_after_stop())


def test_a_result_that_cannot_be_stored_fails_the_subtask_not_the_fleet(
    orch: taskorch.Orchestrator,
) -> None:
    plan = orch.plan("g", independent(3))

    async def nan_for_k1(task: taskorch.Task, context: dict[str, Any]) -> Any:
        return float("nan") if task.key == "i1" else "fine"

    report = run(Fleet(orch, nan_for_k1, agents=2, max_attempts=1))
    assert report.counters.completed == 2 and report.counters.failed == 1
    failed = orch.get(plan.id_of("i1"))
    assert failed.status is taskorch.TaskStatus.FAILED and "result" in (failed.error or "")


@pytest.fixture
def sqlite_orch(tmp_path: Path, clock: FakeClock) -> Iterator[taskorch.Orchestrator]:
    with taskorch.open(f"sqlite:///{tmp_path}/t.db", clock=clock, busy_timeout=0.2) as orch:
        yield orch


def test_a_full_disk_ends_the_run_with_the_error_and_loses_nothing(
    sqlite_orch: taskorch.Orchestrator, clock: FakeClock
) -> None:
    orch = sqlite_orch
    orch.plan("g", independent(60))
    conn: sqlite3.Connection = orch.store.conn  # type: ignore[attr-defined]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 8}")  # SQLite says SQLITE_FULL beyond it

    async def bulky(task: taskorch.Task, context: dict[str, Any]) -> str:
        await asyncio.sleep(0)
        return "x" * 3000

    ledger: Counter[int] = Counter()
    with pytest.raises(taskorch.StorageError, match="full"):
        run(Fleet(orch, bulky, agents=4, ledger=ledger))
    assert 0 < len(ledger) < 60
    assert_nothing_lost(orch, ledger)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.execute("PRAGMA max_page_count = 1073741823")
    finish(orch, clock, ledger)


def test_a_lock_held_past_busy_timeout_ends_the_run_with_the_error(
    sqlite_orch: taskorch.Orchestrator, clock: FakeClock
) -> None:
    orch = sqlite_orch
    orch.plan("g", independent(12))
    path = orch.store.describe()
    first = orch.claim("before", lease_seconds=5)  # held by someone when the lock comes
    assert first is not None
    other = sqlite3.connect(path, isolation_level=None)
    taken = threading.Event()

    async def locking(task: taskorch.Task, context: dict[str, Any]) -> str:
        if not taken.is_set():
            taken.set()
            other.execute("BEGIN IMMEDIATE")  # another process takes the write lock, keeps it
        return "done"

    ledger: Counter[int] = Counter()
    try:
        with pytest.raises(taskorch.DatabaseLockedError, match="busy_timeout"):
            run(Fleet(orch, locking, agents=3, ledger=ledger))
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Whatever the fleet could not give back while locked is claimed under a lease that ends.
    assert_nothing_lost(orch, ledger, claimed=4)
    finish(orch, clock, ledger)
