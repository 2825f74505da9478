"""The night's trials within their time: every benchmark's first weighing before any measures
more, the cheap families first, and what the time left unsettled reported inconclusive (never
the same). A clock that advances one minute a process stands for time."""

from __future__ import annotations

from pathlib import Path

from perfkit.timing.timings import cost_order, timing_changes, weigh_all
from perfkit.timing.trials import Benchmark, Course, Runner, Side
from perfkit.verdict.account import Family, Tally, tally_changes
from perfkit.verdict.regression import Answer, Status

QUIET = [1.0, 1.001, 0.999, 1.0005, 0.9995, 1.0, 1.001, 0.999] * 4
SPREAD = [1.0, 1.04, 0.96, 1.03, 0.97, 1.05, 0.95, 1.02] * 4


def bench(name: str) -> Benchmark:
    return Benchmark(name, name, "seconds")


class Clocked(Runner):
    """Each benchmark's values by side; every process costs a minute of the clock."""

    def __init__(self, values: dict[str, tuple[list[float], list[float]]]) -> None:
        self.values = {name: (list(a), list(b)) for name, (a, b) in values.items()}
        self.minutes = 0.0
        self.order: list[str] = []

    def once(self, side: Side, benchmark: Benchmark) -> float:
        self.minutes += 1
        self.order.append(benchmark.name)
        return self.values[benchmark.name][side.commit == "b"].pop(0)

    def clock(self) -> float:
        return self.minutes * 60


def courses(runner: Clocked, names: list[str]) -> list[Course]:
    a, b = (Side(c, Path("/nonexistent"), Path("/nonexistent")) for c in "ab")
    return [Course(runner, bench(n), a, b, {}, 8, 16) for n in names]


def shifted(values: list[float], factor: float) -> list[float]:
    return [v * factor for v in values[3:] + values[:3]]


def test_every_first_weighing_comes_before_any_benchmark_measures_more() -> None:
    runner = Clocked({"slow": (SPREAD, shifted(SPREAD, 1.02)), "quick": (QUIET, QUIET)})
    found = weigh_all(courses(runner, ["slow", "quick"]), None, runner.clock)
    assert runner.order[:32] == ["slow"] * 16 + ["quick"] * 16
    assert [t.answer for t in found] == [Answer.UNKNOWN, Answer.SAME]
    assert len(found[0].before) == 16 and len(found[1].before) == 8


def test_what_the_budget_left_unsettled_is_inconclusive_never_the_same() -> None:
    values = {"slow": (SPREAD, shifted(SPREAD, 1.02)), "quick": (QUIET, QUIET),
              "last": (QUIET, QUIET)}  # fmt: skip
    runner = Clocked(values)
    # 20 minutes: the two first weighings (16 processes each) fit, "last" never starts and
    # "slow" stops at its first weighing.
    found = weigh_all(courses(runner, ["slow", "quick", "last"]), 20, runner.clock)
    by = {t.benchmark.name: t for t in found}
    assert by["quick"].answer is Answer.SAME
    assert by["slow"].answer is Answer.UNKNOWN and len(by["slow"].before) == 8
    assert by["slow"].note == "the night's 20 min for timings ran out at 8 processes a side"
    assert by["last"].weighing is None and by["last"].before == ()
    changes, _ = timing_changes(found, "a", "b")
    tally = tally_changes(Tally(Family.TIMINGS), changes)
    assert tally.compared == 1 and tally.inconclusive == 2 and not tally.skipped
    reasons = {c.benchmark: c.reason for c in changes}
    assert reasons["last"] == "unknown: not weighed: the night's 20 min for timings ran out"
    assert reasons["slow"].startswith("unknown: x") and "ran out" in reasons["slow"]
    assert all(c.status is Status.UNCHANGED for c in changes)


def test_the_sqlite_timings_come_before_the_postgresql_ones() -> None:
    names = ["postgres.PgGet.time_pg_get(10000)", "lifecycle.Claim.time_claim",
             "raw.RawPgGet.time_raw_pg_get(10000)", "raw.RawGet.time_raw_get(1000)"]  # fmt: skip
    assert [b.name for b in cost_order([bench(n) for n in names])] == [
        "lifecycle.Claim.time_claim", "raw.RawGet.time_raw_get(1000)",
        "postgres.PgGet.time_pg_get(10000)", "raw.RawPgGet.time_raw_pg_get(10000)",
    ]  # fmt: skip
