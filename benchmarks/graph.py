"""Large task graphs: plan DAGs of 1,000 / 10,000 / 100,000 nodes, and plan-then-drain 1,000 /
10,000."""

from __future__ import annotations

import time

from ._support import WorkloadBenchmark

SIZES = [1000, 10_000, 100_000]


class PlanGraph(WorkloadBenchmark):
    """Validate and write a DAG of n subtasks in one plan (target: 100k nodes in ≤ 2 s)."""

    workload = "plan"
    param_names = ["n"]
    params = [SIZES]
    number = 1
    repeat = (3, 5, 10.0)
    warmup_time = 0.0
    # Calls of milliseconds are often preempted on a shared machine: CPU time, whose system-call
    # cost (a few µs here) does not matter at this scale.
    timer = staticmethod(time.process_time)
    version = "2"

    def time_plan_graph(self, n: int) -> None:
        self.step()


class DrainGraph(WorkloadBenchmark):
    """Plan a DAG of n subtasks (fan-in 2) on a new database and drain it with one agent: every
    claim and complete, and every dependent released on the way."""

    workload = "drain"
    param_names = ["n"]
    # Draining is linear in n (compare 1k with 10k); a 100k drain takes ~15 s a sample here and
    # alone would blow the quick run's 60 s budget, so 100k is covered by PlanGraph only.
    params = [SIZES[:2]]
    number = 1
    repeat = (1, 5, 10.0)
    warmup_time = 0.0
    timeout = 120
    # Calls of milliseconds are often preempted on a shared machine: CPU time, whose system-call
    # cost (a few µs here) does not matter at this scale.
    timer = staticmethod(time.process_time)
    version = "2"

    def time_drain_graph(self, n: int) -> None:
        self.step()
