"""Memory: peak RSS of the large cases, RSS and import time of a fresh process that opens a
database, and the size of the core value objects."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pympler.asizeof import asizeof  # asv installs pympler in every environment

from ._support import require, scratch_dir, session, workloads

# Run in a fresh interpreter: what a user pays to start an orchestrator.
PROBE = """
import os, resource, sys, time
start = time.process_time()
import taskorch
imported = time.process_time() - start
orch = taskorch.open(sys.argv[1])
orch.status()
try:
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
except OSError:  # not Linux: the peak is the best available figure
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(imported, rss)
"""


def _probe(directory: Path) -> tuple[float, float]:
    import taskorch

    url = f"sqlite:///{directory / 'probe.db'}"
    # The probe must import the taskorch under test, wherever this process found it.
    env = {**os.environ, "PYTHONPATH": str(Path(taskorch.__file__).parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, url], check=True, capture_output=True, text=True, env=env
    ).stdout
    imported, rss = out.split()
    return float(imported), float(rss)


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
    version = "2"

    def setup(self) -> None:
        require("open")
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
        self.orch = self._stack.enter_context(taskorch.open(f"sqlite:///{directory}/sizes.db"))

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
