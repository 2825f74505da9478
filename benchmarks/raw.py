"""Raw references: the same durable write and the same primary-key read as taskorch's, done with
bare sqlite3 in the same run, and the same physical work as taskorch's PostgreSQL operations done
with bare psycopg, so that ours/raw can be read from every result set. What each one includes
(the same rows, columns and index entries) is in docs/benchmarks.md; a move of theirs is the
machine's (``perfkit.verdict.controls``).
"""

from __future__ import annotations

from ._pg import PgBenchmark, PgRounds
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


# -- bare psycopg: the PostgreSQL references of ``postgres.*``, on the same server ----------


class RawPgPlan(PgBenchmark):
    """A plan's rows and edges in one statement, one commit: the limit for ``postgres.PgPlan``."""

    workload = "raw_pg_plan"
    param_names = ["n"]
    params = [[1, 1000]]
    version = "1"

    def time_raw_pg_plan(self, server: dict[str, str], n: int) -> None:
        self.step()


class RawPgClaimComplete(PgBenchmark):
    """Claim (SKIP LOCKED) and complete, one statement each."""

    workload = "raw_pg_claim_complete"
    version = "1"

    def time_raw_pg_claim_complete(self, server: dict[str, str]) -> None:
        self.step()


class RawPgGet(PgBenchmark):
    """One row by primary key from n rows."""

    workload = "raw_pg_get"
    kind = "store"
    param_names = ["n"]
    params = [[10_000]]
    version = "2"  # 2: the store is vacuumed and analyzed once built

    def time_raw_pg_get(self, server: dict[str, str], n: int) -> None:
        self.step()


class RawPgStatus(PgBenchmark):
    """count(*) by status over n rows, from the (status, id) index."""

    workload = "raw_pg_status"
    kind = "store"
    param_names = ["n"]
    params = [[10_000]]
    version = "2"  # 2: the store is vacuumed and analyzed once built

    def time_raw_pg_status(self, server: dict[str, str], n: int) -> None:
        self.step()


class RawPgReadyQuery(PgBenchmark):
    """The first 10 ready rows by id, from the (status, id) index."""

    workload = "raw_pg_ready_query"
    kind = "store"
    param_names = ["n"]
    params = [[10_000]]
    version = "2"  # 2: the store is vacuumed and analyzed once built

    def time_raw_pg_ready_query(self, server: dict[str, str], n: int) -> None:
        self.step()


class RawPgPool(PgRounds):
    """The same exhaustion and recovery on a bare psycopg_pool with the raw statements."""

    workload = "raw_pg_pool"
    param_names = ["pool_size"]
    params = [[4]]
    version = "1"

    def time_raw_pg_pool(self, server: dict[str, str], pool_size: int) -> None:
        self.step()


class RawPgFleet(PgRounds):
    """The same fleet of processes with the raw statements."""

    workload = "raw_pg_fleet"
    param_names = ["processes"]
    params = [[2]]
    version = "1"

    def time_raw_pg_fleet(self, server: dict[str, str], processes: int) -> None:
        self.step()
