"""How the nightly accounts for the PostgreSQL timings: weighed beside their bare-psycopg twins
where a server is available, skipped with the reason where neither commit had one (not broken),
and never a pass when they were all there was to judge."""

from __future__ import annotations

import math

from perfkit.timing.timings import timing_changes
from perfkit.timing.trials import Benchmark, Trial
from perfkit.verdict.account import Family, Tally, tally_changes
from perfkit.verdict.regression import Status, weigh

WHY = "no PostgreSQL server: set TASKORCH_BENCH_POSTGRES_URL, or install the server binaries"
NAN = (math.nan,)
SAME = [1.0, 1.001, 0.999, 1.0005, 0.9995, 1.0, 1.001, 0.999]


def timed(name: str) -> Benchmark:
    return Benchmark(name, name, "seconds")


def skipped(name: str) -> Trial:
    return Trial(timed(name), NAN, NAN, None, f"skipped on both commits: {WHY}")


def weighed(name: str, factor: float = 1.0) -> Trial:
    after = [v * factor for v in SAME]
    return Trial(timed(name), tuple(SAME), tuple(after), weigh(SAME, after, 0.05))


def account(trials: list[Trial]) -> tuple[Tally, list[str]]:
    changes, machine = timing_changes(trials, "a" * 40, "b" * 40)
    tally = tally_changes(Tally(Family.TIMINGS), [*changes, *machine])
    return tally, [c.benchmark for c in changes if c.status is Status.BROKE]


def test_postgresql_timings_without_a_server_are_skipped_with_the_reason() -> None:
    pg = ["postgres.PgPlan.time_pg_plan(1)", "raw.RawPgPlan.time_raw_pg_plan(1)"]
    tally, broke = account([weighed("lifecycle.Claim.time_claim"), *map(skipped, pg)])
    assert broke == [] and tally.broke == 0
    assert tally.compared == 1 and not tally.judged_nothing
    assert tally.skipped == {f"skipped on both commits: {WHY}": pg}


def test_a_night_of_postgresql_timings_alone_without_a_server_judged_nothing() -> None:
    tally, _ = account([skipped("postgres.PgGet.time_pg_get(10000)")])
    assert tally.judged_nothing and WHY in tally.reason


def test_a_postgresql_timing_that_moved_with_its_psycopg_twin_is_the_machine() -> None:
    ours, raw = "postgres.PgGet.time_pg_get(10000)", "raw.RawPgGet.time_raw_pg_get(10000)"
    changes, machine = timing_changes([weighed(ours, 1.3), weighed(raw, 1.3)], "a", "b")
    assert [c.benchmark for c in changes if c.status is Status.REGRESSED] == []
    reasons = {c.benchmark: c.reason for c in machine}
    assert sorted(reasons) == [ours, raw]
    assert f"its raw reference {raw} moved alike" in reasons[ours]
