"""Demo work for fleets, a fleet draining it, and the invariants every stress run is checked
against. The demo subtasks come from :mod:`perfkit.workloads.plans` (:func:`demo_subtasks` is
re-exported here).

The invariants, after a run that drained its plans:

- no lost task: every subtask of the plans ended COMPLETED;
- exactly once: the fleets' ledgers (successful completions per task id, summed over every
  process) count each subtask exactly once and name no other task;
- no double claim (runs without injected faults): every subtask was claimed once (``attempts``
  is 1 in the database) and its handler ran once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from taskorch import Orchestrator, Plan, Task, TaskStatus
from taskorch import open as open_orchestrator
from taskorch.agents import Fleet, FleetReport

from .plans import demo_subtasks

__all__ = [
    "DemoHandler",
    "InvariantReport",
    "check_invariants",
    "demo_subtasks",
    "drain_demo",
    "drain_plans",
    "plan_demo",
]


def plan_demo(
    orch: Orchestrator,
    n: int,
    fan_in: int = 0,
    width: int = 1000,
    per_plan: int = 10_000,
    *,
    specialist: str | None = None,
    into: list[Plan] | None = None,
) -> list[Plan]:
    """Plan ``n`` demo subtasks as plans of at most ``per_plan`` subtasks each (all of role
    ``specialist`` when given). Each plan is appended to ``into`` as soon as it is written, so a
    caller interrupted halfway knows which plans to cancel."""
    plans = [] if into is None else into
    for start in range(0, n, per_plan):
        count = min(per_plan, n - start)
        spec = demo_subtasks(count, fan_in, width, specialist)
        plans.append(orch.plan(f"demo goal {start}", spec))
    return plans


class DemoHandler:
    """An agent handler that counts how often it ran per task id, waits ``work_seconds``
    (simulated work, without blocking the loop) and returns a small result."""

    def __init__(self, work_seconds: float = 0.0) -> None:
        self.work_seconds = work_seconds
        self.handled: Counter[int] = Counter()

    async def __call__(self, task: Task, context: dict[str, Any]) -> dict[str, Any]:
        self.handled[task.id] += 1
        if self.work_seconds:
            await asyncio.sleep(self.work_seconds)
        return {"by": task.agent, "inputs": len(context["dependencies"])}


@dataclass(frozen=True, slots=True)
class InvariantReport:
    """The result of :func:`check_invariants`; ``ok`` when ``problems`` is empty.

    ``lost`` counts the subtasks behind the problems of loss (not completed in a drained run,
    left claimed, completed without the ledger knowing or the other way round); ``duplicated``
    those behind the problems of duplication (completed, claimed or handled more than once).
    """

    tasks: int
    completed: int
    problems: tuple[str, ...] = field(default=())
    lost: int = 0
    duplicated: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED: " + "; ".join(self.problems)
        return f"invariants over {self.tasks} subtasks ({self.completed} completed): {verdict}"


def check_invariants(
    orch: Orchestrator,
    plans: Iterable[Plan],
    ledger: Counter[int],
    handled: Counter[int] | None = None,
    faults: bool = False,
    drained: bool = True,
) -> InvariantReport:
    """Check a finished run (see the module docstring). ``ledger`` counts completions per task
    id over every fleet that worked the plans; ``handled`` counts handler runs. With ``faults``
    (crashes, expired leases) a task may be claimed and handled more than once, but still
    completed exactly once. Without ``drained`` (a run stopped after a fixed time) subtasks may
    remain unfinished, but none may still be claimed, and the ledger must name exactly the
    completed ones."""
    tasks = [t for p in plans for t in orch.subtasks(p.parent_id)]
    problems = []
    lost: set[int] = set()
    duplicated: set[int] = set()

    def problem(ids: list[int], into: set[int], text: str) -> None:
        if ids:
            problems.append(text.format(n=len(ids), e=ids[:5]))
            into.update(ids)

    unfinished = [t.id for t in tasks if t.status is not TaskStatus.COMPLETED]
    if drained:
        problem(unfinished, lost, "{n} subtask(s) not completed, e.g. {e}")
    else:
        held = [t.id for t in tasks if t.status is TaskStatus.CLAIMED]
        problem(held, lost, "{n} subtask(s) left claimed after the run, e.g. {e}")
        tasks = [t for t in tasks if t.status is TaskStatus.COMPLETED]
    ids = {t.id for t in tasks}
    twice = sorted(i for i, n in ledger.items() if n > 1)
    problem(twice, duplicated, "{n} subtask(s) completed more than once, e.g. {e}")
    missing = sorted(ids - {i for i, n in ledger.items() if n > 0})
    problem(missing, lost, "{n} completion(s) missing from the ledger, e.g. {e}")
    where = "outside the plans" if drained else "not completed"
    foreign = sorted(set(ledger) - ids)
    problem(foreign, lost, "ledger names {n} task(s) " + where + ": {e}")
    if not faults:
        reclaimed = [t.id for t in tasks if t.attempts != 1]
        problem(reclaimed, duplicated, "{n} subtask(s) claimed more than once: {e}")
        if handled is not None:
            rerun = sorted(i for i in ids if handled[i] != 1)
            problem(rerun, duplicated, "{n} subtask(s) not handled exactly once: {e}")
    total = len(tasks) + (0 if drained else len(unfinished))
    return InvariantReport(
        total, total - len(unfinished), tuple(problems), len(lost), len(duplicated)
    )


def drain_plans(
    orch: Orchestrator,
    plans: Iterable[Plan],
    *,
    agents: int,
    work_seconds: float = 0.0,
    faults: bool = False,
    **fleet_options: Any,
) -> tuple[FleetReport, InvariantReport]:
    """Drain ``plans`` with a fleet of ``agents`` running a :class:`DemoHandler` (each call
    waiting ``work_seconds``), then check the invariants (with ``faults``, a subtask may be
    claimed again after its lease expired). ``fleet_options`` go to :class:`Fleet`
    (``group_commit``, ``max_batch``, ``db_thread``, ``lease_seconds`` ...).

    The report's ``throughput`` is the claim+complete loops per second; ``loop_lag`` the event
    loop's lag while the fleet ran.
    """
    plans = list(plans)
    ledger: Counter[int] = Counter()
    handler = DemoHandler(work_seconds)
    fleet = Fleet(orch, handler, agents=agents, ledger=ledger, **fleet_options)
    report = asyncio.run(fleet.run())
    return report, check_invariants(orch, plans, ledger, handler.handled, faults=faults)


def drain_demo(
    url: str,
    *,
    tasks: int,
    agents: int,
    fan_in: int = 0,
    width: int = 1000,
    work_seconds: float = 0.0,
    lease_seconds: float = 60.0,
    faults: bool = False,
    **fleet_options: Any,
) -> tuple[FleetReport, InvariantReport]:
    """Open ``url``, plan ``tasks`` demo subtasks there (not timed; layers of ``width``, each
    subtask depending on ``fan_in`` of the layer before) and :func:`drain_plans` them."""
    with open_orchestrator(url, lease_seconds=lease_seconds) as orch:
        plans = plan_demo(orch, tasks, fan_in=fan_in, width=width)
        return drain_plans(
            orch, plans, agents=agents, work_seconds=work_seconds, faults=faults, **fleet_options
        )
