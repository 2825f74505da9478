"""Raw sqlite3 references: the same durable write and the same primary-key read as taskorch's,
done with bare sqlite3 in the same run, so that ours/raw can be read from every result set."""

from __future__ import annotations

from ._support import WorkloadBenchmark


class RawInsert(WorkloadBenchmark):
    """The rows of a plan of n subtasks (+1 parent) inserted in one commit, WAL, synchronous=NORMAL:
    the physical limit for ``lifecycle.Plan``."""

    workload = "raw_insert"
    param_names = ["n"]
    params = [[1, 10, 1000]]
    version = "1"

    def time_raw_insert(self, n: int) -> None:
        self.step()


class RawGet(WorkloadBenchmark):
    """One row by primary key from n rows: the physical limit for ``database.Get``."""

    workload = "raw_get"
    param_names = ["n"]
    params = [[1000, 100_000]]
    version = "1"

    def time_raw_get(self, n: int) -> None:
        self.step()
