"""The regression rule: both directions, missing and failed values, asv's significance test."""

from __future__ import annotations

import json
import math

import pytest
from asv_runner.statistics import compute_stats  # type: ignore[import-untyped]

from perfkit.data.asvdata import Measurement
from perfkit.verdict.regression import Status, compare, higher_is_better, judge
from tests.asvfiles import spread


def point(
    value: float | None,
    unit: str = "seconds",
    *,
    samples: list[float] | None = None,
    version: str = "1",
    commit: str = "c",
) -> Measurement:
    stats = None
    if samples is not None:
        value, stats = compute_stats(samples, 1)
    return Measurement(
        "a.B.time_c(1)",
        commit,
        0,
        math.nan if value is None else value,
        failed=value is None,
        unit=unit,
        version=version,
        stats=stats,
        samples=None if samples is None else tuple(samples),
    )


@pytest.mark.parametrize(
    ("before", "after", "status"),
    [
        (1.0, 1.2, Status.REGRESSED),
        (1.0, 1.1, Status.UNCHANGED),
        (1.0, 0.8, Status.IMPROVED),
        (1.0, 1.0, Status.UNCHANGED),
        (0.0, 0.18, Status.REGRESSED),  # a count that was zero (retained blocks)
        (0.0, 0.0, Status.UNCHANGED),
    ],
)
def test_lower_is_better_for_times_sizes_and_counts(
    before: float, after: float, status: Status
) -> None:
    change = judge(point(before, commit="old"), point(after, commit="new"))
    assert change.status is status and not change.higher_is_better
    assert (change.baseline, change.commit, change.benchmark) == ("old", "new", "a.B.time_c(1)")
    if before:
        assert change.ratio == pytest.approx(after / before)


@pytest.mark.parametrize(
    ("before", "after", "status"),
    [(5000.0, 4000.0, Status.REGRESSED), (5000.0, 6500.0, Status.IMPROVED)],
)
def test_higher_is_better_for_rates(before: float, after: float, status: Status) -> None:
    change = judge(point(before, "loops/s"), point(after, "loops/s"))
    assert change.status is status and change.higher_is_better
    assert change.as_dict()["better"] == "higher"


def test_only_a_unit_per_second_is_a_rate() -> None:
    assert higher_is_better("loops/s") and higher_is_better("tasks/s ")
    assert not any(map(higher_is_better, ["seconds", "bytes", "statements", "ms", "MiB", ""]))


@pytest.mark.parametrize(
    ("before", "after", "status", "reason"),
    [
        (None, point(1.0), Status.INCOMPARABLE, "new"),
        (point(1.0), None, Status.INCOMPARABLE, "not measured after"),
        (None, point(None), Status.BROKE, "fails"),
        (point(1.0), point(None), Status.BROKE, "fails"),
        (point(None), point(None), Status.BROKE, "still fails"),
        (point(None), point(1.0), Status.INCOMPARABLE, "failed before"),
        (point(1.0), point(math.nan), Status.INCOMPARABLE, "skipped"),
        (point(1.0), point(9.0, version="2"), Status.INCOMPARABLE, "benchmark version changed"),
    ],
)
def test_missing_failed_skipped_and_edited_benchmarks(
    before: Measurement | None, after: Measurement | None, status: Status, reason: str
) -> None:
    change = judge(before, after)
    assert (change.status, change.reason, change.ratio) == (status, reason, None)


def test_a_ratio_beyond_the_factor_must_also_be_significant() -> None:
    noisy_a = [1.0, 1.6, 0.9, 1.5, 1.0, 1.7, 0.95, 1.4, 1.05, 1.6]
    noisy_b = [x * 1.2 for x in noisy_a[::-1]]
    change = judge(point(0, samples=noisy_a), point(0, samples=noisy_b))
    assert change.ratio is not None and change.ratio > 1.15
    assert change.status is Status.UNCHANGED and "not significant" in change.reason
    tight = judge(point(0, samples=spread(1.0)), point(0, samples=spread(1.2)))
    assert tight.status is Status.REGRESSED


def test_the_factor_is_the_callers() -> None:
    assert judge(point(1.0), point(1.1), factor=1.05).status is Status.REGRESSED
    assert judge(point(1.0), point(1.3), factor=1.5).status is Status.UNCHANGED


def test_compare_judges_every_benchmark_of_either_side() -> None:
    def named(name: str, value: float | None) -> Measurement:
        return Measurement(name, "c", 0, math.nan if value is None else value, value is None)

    before = {"x": named("x", 1.0), "y": named("y", 1.0)}
    after = {"y": named("y", 2.0), "z": named("z", None)}
    changes = compare(before, after)
    assert [(c.benchmark, c.status) for c in changes] == [
        ("x", Status.INCOMPARABLE),
        ("y", Status.REGRESSED),
        ("z", Status.BROKE),
    ]
    # plain JSON: no NaN, no infinity
    json.dumps([c.as_dict() for c in changes], allow_nan=False)
    zero = judge(named("w", 0.0), named("w", 1.0))
    assert zero.ratio == math.inf and zero.as_dict()["ratio"] is None
