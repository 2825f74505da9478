"""The core-operation workloads, written once and used by every harness.

The asv suite, the pytest-benchmark tests, ``python -m leakcheck suite``, the stress scripts and
``taskorch perf validate`` all drive these. Each :class:`Workload` has a ``session(directory,
**params)`` context manager that sets up (an orchestrator on a SQLite file in ``directory``, data
built deterministically) and yields the *step*: one call = one operation, nothing else. Exiting the
session closes everything.

Only taskorch's public API is used here, so the asv suite can load this file from the working tree
and run it against older commits of the engine: a session whose engine lacks what it needs raises
``NotImplementedError`` when it is opened. The plans come from :mod:`perfkit.workloads.plans`, the
fresh databases from :mod:`perfkit.harness.store`, and the agent-fleet workload's demo work from
:mod:`perfkit.workloads.demo` (imported when that workload is opened); nothing else of perfkit is
imported.

The registry itself (:class:`Workload`, :data:`WORKLOADS`, the :func:`workload` decorator,
:func:`require`) is :mod:`perfkit.workloads.registry`; the bare-sqlite3 references each workload
is compared with are :mod:`perfkit.workloads.sqlite_raw`. Both are re-exported here, so
``perfkit.workloads`` stays the one name harnesses use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import taskorch

from ..harness.store import fresh_path, open_fresh, remove_database
from .plans import independent, subtasks
from .registry import WORKLOADS, Step, Workload, require, workload

__all__ = [
    "RAW_COLUMNS",
    "RAW_INDEXES",
    "RAW_INSERT",
    "RAW_INSERT_PARENT",
    "RAW_NOW",
    "RAW_TABLE",
    "WORKLOADS",
    "Step",
    "Workload",
    "build_raw_store",
    "build_store",
    "cycle",
    "open_built",
    "raw_connection",
    "raw_get_session",
    "raw_insert_session",
    "raw_rows",
    "realistic_context",
    "require",
    "workload",
]


# -- data ------------------------------------------------------------------------------------


def realistic_context() -> dict[str, Any]:
    """A specialist context of about 2 KB, shaped like what an agent receives."""
    deps = [
        {
            "id": 100 + i,
            "key": f"dep{i}",
            "title": f"Analyse component {i} of the ingestion pipeline",
            "specialist": "researcher",
            "result": {
                "summary": "The component batches writes and retries on timeouts; " * 3,
                "files": [f"src/ingest/part_{i}_{j}.py" for j in range(4)],
                "score": 0.5 + i / 10,
            },
            "artifacts": [f"notes/dep{i}.md"],
        }
        for i in range(3)
    ]
    return {
        "format": 1,
        "goal": "Make the ingestion pipeline idempotent under retries",
        "plan": {"id": 1, "context": {"repo": "example/ingest", "branch": "main", "budget": 3}},
        "task": {
            "id": 104,
            "key": "impl",
            "title": "Implement idempotency keys",
            "description": "Add keys to every write path and deduplicate on replay.",
        },
        "role": "implementer",
        "dependencies": deps,
    }


def build_store(path: Path, n_tasks: int) -> Path:
    """A database holding ``n_tasks`` subtasks in plans of 100: 80 % of the plans finished, the
    rest just planned (ready roots, pending subtasks), a few subtasks claimed — the shape of a
    store that has been in use. Reused if already built."""
    marker = Path(f"{path}.built")
    if marker.exists() and path.exists():
        return path
    marker.unlink(missing_ok=True)
    remove_database(path)
    with taskorch.open(f"sqlite:///{path}", durability="off") as orch:
        plans = max(1, n_tasks // 100)
        finished = int(plans * 0.8)
        size = min(100, n_tasks)
        for p in range(finished):
            orch.plan(f"goal {p}", subtasks(size, fan_in=1))
        with orch.batch():
            while (task := orch.claim("builder")) is not None:
                orch.complete(task.id, "builder", result={"ok": True})
        for p in range(finished, plans):
            orch.plan(f"goal {p}", subtasks(size, fan_in=1))
        for _ in range(max(1, n_tasks // 1000)):
            orch.claim("holder", lease_seconds=3600 * 24 * 365)
    marker.write_text(str(n_tasks))
    return path


def open_built(directory: Path, n_tasks: int) -> taskorch.Orchestrator:
    """An orchestrator on the :func:`build_store` of ``n_tasks`` in ``directory``, which the
    read workloads of the same size share."""
    path = build_store(Path(directory) / f"store-{n_tasks}.db", n_tasks)
    return taskorch.open(f"sqlite:///{path}")


# -- taskorch workloads -----------------------------------------------------------------------


@workload(
    "plan",
    "plan a goal with n subtasks (a chain of dependencies), durable",
    reference="raw_insert",
    requires=("Orchestrator.plan",),
    n=(1, 10, 1000),
)
def plan_session(directory: Path, n: int = 1) -> Iterator[Step]:
    spec = subtasks(n)
    with open_fresh(directory, "plan") as orch:
        yield lambda: orch.plan("goal", spec)


def cycle(orch: taskorch.Orchestrator, agent: str, batch: list[dict[str, Any]]) -> Step:
    """One agent's cycle, on any backend: claim the oldest ready subtask and complete it,
    planning ``batch`` first when nothing is ready; each call returns the task's id."""

    def step() -> int:
        task = orch.claim(agent)
        if task is None:  # refill: one plan per len(batch) cycles
            orch.plan("more work", batch)
            task = orch.claim(agent)
            assert task is not None
        orch.complete(task.id, agent, result="done")
        return task.id

    return step


