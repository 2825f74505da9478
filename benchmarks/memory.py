"""Memory: peak RSS of the large cases, RSS and import time of a fresh process that opens a
database, and the size of the core value objects."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pympler.asizeof import asizeof  # asv installs pympler in every environment

from ._support import perfkit_module, require, scratch_dir, session, workloads

# Run in a fresh interpreter: what a user pays to start an orchestrator. It imports nothing for
# the measuring: it waits, and this process reads its RSS (perfkit.harness.memory.run_measured).
PROBE = """
import sys, time
start = time.process_time()
import taskorch
imported = time.process_time() - start
orch = taskorch.open(sys.argv[1])
orch.status()
print(imported)
print(sys.argv[2], flush=True)
sys.stdin.readline()
"""


def _probe(directory: Path) -> tuple[float, float]:
    import taskorch

    memory = perfkit_module("harness.memory")
    url = perfkit_module("harness.store").fresh_url(directory, "probe")
    # The probe must import the taskorch under test, wherever this process found it.
    env = {**os.environ, "PYTHONPATH": str(Path(taskorch.__file__).parents[1])}
    run = memory.run_measured([sys.executable, "-c", PROBE, url, memory.READY], env=env)
    if run.returncode != 0 or run.memory is None:
        raise RuntimeError(f"the footprint probe failed: {run.stderr[-2000:]}")
    return float(run.stdout.split()[0]), float(run.memory.rss_bytes)


def _deep(obj: object) -> float:
    """Bytes reachable from ``obj``."""
    return float(asizeof(obj))  # type: ignore[no-untyped-call]


class PeakMemPlan:
    """Peak RSS of a process that plans a DAG of n subtasks."""

    param_names = ["n"]
    params = [[1000, 10_000, 100_000]]
    version = "1"

    def setup(self, n: int) -> None:
        require("Orchestrator.plan")
        self.step = session("plan", None, n=n)

    def peakmem_plan_graph(self, n: int) -> None:
        self.step()


class PeakMemDrain:
    """Peak RSS of a process that plans and drains a DAG of n subtasks."""

    param_names = ["n"]
    params = [[1000, 10_000]]
    timeout = 120
    version = "1"

    def setup(self, n: int) -> None:
        require("Orchestrator.plan", "Orchestrator.claim", "Orchestrator.complete")
        self.step = session("drain", None, n=n)

    def peakmem_drain_graph(self, n: int) -> None:
        self.step()


class Footprint:
    """A fresh process that imports taskorch and opens a database (targets: ≤ 30 MiB RSS,
    import ≤ 100 ms). Import time is CPU time, the smallest of five processes, to keep the
    machine's other work out of it."""

    timeout = 120
    version = "3"  # RSS read from outside the probe, which no longer imports os or resource

    def setup(self) -> None:
        require("open")
        try:
            import psutil  # noqa: F401  (reads the probe's RSS)
        except ImportError as exc:
            raise NotImplementedError("psutil is not installed in this environment") from exc
        self.directory = scratch_dir()
        self.samples = [_probe(self.directory) for _ in range(5)]

    def track_rss_after_open(self) -> float:
        return min(rss for _, rss in self.samples) / 2**20

    track_rss_after_open.unit = "MiB"  # type: ignore[attr-defined]

    def track_import_time(self) -> float:
        return min(imported for imported, _ in self.samples) * 1000.0

    track_import_time.unit = "ms"  # type: ignore[attr-defined]


class ObjectSizes:
    """Sizes of what the engine hands out: a Task, a Plan of 1,000 subtasks, an Event, and an open
    Orchestrator with its caches empty.

    ``mem_`` is asv's measure: the object's own size, what a copy of it adds (its fields, not what
    they point to), which catches a value object that grows a field or loses ``__slots__``.
    ``track_deep_*`` is everything reachable from the object (pympler), in bytes.
    """

    version = "2"

    def setup(self) -> None:
        require("Orchestrator.plan", "Orchestrator.claim", "Event")
        import taskorch

        self._stack = ExitStack()
        directory = scratch_dir()
        self.task = self._stack.enter_context(workloads().WORKLOADS["claim"].session(directory))()
        self.plan = self._stack.enter_context(
            workloads().WORKLOADS["plan"].session(directory, n=1000)
        )()
        self.event = taskorch.Event("completed", 1, None, "agent", 0.0)
        fresh = perfkit_module("harness.store").open_fresh(directory, "sizes")
        self.orch = self._stack.enter_context(fresh)

    def teardown(self, *args: Any) -> None:
        self._stack.close()

    def mem_task(self) -> object:
        return self.task

    def mem_event(self) -> object:
        return self.event

    def track_deep_task(self) -> float:
        return _deep(self.task)

    track_deep_task.unit = "bytes"  # type: ignore[attr-defined]

    def track_deep_plan_1000(self) -> float:
        return _deep(self.plan)

    track_deep_plan_1000.unit = "bytes"  # type: ignore[attr-defined]

    def track_deep_orchestrator(self) -> float:
        return _deep(self.orch)

    track_deep_orchestrator.unit = "bytes"  # type: ignore[attr-defined]
