"""Where the database worker runs its batches: on the event loop while that cannot make the loop
wait, on its thread otherwise; the loop is never blocked by another connection's lock, never
starved by an agent that does not await, and every subtask is still completed exactly once."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import taskorch
from perfkit.workloads.demo import DemoHandler, check_invariants, plan_demo
from taskorch.agents import DatabaseWorker, Fleet

BOUND = 30  # seconds: a run that has not ended by then hangs; the test fails instead of waiting


def file_url(tmp_path: Path, **options: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"sqlite:///{tmp_path}/t.db" + (f"?{query}" if query else "")


def drain(orch: taskorch.Orchestrator, tasks: int, **options: Any) -> Fleet:
    plans = plan_demo(orch, tasks)
    ledger: Counter[int] = Counter()
    handler = DemoHandler()
    fleet = Fleet(orch, handler, ledger=ledger, **options)
    asyncio.run(asyncio.wait_for(fleet.run(), BOUND))
    check = check_invariants(orch, plans, ledger, handler.handled)
    assert check.ok, str(check)
    return fleet


def test_one_agent_on_sqlite_runs_its_batches_on_the_loop(tmp_path: Path) -> None:
    with taskorch.open(file_url(tmp_path)) as orch:
        stats = drain(orch, 300).worker.statistics()
    # The calls that went to the thread found it busy: with a checkpoint, for one.
    assert stats.on_loop > stats.batches / 2


@pytest.mark.parametrize(("db_thread", "on_loop"), [(True, False), (False, True)])
def test_an_explicit_placement_is_kept(tmp_path: Path, db_thread: bool, on_loop: bool) -> None:
    with taskorch.open(file_url(tmp_path)) as orch:
        stats = drain(orch, 100, db_thread=db_thread).worker.statistics()
    assert stats.on_loop == (stats.batches if on_loop else 0)
    assert stats.handed_over == 0 and stats.checkpoints == 0


def test_a_database_synced_at_every_commit_stays_on_the_thread(tmp_path: Path) -> None:
    with taskorch.open(file_url(tmp_path, durability="full")) as orch:
        stats = drain(orch, 50).worker.statistics()
    assert stats.on_loop == 0 and stats.batches > 0


def test_an_in_memory_database_runs_on_the_loop() -> None:
    with taskorch.open("sqlite:///:memory:") as orch:
        stats = drain(orch, 50).worker.statistics()
    assert stats.on_loop > 0 and stats.checkpoints == 0


def test_the_automatic_placement_on_each_backend(orch: taskorch.Orchestrator) -> None:
    # On PostgreSQL every statement is a round trip over the network: never on the loop.
    stats = drain(orch, 50).worker.statistics()
    on_sqlite = isinstance(getattr(orch.store, "conn", None), sqlite3.Connection)
    assert (stats.on_loop > 0) is on_sqlite


@pytest.mark.parametrize("agents", [1, 3, 40])
def test_every_subtask_is_completed_once_whatever_the_placement(
    tmp_path: Path, agents: int
) -> None:
    with taskorch.open(file_url(tmp_path)) as orch:
        plans = plan_demo(orch, 400, fan_in=1, width=40)
        ledger: Counter[int] = Counter()
        handler = DemoHandler()
        fleet = Fleet(orch, handler, agents=agents, ledger=ledger)
        report = asyncio.run(asyncio.wait_for(fleet.run(), BOUND))
        check = check_invariants(orch, plans, ledger, handler.handled)
        assert check.ok, str(check)
        assert report.counters.completed == 400


def test_the_loops_commits_leave_checkpoints_to_the_thread(tmp_path: Path) -> None:
    with taskorch.open(file_url(tmp_path)) as orch:
        conn: sqlite3.Connection = orch.store.conn  # type: ignore[attr-defined]
        conn.execute("PRAGMA wal_autocheckpoint = 100")
        stats = drain(orch, 400).worker.statistics()
        # The connection checkpoints by itself again once the fleet is done.
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (100,)
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)
    assert stats.on_loop > 0 and stats.checkpoints > 0


@pytest.mark.parametrize(("db_thread", "pages"), [(None, 0), (True, 100)])
def test_a_commit_on_the_loop_does_not_checkpoint(
    tmp_path: Path, db_thread: bool | None, pages: int
) -> None:
    with taskorch.open(file_url(tmp_path)) as orch:
        conn: sqlite3.Connection = orch.store.conn  # type: ignore[attr-defined]
        conn.execute("PRAGMA wal_autocheckpoint = 100")

        def autocheckpoint() -> int:
            value: int = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            return value

        async def main() -> int:
            async with DatabaseWorker(orch, thread=db_thread) as worker:
                return await worker.submit(autocheckpoint)  # type: ignore[no-any-return]

        assert asyncio.run(main()) == pages


async def ticking(seen: list[int]) -> None:
    """Counts the loop iterations it gets: a coroutine that only yields."""
    while True:
        seen[0] += 1
        await asyncio.sleep(0)


def test_an_agent_that_never_awaits_leaves_the_loop_to_other_coroutines(tmp_path: Path) -> None:
    ticks = [0]
    gaps: list[int] = []
    last = [0]

    async def busy(task: taskorch.Task, context: dict[str, Any]) -> str:
        gaps.append(ticks[0] - last[0])  # how often the ticker ran since the previous task
        last[0] = ticks[0]
        return "done"

    async def main(fleet: Fleet) -> None:
        ticker = asyncio.create_task(ticking(ticks))
        await fleet.run()
        ticker.cancel()

    with taskorch.open(file_url(tmp_path)) as orch:
        plan_demo(orch, 200)
        fleet = Fleet(orch, busy)
        asyncio.run(asyncio.wait_for(main(fleet), BOUND))
        assert fleet.worker.statistics().on_loop > 0
    assert len(gaps) == 200 and all(gap >= 1 for gap in gaps[1:]), gaps


def test_the_supervisor_stops_an_agent_that_never_awaits(tmp_path: Path) -> None:
    async def busy(task: taskorch.Task, context: dict[str, Any]) -> str:
        return "done"

    async def main(fleet: Fleet) -> taskorch.agents.FleetReport:
        async def stop_soon() -> None:
            for _ in range(20):
                await asyncio.sleep(0)
            fleet.stop()

        stopper = asyncio.create_task(stop_soon())
        report = await fleet.run()
        await stopper
        return report

    with taskorch.open(file_url(tmp_path)) as orch:
        plan_demo(orch, 2000)
        fleet = Fleet(orch, busy)
        report = asyncio.run(asyncio.wait_for(main(fleet), BOUND))
        assert report.counters.completed < 100
        assert orch.status().subtasks.get("claimed", 0) == 0


def test_a_write_lock_held_by_another_connection_sends_the_batch_to_the_thread(
    tmp_path: Path,
) -> None:
    # The lock is given back when the loop says so. Had the loop waited for the lock (the busy
    # timeout is far longer than the bound), nothing would have told the holder: it would have
    # given up after the bound, and the claim would have run on the loop after all.
    with taskorch.open(file_url(tmp_path, busy_timeout="600")) as orch:
        plan = orch.plan("g", [{"key": "a", "title": "t", "specialist": "s"}])
        taken, release = threading.Event(), threading.Event()
        released_when_told: list[bool] = []

        def another_process() -> None:
            other = sqlite3.connect(orch.store.describe(), isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            taken.set()
            released_when_told.append(release.wait(BOUND))
            other.execute("ROLLBACK")
            other.close()

        async def main() -> tuple[taskorch.Task | None, int]:
            async with DatabaseWorker(orch) as worker:
                holder = threading.Thread(target=another_process)
                holder.start()
                taken.wait(BOUND)
                claim = worker.submit(orch.claim, "a1")
                for _ in range(50):
                    await asyncio.sleep(0)  # the loop runs on while the thread waits
                waited = not claim.done()
                release.set()
                task = await asyncio.wait_for(claim, BOUND)
                holder.join(BOUND)
                assert waited
                return task, worker.statistics().handed_over

        task, handed_over = asyncio.run(main())
        assert released_when_told == [True]
        assert task is not None and task.id == plan.task_ids[0]
        assert handed_over == 1


def test_a_connection_in_use_by_another_thread_sends_the_batch_to_the_thread(
    tmp_path: Path,
) -> None:
    with taskorch.open(file_url(tmp_path)) as orch:
        orch.plan("g", [{"key": "a", "title": "t", "specialist": "s"}])
        inside, leave = threading.Event(), threading.Event()
        left_when_told: list[bool] = []

        def hold_the_orchestrator() -> None:
            with orch.batch():
                inside.set()
                left_when_told.append(leave.wait(BOUND))

        async def main() -> tuple[taskorch.Status, int]:
            async with DatabaseWorker(orch) as worker:
                holder = threading.Thread(target=hold_the_orchestrator)
                holder.start()
                inside.wait(BOUND)
                status = worker.submit(orch.status)
                for _ in range(20):
                    await asyncio.sleep(0)  # the loop runs on while the connection is taken
                waited = not status.done()
                leave.set()
                result = await asyncio.wait_for(status, BOUND)
                holder.join(BOUND)
                assert waited
                return result, worker.statistics().handed_over

        status, handed_over = asyncio.run(main())
        assert left_when_told == [True]
        assert status.subtasks == {"ready": 1} and handed_over == 1


def test_the_worker_checks_its_placement(orch: taskorch.Orchestrator) -> None:
    with pytest.raises(taskorch.InvalidArgumentError) as caught:
        DatabaseWorker(orch, thread=1)  # type: ignore[arg-type]
    assert caught.value.argument == "thread"


class Crash(BaseException):
    """Not an Exception: it ends the worker."""


@pytest.mark.parametrize("where", ["loop", "thread"])
def test_a_worker_that_dies_leaves_the_connection_as_it_found_it(
    tmp_path: Path, where: str
) -> None:
    with taskorch.open(file_url(tmp_path)) as orch:
        conn: sqlite3.Connection = orch.store.conn  # type: ignore[attr-defined]
        on_thread = threading.Event()

        def crash() -> None:
            raise Crash("injected")

        def crash_on_the_thread() -> None:
            on_thread.wait(BOUND)
            raise Crash("injected")

        async def main() -> list[Any]:
            async with DatabaseWorker(orch) as worker:
                if where == "loop":
                    calls = [worker.submit(crash)]
                else:  # a batch too large for the loop goes to the thread
                    calls = [worker.submit(crash_on_the_thread) for _ in range(20)]
                    on_thread.set()
                gathered = asyncio.gather(*calls, return_exceptions=True)
                return await asyncio.wait_for(gathered, BOUND)

        errors = asyncio.run(main())
        assert all(isinstance(e, taskorch.WorkerClosedError) for e in errors), errors
        assert isinstance(errors[0].__cause__, Crash)
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
        assert conn.execute("PRAGMA busy_timeout").fetchone() == (5000,)
