"""Every corpus case through the real tracker: the verdict and, for leaks, the line."""

from __future__ import annotations

import pytest

from leakcheck import check_session
from leakcheck.corpus import CASES, Case

# Thread start-ups or many allocations per call make these slow. Fewer iterations keep the
# suite quick; the rule holds while half the window is well above their bounded structures.
ITERATIONS = {
    "thread_per_call": 4000,
    "thread_pool_leak": 6000,
    "worker_thread_leak": 6000,
    "worker_thread_clean": 6000,
    "sqlite_roundtrip": 6000,
    "object_pipeline": 6000,
}

SCORED = [case for case in CASES.values() if not case.beyond_reach]


@pytest.mark.parametrize("case", SCORED, ids=lambda case: case.name)
def test_verdict(case: Case) -> None:
    report = check_session(case.session, iterations=ITERATIONS.get(case.name, 20_000), warmup=2000)
    assert report.leaked == case.leaks, report.describe()
    if case.leaks:
        first = report.locations[0]
        assert first.steady
        assert first.file.endswith("corpus.py")
        assert first.line == case.leak_line, report.describe()
    else:
        assert report.leaks == ()


def test_slow_leak_rate_is_measured() -> None:
    report = check_session(CASES["slow_leak"].session, iterations=20_000, warmup=2000)
    # One 50-byte object every 100 iterations.
    assert report.bytes_per_iteration == pytest.approx(0.5, rel=0.05)
    assert report.locations[0].allocations_per_iteration == pytest.approx(0.01, rel=0.05)


def test_a_cache_larger_than_half_the_window_is_beyond_reach() -> None:
    case = CASES["cache_beyond_window"]
    assert case.beyond_reach
    assert check_session(case.session, iterations=20_000, warmup=2000).leaked
    # ...and no longer looks like a leak once the window is more than twice its size.
    assert not check_session(case.session, iterations=110_000, warmup=60_000).leaked


def test_corpus_marks_exactly_the_leaking_cases() -> None:
    assert {c.name for c in CASES.values() if c.leak_line} == {
        c.name for c in CASES.values() if c.leaks
    }
