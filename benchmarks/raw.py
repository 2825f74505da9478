"""Raw sqlite3 references: the same durable write and the same primary-key read as taskorch's,
done with bare sqlite3 in the same run, so that ours/raw can be read from every result set.
What each one includes (the same rows, columns and index entries) is in docs/benchmarks.md."""

from __future__ import annotations

from ._support import WorkloadBenchmark


class RawInsert(WorkloadBenchmark):
    """The rows of a plan of n subtasks (+1 parent), every column taskorch writes, with the entries
    of the three partial indexes a correct schema needs, in one commit, WAL,
    synchronous=NORMAL: the physical limit for ``lifecycle.Plan``. (Version 2: version 1 wrote
    narrower rows, no index and the edges as rows of a table of their own.)"""

    workload = "raw_insert"
    param_names = ["n"]
    params = [[1, 10, 1000]]
    version = "2"

    def time_raw_insert(self, n: int) -> None:
        self.step()


class RawGet(WorkloadBenchmark):
    """One task's 15 columns by primary key, from a store of n tasks shaped as ``database.Get``'s,
    on a connection opened after the store was written: the physical limit for ``database.Get``.
    (Version 2: version 1 read 9 short columns from a table of such rows, written by the same
    connection.)"""

    workload = "raw_get"
    param_names = ["n"]
    params = [[1000, 100_000]]
    version = "2"

    def time_raw_get(self, n: int) -> None:
        self.step()
