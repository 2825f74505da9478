"""Database operations on a store in use: get by id, status, the ready-task query, at 1,000 and
100,000 stored tasks. The stores are built once per run (``setup_cache``) and shared."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ._support import WorkloadBenchmark, require, session, workloads

SIZES = [1000, 100_000]


class StoreBenchmark(WorkloadBenchmark):
    """Base for reads over the built stores. Building a store uses ``Orchestrator.batch``; a
    commit without it gets no store, and its read benchmarks are skipped."""

    param_names = ["n"]
    params = [SIZES]
    timeout = 180  # setup_cache builds 100k tasks (about 10 s here; a slow commit takes longer)

    def setup_cache(self) -> dict[int, str]:
        try:
            require("Orchestrator.batch")
        except NotImplementedError:
            return {}
        directory = Path(os.getcwd())  # asv keeps this directory for the run, then deletes it
        build = workloads().build_store
        return {n: str(build(directory / f"store-{n}.db", n).parent) for n in SIZES}

    def setup(self, stores: dict[int, str], n: int) -> None:
        if n not in stores:
            raise NotImplementedError("this commit cannot build the store (no Orchestrator.batch)")
        self.step = session(self.workload, Path(stores[n]), n=n)

    def teardown(self, *args: Any) -> None:
        pass


class Get(StoreBenchmark):
    """Read one task by id (``lifecycle.Plan`` wrote it; ``raw.RawGet`` is the limit)."""

    workload = "get"
    version = "1"

    def time_get(self, stores: dict[int, str], n: int) -> None:
        self.step()


class Status(StoreBenchmark):
    """Counts by state over the whole store, from indexes (target: ≤ 5 ms at 100k tasks)."""

    workload = "status"
    # Calls of milliseconds are often preempted on a shared machine: CPU time, whose system-call
    # cost (a few µs here) does not matter at this scale.
    timer = staticmethod(time.process_time)
    version = "2"

    def time_status(self, stores: dict[int, str], n: int) -> None:
        self.step()


class ReadyQuery(StoreBenchmark):
    """The first 10 ready subtasks, as a dashboard or a scheduler lists them."""

    workload = "ready_query"
    version = "1"

    def time_ready_query(self, stores: dict[int, str], n: int) -> None:
        self.step()


class StatusPlans(WorkloadBenchmark):
    """Counts by state with p active plans of one subtask each: must not grow with the number of
    plans (the peer's status ran 1 + 2p queries)."""

    workload = "status_plans"
    param_names = ["parents"]
    params = [[100, 1000]]
    version = "1"

    def time_status_plans(self, parents: int) -> None:
        self.step()
