"""The event bus: publish one state-change event to 0, 1 and 10 subscribers."""

from __future__ import annotations

from ._support import WorkloadBenchmark


class Publish(WorkloadBenchmark):
    """Publish to k subscribers whose readers keep up (queues drained every 500 events)."""

    workload = "publish"
    param_names = ["subscribers"]
    params = [[0, 1, 10]]
    version = "1"

    def time_publish(self, subscribers: int) -> None:
        self.step()
