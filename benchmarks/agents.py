"""Concurrent agents: claim+complete loops per second with 1, 50 and 1,000 agents in one process,
and the event loop's lag while they work.

Both read the report of the shared ``agent_fleet`` workload (``perfkit.workloads.demo.drain_demo``:
a fresh database, a plan sized to the fleet, drained with group commit, invariants checked). Commits
without the agent runtime skip them.
"""

from __future__ import annotations

from ._support import session, workloads

AGENTS = [1, 50, 1000]


class FleetBenchmark:
    """Reads one figure of the ``agent_fleet`` workload's report, at 1, 50 and 1,000 agents."""

    param_names = ["agents"]
    params = [AGENTS]
    timeout = 300

    def setup(self, agents: int) -> None:
        if "agent_fleet" not in workloads().WORKLOADS:
            raise NotImplementedError("no 'agent_fleet' workload registered")
        # The sizes the history holds: 2,000 subtasks (20 an agent past 100 agents), polled at
        # the fleet's default interval.
        tasks = max(2000, 20 * agents)
        self.step = session("agent_fleet", None, agents=agents, tasks=tasks, poll_interval=0.05)


class ConcurrentAgents(FleetBenchmark):
    """Throughput of the agent runtime (target: ≥ 5,000 loops/s with 1,000 agents on 2 cores)."""

    unit = "loops/s"
    version = "2"

    def track_loops_per_second(self, agents: int) -> float:
        return float(self.step().throughput)  # type: ignore[attr-defined]


class LoopLag(FleetBenchmark):
    """The event loop's 99th-percentile lag while the agents work: how late a timer fires."""

    unit = "ms"
    version = "2"

    def track_loop_lag(self, agents: int) -> float:
        return float(self.step().loop_lag.p99) * 1000.0  # type: ignore[attr-defined]
