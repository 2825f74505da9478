"""The stress targets of performance validation, as thin adapters over the agent runtime.

Validation measures what users deploy: the agents are a :class:`taskorch.agents.Fleet` (its
database worker with group commit, its leases and supervisor), and every verdict comes from
the fleet's :class:`~taskorch.agents.FleetReport` and
:func:`~perfkit.workloads.demo.check_invariants`. Two workloads:

- :func:`timed_fleet`: agents work for a fixed time while their handler keeps the work coming
  (the ``concurrent_agents`` target, the resource monitor, the peer comparison's agents row),
  or on a stock planned beforehand (``scripts/stress/agents.py``);
- :func:`task_graph`: a DAG drained by a fleet, :func:`perfkit.workloads.demo.drain_demo` on a fresh
  file (the ``task_graph`` target).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorch import Orchestrator, Plan, Task
from taskorch import open as open_orchestrator
from taskorch.agents import Fleet, FleetCounters, FleetReport

from ..harness.store import fresh_url
from .concurrency import Concurrency, WorkGauge
from .demo import InvariantReport, check_invariants, drain_demo, plan_demo
from .plans import demo_subtasks

__all__ = ["FleetOutcome", "PlanningHandler", "task_graph", "timed_fleet"]

GOAL_SIZE = 100  # subtasks per goal planned during a timed run: refills interleave with claims

#: What ``Fleet.run`` calls with the counters so far and the seconds elapsed.
Progress = Callable[[FleetCounters, float], None]


@dataclass(frozen=True, slots=True)
class FleetOutcome:
    """A fleet's report, its invariant check (None: not checked), how many of its agents did
    work at all (None: not counted) and how many worked at once (None: not measured)."""

    report: FleetReport
    invariants: InvariantReport | None
    active_agents: int | None = None
    concurrency: Concurrency | None = None

    @property
    def errors(self) -> int:
        """Handler failures (retried or not) and subtasks lost to another agent's claim."""
        c = self.report.counters
        return c.failed + c.retried + c.lost

    @property
    def sound(self) -> bool:
        return (self.invariants is None or self.invariants.ok) and self.errors == 0

    def metrics(self) -> dict[str, Any]:
        """The success-criteria gate's fields, and the fleet's latencies, as plain data."""
        r, check = self.report, self.invariants
        out: dict[str, Any] = {"agent_count": r.agents}
        if self.active_agents is not None:
            out["active_agents"] = self.active_agents
        if self.concurrency is not None:
            out |= self.concurrency.as_dict()
        out |= {
            "loops": r.counters.completed,
            "seconds": round(r.elapsed, 3),
            "loops_per_second": round(r.throughput, 1),
        }
        if check is not None:
            out |= {"double_claims": check.duplicated, "lost_tasks": check.lost}
        return out | {
            "errors": self.errors,
            "invariants": "not checked" if check is None else str(check),
            "claim_latency_ms": r.claim_latency.as_dict(),
            "loop_lag_ms": r.loop_lag.as_dict(),
            "calls_per_transaction": round(r.calls / max(1, r.transactions), 1),
        }


class PlanningHandler:
    """The agents' handler in a timed run. With ``refill`` (the default), after every
    ``goal_size`` subtasks it handled it plans one more goal of ``goal_size`` independent demo
    subtasks, so ready work never runs out and planning is part of the measured loop; the plans
    go through the fleet's database worker (set by :func:`timed_fleet`), committed with the other
    agents' calls. Each call waits ``work_seconds`` (simulated work).

    With ``track`` it keeps what :func:`~perfkit.workloads.demo.check_invariants` needs (the plans
    and how often each subtask was handled), memory that grows with the run; without, its memory
    stays flat. It returns what :class:`~perfkit.workloads.demo.DemoHandler` returns.
    """

    def __init__(
        self,
        orch: Orchestrator,
        goal_size: int,
        *,
        track: bool = True,
        refill: bool = True,
        work_seconds: float = 0.0,
    ) -> None:
        self.orch = orch
        self.goal_size = goal_size
        self.refill = refill
        self.work_seconds = work_seconds
        self.plans: list[Plan] | None = [] if track else None
        self.handled: Counter[int] | None = Counter() if track else None
        self.by_agent: Counter[str] = Counter()
        self.fleet: Fleet | None = None
        self._spec = demo_subtasks(goal_size)
        self._count = 0

    def plan(self) -> Plan:
        """Plan one goal and record it (on the worker's thread: recorded once it ran)."""
        plan = self.orch.plan("more work", self._spec)
        self.record([plan])
        return plan

    def record(self, plans: list[Plan]) -> None:
        """Count ``plans`` among the work the invariants are checked over."""
        if self.plans is not None:
            self.plans.extend(plans)

    async def __call__(self, task: Task, context: dict[str, Any]) -> dict[str, Any]:
        if self.handled is not None:
            self.handled[task.id] += 1
        self.by_agent[task.agent or ""] += 1
        self._count += 1
        count = self._count  # read before the await: the other agents move it meanwhile
        if self.work_seconds:
            await asyncio.sleep(self.work_seconds)
        if self.refill and count % self.goal_size == 0:
            assert self.fleet is not None, "timed_fleet sets the fleet"
            await self.fleet.worker.submit(self.plan)
        return {"by": task.agent, "inputs": len(context["dependencies"])}


