"""The decision rule on synthetic lifetimes: no memray, no timing, just the arithmetic."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leakcheck import TrackerError, tracking
from leakcheck.analysis import assess
from leakcheck.attribution import Attribution
from leakcheck.capture import Lifetimes, Span
from leakcheck.report import Frame
from leakcheck.tracking import MARKER_BYTES, MARKER_FUNCTION, LoopPlan

PLAN = LoopPlan(iterations=8000, warmup=0)  # 8 segments of 1000 iterations
SEGMENTS = PLAN.segments
# Boundary k sits at snapshot 10k+1; allocations of segment k get snapshots 10k+2..10k+11.
BOUNDARIES = [10 * k + 1 for k in range(SEGMENTS + 1)]
ATTRIBUTION = Attribution([tracking.__file__], workload_caller=tracking.WORKLOAD_CALLER)
USER = "/work/app/job.py"


def markers(boundaries: Sequence[int] = BOUNDARIES) -> Lifetimes:
    stack = ((MARKER_FUNCTION, tracking.__file__, 140), ("run_loop", tracking.__file__, 120))
    return Lifetimes(stack, tuple(Span(b, None, 1, MARKER_BYTES) for b in boundaries))


def line(number: int, spans: Sequence[Span]) -> Lifetimes:
    return Lifetimes((("step", USER, number),), tuple(spans))


def born_in(segment: int) -> int:
    return BOUNDARIES[segment] + 5


def judge(*records: Lifetimes, threshold: float = 0.1):  # type: ignore[no-untyped-def]
    return assess([markers(), *records], plan=PLAN, attribution=ATTRIBUTION, threshold=threshold)


def test_steady_leak_is_flagged_and_located() -> None:
    kept = line(7, [Span(born_in(k), None, 10, 500) for k in range(SEGMENTS)])
    verdict = judge(kept)
    assert verdict.leaked
    assert verdict.bytes_per_iteration == pytest.approx(0.5)
    (location,) = verdict.locations
    assert location.frame == Frame("step", USER, 7)
    assert location.growth == (500,) * SEGMENTS
    assert location.allocations_per_iteration == pytest.approx(0.01)


def test_memory_freed_before_the_end_is_not_a_leak() -> None:
    # A sawtooth: everything allocated is freed two segments later.
    churn = line(3, [Span(born_in(k), born_in(k + 2), 10, 5000) for k in range(SEGMENTS - 2)])
    verdict = judge(churn)
    assert not verdict.leaked
    assert verdict.bytes_per_iteration == 0


def test_warm_up_in_the_first_half_is_not_a_leak() -> None:
    # A cache filled during the first segment survives to the end but stops growing.
    warm = line(4, [Span(born_in(0), None, 300, 64_000)])
    verdict = judge(warm)
    assert not verdict.leaked
    assert verdict.locations[0].bytes_per_iteration == pytest.approx(16.0)
    assert not verdict.locations[0].steady


def test_warm_up_plus_a_slow_creep_counts_only_the_creep() -> None:
    # The free-list pattern: a big warm-up, then a few bytes in every segment.
    spans = [Span(born_in(0), None, 300, 64_000)]
    spans += [Span(born_in(k), None, 1, 56) for k in range(1, SEGMENTS)]
    verdict = judge(line(5, spans))
    assert verdict.locations[0].steady
    assert verdict.bytes_per_iteration == pytest.approx(0.056)
    assert not verdict.leaked


def test_growth_only_after_the_first_half_keeps_nothing() -> None:
    late = line(6, [Span(born_in(k), None, 1, 100) for k in range(SEGMENTS // 2, SEGMENTS)])
    assert not judge(late).leaked


def test_one_segment_without_growth_breaks_the_steadiness() -> None:
    spans = [Span(born_in(k), None, 1, 1000) for k in range(SEGMENTS) if k != 6]
    verdict = judge(line(8, spans))
    assert not verdict.leaked
    assert verdict.locations[0].growth[6] == 0


def test_harness_and_marker_records_are_not_reported() -> None:
    harness = Lifetimes(
        (("run_loop", tracking.__file__, 118),),
        tuple(Span(born_in(k), None, 1, 6000) for k in range(SEGMENTS)),
    )
    verdict = judge(harness)
    assert verdict.locations == ()
    assert not verdict.leaked


def test_leaks_are_listed_before_larger_bounded_survivors() -> None:
    bounded = line(1, [Span(born_in(0), None, 100, 400_000)])
    leaking = line(2, [Span(born_in(k), None, 1, 200) for k in range(SEGMENTS)])
    verdict = judge(bounded, leaking)
    assert [loc.line for loc in verdict.locations] == [2, 1]


def test_a_capture_without_the_markers_is_refused() -> None:
    with pytest.raises(TrackerError, match="markers"):
        assess([], plan=PLAN, attribution=ATTRIBUTION, threshold=0.1)


def test_merged_boundaries_are_reported_not_invented() -> None:
    merged = list(BOUNDARIES)
    merged[3] = merged[2]  # no snapshot during one pause
    records = [markers(merged), line(9, [Span(born_in(k), None, 1, 500) for k in range(SEGMENTS)])]
    verdict = assess(records, plan=PLAN, attribution=ATTRIBUTION, threshold=0.1)
    assert verdict.warnings


@given(
    per_segment=st.lists(st.integers(min_value=1, max_value=10_000), min_size=8, max_size=8),
    lifetime=st.integers(min_value=1, max_value=3),
)
def test_any_positive_leak_is_flagged_and_any_churn_is_not(
    per_segment: list[int], lifetime: int
) -> None:
    leak = line(1, [Span(born_in(k), None, 1, n) for k, n in enumerate(per_segment)])
    expected = min(sum(per_segment[:4]) / 4000, min(per_segment[4:]) / 1000)
    verdict = judge(leak, threshold=0.0)
    assert verdict.leaked
    assert verdict.bytes_per_iteration == pytest.approx(expected)

    churn = line(
        2,
        [
            Span(born_in(k), born_in(k + lifetime), 1, n)
            for k, n in enumerate(per_segment)
            if k + lifetime < SEGMENTS
        ],
    )
    assert not judge(churn, threshold=0.0).leaked
