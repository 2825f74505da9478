"""Stress runs: many asyncio agents on one orchestrator, and a large task graph drained.

The agents here are deliberately plain coroutines calling the public API from one event loop:
each SQLite call takes microseconds, so the loop is never held for long, and every agent yields
between calls so all of them interleave. The integrity checks are what matter for the success
criterion "50+ concurrent agents": no task claimed by two agents at once, none lost.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .workloads import independent, open_fresh, subtasks

__all__ = ["AgentsOutcome", "drain_graph", "run_agents"]

REFILL = 100  # subtasks per refill plan: small, so refills interleave with claims


@dataclass(frozen=True, slots=True)
class AgentsOutcome:
    """What a fleet of agents did in a stress run."""

    agent_count: int
    active_agents: int  # agents that completed at least one loop
    loops: int
    seconds: float
    double_claims: int
    lost_tasks: int
    errors: int

    @property
    def loops_per_second(self) -> float:
        return self.loops / self.seconds if self.seconds else 0.0

    @property
    def sound(self) -> bool:
        return self.double_claims == 0 and self.lost_tasks == 0 and self.errors == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent_count": self.agent_count,
            "active_agents": self.active_agents,
            "loops": self.loops,
            "seconds": round(self.seconds, 3),
            "loops_per_second": round(self.loops_per_second, 1),
            "double_claims": self.double_claims,
            "lost_tasks": self.lost_tasks,
            "errors": self.errors,
        }


async def run_agents(
    directory: Path, agent_count: int, duration_seconds: float, *, plan_each: bool = False
) -> AgentsOutcome:
    """Run ``agent_count`` agents for ``duration_seconds`` on a fresh SQLite file.

    Each loop claims a ready subtask, reads its context and completes it; with ``plan_each``
    an agent first plans a one-subtask goal itself (the peer comparison's loop).
    """
    holders: dict[int, str] = {}  # task id -> agent holding it right now
    completed: list[int] = [0] * agent_count
    problems = {"double": 0, "errors": 0}
    refill = asyncio.Lock()
    deadline = time.perf_counter() + duration_seconds
    with open_fresh(directory, "agents") as orch:
        if not plan_each:
            orch.plan("stress", independent(max(REFILL, agent_count * 2)))
        one = independent(1)

        async def agent(index: int) -> None:
            name = f"agent-{index}"
            while time.perf_counter() < deadline:
                if plan_each:
                    orch.plan(f"goal of {name}", one)
                task = orch.claim(name)
                if task is None:
                    async with refill:  # one agent refills; the others wait for it
                        if orch.status()["ready"] == 0:
                            orch.plan("more work", independent(REFILL))
                    continue
                if task.id in holders:
                    problems["double"] += 1
                holders[task.id] = name
                await asyncio.sleep(0)  # the agent "works": let every other agent run
                try:
                    orch.context(task.id)
                    orch.complete(task.id, name, result={"by": name})
                except Exception:  # counted: a fleet must not see any
                    problems["errors"] += 1
                    continue
                finally:
                    holders.pop(task.id, None)
                completed[index] += 1
                await asyncio.sleep(0)

        started = time.perf_counter()
        await asyncio.gather(*(agent(i) for i in range(agent_count)))
        seconds = time.perf_counter() - started
        status = orch.status()
    loops = sum(completed)
    # Every completion an agent saw is in the store, and no claim was left behind.
    lost = abs(status["completed"] - loops) + status["claimed"]
    return AgentsOutcome(
        agent_count=agent_count,
        active_agents=sum(1 for n in completed if n),
        loops=loops,
        seconds=seconds,
        double_claims=problems["double"],
        lost_tasks=lost,
        errors=problems["errors"],
    )


def drain_graph(directory: Path, nodes: int) -> dict[str, Any]:
    """Plan a DAG of ``nodes`` subtasks (two dependencies each) and drain it with one agent."""
    spec = subtasks(nodes, fan_in=2)
    with open_fresh(directory, "graph", durability="off") as orch:
        started = time.perf_counter()
        orch.plan("large graph", spec)
        planned = time.perf_counter()
        done = 0
        while (task := orch.claim("agent")) is not None:
            orch.complete(task.id, "agent")
            done += 1
        finished = time.perf_counter()
    return {
        "nodes": nodes,
        "plan_seconds": round(planned - started, 4),
        "drain_seconds": round(finished - planned, 4),
        "completed": done,
        "lost_tasks": nodes - done,
    }