async def timed_fleet(
    orch: Orchestrator,
    agents: int,
    duration: float,
    *,
    goal_size: int = GOAL_SIZE,
    stock: int | None = None,
    work_seconds: float = 0.0,
    check: bool = True,
    on_progress: Progress | None = None,
    progress_interval: float = 1.0,
) -> FleetOutcome:
    """Run ``agents`` agents on ``orch`` for ``duration`` seconds, then (``check``) check the
    invariants.

    Each loop claims a ready subtask with its specialist context, runs a
    :class:`PlanningHandler` and completes the subtask. By default, before the clock starts,
    enough goals of ``goal_size`` subtasks are planned that every agent finds work, and the
    handler plans more as it goes (``goal_size=1``: every loop also plans a one-subtask goal).
    With ``stock``, that many independent subtasks are planned before the clock instead and
    nothing is planned while it runs: the runtime and the database alone are measured. Without
    ``check`` nothing is kept per subtask, for long runs under a resource monitor.
    """
    if agents < 1 or not duration > 0:
        raise ValueError(f"a timed fleet needs agents >= 1 and a positive duration,"
                         f" got {agents} agents for {duration} s")  # fmt: skip
    handler = PlanningHandler(
        orch, goal_size, track=check, refill=stock is None, work_seconds=work_seconds
    )
    if stock is None:
        for _ in range(agents // goal_size + 3):
            handler.plan()
    else:
        handler.record(plan_demo(orch, stock))
    ledger: Counter[int] | None = Counter() if check else None
    gauge = WorkGauge()
    fleet = Fleet(orch, gauge.wrap(handler), agents=agents, ledger=ledger)
    handler.fleet = fleet
    gauge.start(duration)
    report = await fleet.run(
        duration, drain=False, on_progress=on_progress, progress_interval=progress_interval
    )
    invariants = None
    if ledger is not None and handler.plans is not None:
        invariants = check_invariants(orch, handler.plans, ledger, handler.handled, drained=False)
    return FleetOutcome(report, invariants, len(handler.by_agent), gauge.summary())


def concurrent_agents(
    directory: Path, agents: int, duration: float, work_seconds: float
) -> dict[str, Any]:
    """The ``concurrent_agents`` target: :func:`timed_fleet` on a fresh SQLite file, each
    handler call taking ``work_seconds`` (an agent's own work, which is what lets agents
    overlap: a handler that never awaits runs one at a time on the event loop)."""
    with open_orchestrator(fresh_url(directory, "agents")) as orch:
        outcome = asyncio.run(timed_fleet(orch, agents, duration, work_seconds=work_seconds))
    working = outcome.concurrency.peak if outcome.concurrency is not None else 0
    return outcome.metrics() | {"passed": outcome.sound and working > 0}


def task_graph(directory: Path, nodes: int, agents: int) -> dict[str, Any]:
    """The ``task_graph`` target: ``nodes`` demo subtasks in at least 10 layers (at most 1,000
    wide), each depending on 2 of the layer before, drained by ``agents`` agents."""
    width = max(1, min(1000, nodes // 10))
    url = fresh_url(directory, "graph")
    report, check = drain_demo(url, tasks=nodes, agents=agents, fan_in=2, width=width)
    outcome = FleetOutcome(report, check)
    return {"nodes": nodes, **outcome.metrics(), "passed": outcome.sound}
