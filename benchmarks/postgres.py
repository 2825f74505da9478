"""taskorch on PostgreSQL: the core operations, the connection pool exhausted and recovered, and
a fleet of agents in two processes. Each has a bare-psycopg twin in ``raw`` (``raw.RawPg*``)
measured in the same run on the same server. Skipped, saying why, where no server can be had
(``benchmarks/_pg.py``)."""

from __future__ import annotations

import statistics

from ._pg import PgBenchmark, PgRounds
from ._support import quick_run

STORE = [10_000]


class PgPlan(PgBenchmark):
    """Plan a goal with n subtasks (dependencies chained): one transaction each."""

    workload = "pg_plan"
    param_names = ["n"]
    params = [[1, 1000]]
    version = "1"

    def time_pg_plan(self, server: dict[str, str], n: int) -> None:
        self.step()


class PgClaimComplete(PgBenchmark):
    """One agent cycle: claim the oldest ready subtask (SKIP LOCKED) and complete it."""

    workload = "pg_claim_complete"
    version = "1"

    def time_pg_claim_complete(self, server: dict[str, str]) -> None:
        self.step()


class PgGet(PgBenchmark):
    """Read one task by id from a store of n tasks."""

    workload = "pg_get"
    kind = "store"
    param_names = ["n"]
    params = [STORE]
    version = "2"  # 2: the store is vacuumed and analyzed once built

    def time_pg_get(self, server: dict[str, str], n: int) -> None:
        self.step()


class PgStatus(PgBenchmark):
    """Counts by state over a store of n tasks."""

    workload = "pg_status"
    kind = "store"
    param_names = ["n"]
    params = [STORE]
    version = "2"  # 2: the store is vacuumed and analyzed once built

    def time_pg_status(self, server: dict[str, str], n: int) -> None:
        self.step()


class PgReadyQuery(PgBenchmark):
    """The first 10 ready subtasks of a store of n tasks."""

    workload = "pg_ready_query"
    kind = "store"
    param_names = ["n"]
    params = [STORE]
    version = "2"  # 2: the store is vacuumed and analyzed once built

    def time_pg_ready_query(self, server: dict[str, str], n: int) -> None:
        self.step()


class PgPool(PgRounds):
    """Pool exhaustion and recovery with pool_size connections: every connection held, one
    caller times out after pool_timeout (50 ms, inside the time), callers queue while the
    holders finish, then the pool serves pool_size callers at once."""

    workload = "pg_pool"
    param_names = ["pool_size"]
    params = [[4]]
    version = "1"

    def time_pg_pool(self, server: dict[str, str], pool_size: int) -> None:
        self.step()


class PgFleet(PgRounds):
    """Agents in p processes (one each) drain 200 independent subtasks planned in the step;
    every task completed exactly once, or the benchmark fails."""

    workload = "pg_fleet"
    param_names = ["processes"]
    params = [[2]]
    version = "1"

    def time_pg_fleet(self, server: dict[str, str], processes: int) -> None:
        self.step()


class PgFleetThroughput(PgRounds):
    """The same fleet's throughput: claim + complete loops per second over all processes, the
    median of 5 rounds (1 under --quick)."""

    workload = "pg_fleet"
    param_names = ["processes"]
    params = [[2]]
    unit = "loops/s"
    version = "1"

    def track_pg_fleet_loops_per_second(self, server: dict[str, str], processes: int) -> float:
        rounds = [self.step() for _ in range(1 if quick_run() else 5)]
        return float(statistics.median(r.loops_per_second for r in rounds))  # type: ignore[attr-defined]