# Plans of 1,000 subtasks that make a store larger than SQLite's default page cache (2,000 KiB):
# 32 make 3.5 MiB, 16 only 1.8 MiB.
CACHE_FILLING_PLANS = 32


@workload("claim_complete", "claim the oldest ready subtask and complete it",
          requires=("Orchestrator.claim", "Orchestrator.complete"))  # fmt: skip
def claim_complete_session(directory: Path, agent: str = "agent-1") -> Iterator[Step]:
    """Each call claims and completes one subtask; a plan of 1,000 more every 1,000 calls."""
    with open_fresh(directory, "claim_complete") as orch:
        batch = independent(1000)
        # SQLite's page cache (2 MB by default) takes memory for every new page a call reads until
        # it is full: bounded, but over a loop of 20,000 calls on a store that grows with it, the
        # filling looks like a leak (0.1 to 0.8 B a call, measured). So the store starts larger
        # than the cache, read once from end to end: the cache is full before the first call.
        for _ in range(CACHE_FILLING_PLANS):
            orch.plan("work", batch)
        after = 0
        while page := orch.tasks(after=after, limit=1000):
            after = page[-1].id

        yield cycle(orch, agent, batch)


@workload("claim", "claim the oldest ready subtask from a pool of thousands",
          requires=("Orchestrator.claim",), pool=(5000,))  # fmt: skip
