"""Task creation and life cycle: plan, claim, complete, and a whole plan worked to synthesis."""

from __future__ import annotations

from ._support import WorkloadBenchmark


class Plan(WorkloadBenchmark):
    """Plan a goal with n subtasks (dependencies chained), durable: one transaction each."""

    workload = "plan"
    param_names = ["n"]
    params = [[1, 10, 1000]]
    version = "1"

    def time_plan(self, n: int) -> None:
        self.step()


class Claim(WorkloadBenchmark):
    """Claim the oldest ready subtask: the agent's hot path, one atomic UPDATE ... RETURNING."""

    workload = "claim"
    version = "1"

    def time_claim(self) -> None:
        self.step()


class Complete(WorkloadBenchmark):
    """Complete a held subtask: result written, dependents and the plan's parent updated."""

    workload = "complete"
    version = "1"

    def time_complete(self) -> None:
        self.step()


class ClaimComplete(WorkloadBenchmark):
    """One agent cycle: claim a ready subtask and complete it (target: ≤ 50 µs)."""

    workload = "claim_complete"
    version = "2"  # the store starts larger than the page cache

    def time_claim_complete(self) -> None:
        self.step()


class Lifecycle(WorkloadBenchmark):
    """A plan of 3 subtasks worked end to end: plan, claim, context, complete each, synthesize."""

    workload = "lifecycle"
    version = "1"

    def time_lifecycle(self) -> None:
        self.step()