def claim_session(directory: Path, pool: int = 5000, agent: str = "agent-1") -> Iterator[Step]:
    with open_fresh(directory, "claim") as orch:
        batch = independent(1000)
        for _ in range(max(1, pool // 1000)):
            orch.plan("work", batch)

        def step() -> object:
            task = orch.claim(agent)
            if task is None:  # refill, rarely: the pool outlasts a benchmark's samples
                orch.plan("more work", batch)
                task = orch.claim(agent)
            return task

        yield step


@workload("complete", "complete a claimed subtask (the claim is made beforehand, untimed)",
          requires=("Orchestrator.complete", "Orchestrator.batch"))  # fmt: skip
def complete_session(directory: Path, agent: str = "agent-1") -> Iterator[Step]:
    with open_fresh(directory, "complete") as orch:
        batch = independent(1000)
        held: list[int] = []

        def refill() -> None:  # one plan per 1,000 completions, claimed in one transaction
            orch.plan("more work", batch)
            with orch.batch():
                while (task := orch.claim(agent)) is not None:
                    held.append(task.id)
            held.reverse()

        refill()

        def step() -> None:
            if not held:
                refill()
            orch.complete(held.pop(), agent, result="done")

        yield step


@workload("lifecycle", "plan 3 subtasks, then claim, read context and complete each, synthesize",
          requires=("Orchestrator.synthesize", "Orchestrator.context"))  # fmt: skip
def lifecycle_session(directory: Path) -> Iterator[Step]:
    spec = subtasks(3)
    with open_fresh(directory, "lifecycle") as orch:

        def step() -> object:
            plan = orch.plan("goal", spec, context={"repo": "example"})
            while (task := orch.claim("agent")) is not None:
                orch.context(task.id)
                orch.complete(task.id, "agent", result={"key": task.key})
            return orch.synthesize(plan.parent_id)

        yield step


@workload("context", "read the specialist context of a subtask with 3 completed dependencies",
          requires=("Orchestrator.context",), cached=(True, False))  # fmt: skip
def context_session(directory: Path, cached: bool = True) -> Iterator[Step]:
    options = {} if cached else {"context_cache_size": 0}
    with open_fresh(directory, "context", **options) as orch:
        spec = [*subtasks(3), {"key": "last", "title": "t", "specialist": "implementer",
                               "depends_on": ["k0", "k1", "k2"]}]  # fmt: skip
        plan = orch.plan("goal", spec, context={"repo": "example"})
        while (task := orch.claim("agent")) is not None:
            orch.complete(task.id, "agent", result=realistic_context()["dependencies"][0]["result"])
        last = plan.id_of("last")
        yield lambda: orch.context(last)


@workload("get", "read one task by id from a store of n tasks", reference="raw_get",
          requires=("Orchestrator.get", "Orchestrator.batch"), n=(1000, 100_000))  # fmt: skip
def get_session(directory: Path, n: int = 1000) -> Iterator[Step]:
    with open_built(directory, n) as orch:
        task_id = n // 2
        yield lambda: orch.get(task_id)


@workload("status", "counts by state over a store of n tasks",
          requires=("Orchestrator.status", "Orchestrator.batch"), n=(1000, 100_000))  # fmt: skip
def status_session(directory: Path, n: int = 1000) -> Iterator[Step]:
    with open_built(directory, n) as orch:
        yield orch.status


@workload("status_plans", "counts by state with p active plans of one subtask each",
          requires=("Orchestrator.status", "Orchestrator.batch"), parents=(100, 1000))  # fmt: skip
def status_plans_session(directory: Path, parents: int = 100) -> Iterator[Step]:
    with open_fresh(directory, f"status-plans-{parents}", durability="off") as orch:
        one = independent(1)
        with orch.batch():
            for p in range(parents):
                orch.plan(f"goal {p}", one)
        yield orch.status


@workload("ready_query", "list the first 10 ready subtasks in a store of n tasks",
          requires=("Orchestrator.tasks", "Orchestrator.batch"), n=(1000, 100_000))  # fmt: skip
def ready_query_session(directory: Path, n: int = 1000) -> Iterator[Step]:
    with open_built(directory, n) as orch:
        yield lambda: orch.tasks(status="ready", limit=10)


@workload("publish", "publish one event to k subscribers that drain their queues",
          requires=("EventBus", "Event"), subscribers=(0, 1, 10))  # fmt: skip
def publish_session(directory: Path, subscribers: int = 1) -> Iterator[Step]:
    bus = taskorch.EventBus()
    subs = [bus.subscribe(maxsize=1000) for _ in range(subscribers)]
    event = taskorch.Event("completed", 1, None, "agent", 0.0)
    count = 0

    def step() -> int:
        nonlocal count
        bus.publish(event)
        count += 1
        if count % 500 == 0:  # readers keep up, as a live subscriber would
            for sub in subs:
                sub.drain()
        return count  # events published so far

    yield step
    for sub in subs:
        sub.close()


@workload("encode_context", "encode a realistic 2 KB context to JSON text",
          requires=("codec.dumps",))  # fmt: skip
def encode_session(directory: Path) -> Iterator[Step]:
    from taskorch import codec

    context = realistic_context()
    yield lambda: codec.dumps(context)


@workload("decode_context", "decode a realistic 2 KB context from JSON text",
          requires=("codec.loads",))  # fmt: skip
def decode_session(directory: Path) -> Iterator[Step]:
    from taskorch import codec

    text = json.dumps(realistic_context())
    yield lambda: codec.loads(text)


@workload("drain", "plan a DAG of n subtasks and drain it with one agent",
          requires=("Orchestrator.plan", "Orchestrator.claim", "Orchestrator.complete"),
          n=(1000, 10_000))  # fmt: skip
def drain_session(directory: Path, n: int = 100) -> Iterator[Step]:
    """Each call plans a DAG of ``n`` subtasks on a fresh database and drains it. The default is
    what the leak check runs (7 ms a call); the benchmarks sweep ``n`` from 1,000."""
    spec = subtasks(n, fan_in=2)
    counter = iter(range(1_000_000))

    def step() -> int:
        with open_fresh(directory, f"drain-{next(counter)}", durability="off") as orch:
            orch.plan("goal", spec)
            done = 0
            while (task := orch.claim("agent")) is not None:
                orch.complete(task.id, "agent")
                done += 1
            return done

    yield step


@workload("agent_fleet", "a fleet of asyncio agents drains a plan of independent subtasks"
          " (group commit); the step returns the fleet's report", requires=("agents.Fleet",),
          agents=(1, 50, 1000))  # fmt: skip
def agent_fleet_session(
    directory: Path, agents: int = 10, tasks: int | None = None, poll_interval: float = 0.002
) -> Iterator[Step]:
    """Each call drains ``tasks`` subtasks (default: 10 an agent) on a fresh database with
    ``agents`` agents, whose supervisor looks every ``poll_interval`` seconds whether the work is
    done. The defaults are what the leak check runs: 100 subtasks, about 15 ms a call, so that it
    affords the ~3,500 warm-up runs asyncio's own structures take to fill."""
    from .demo import drain_demo

    tasks = 10 * agents if tasks is None else tasks
    counter = iter(range(1_000_000))

    def step() -> object:
        path = fresh_path(directory, f"fleet-{agents}-{next(counter)}")
        report, check = drain_demo(
            f"sqlite:///{path}", tasks=tasks, agents=agents, poll_interval=poll_interval
        )
        if not check.ok:
            raise AssertionError(f"fleet invariants failed: {check}")
        remove_database(path)
        return report

    yield step


# The raw sqlite3 references register after the workloads they are compared with.
from .sqlite_raw import (  # noqa: E402
    RAW_COLUMNS,
    RAW_INDEXES,
    RAW_INSERT,
    RAW_INSERT_PARENT,
    RAW_NOW,
    RAW_TABLE,
    build_raw_store,
    raw_connection,
    raw_get_session,
    raw_insert_session,
    raw_rows,
)
