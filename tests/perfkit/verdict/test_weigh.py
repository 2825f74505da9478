"""The rule for two groups of independent observations (:func:`perfkit.verdict.regression.weigh`): a
difference needs both significance and an effect beyond the threshold, identical code is "the
same" or "unknown" but not "different", and bad input is refused by name."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from perfkit.verdict.calibration_data import load_thresholds
from perfkit.verdict.regression import Answer, Status, threshold_of, timed, weigh, weighed
from taskorch.errors import ConfigurationError


def processes(n: int, seed: int, shift: float = 1.0, sigma: float = 0.02) -> list[float]:
    """``n`` process medians around 10 µs times ``shift``, log-normal spread ``sigma``."""
    r = random.Random(seed)
    return [1e-5 * shift * math.exp(r.gauss(0, sigma)) for _ in range(n)]


def test_a_ten_percent_slowdown_is_different() -> None:
    found = [weigh(processes(8, s), processes(8, 1000 + s, 1.10)).answer for s in range(20)]
    assert found.count(Answer.DIFFERENT) >= 18


def test_identical_code_is_never_different() -> None:
    for seed in range(200):
        w = weigh(processes(8, seed), processes(8, 10_000 + seed))
        assert w.answer is not Answer.DIFFERENT, (seed, w)


def test_quiet_identical_code_is_the_same() -> None:
    w = weigh(processes(16, 1, sigma=0.005), processes(16, 2, sigma=0.005))
    assert w.answer is Answer.SAME and w.low < 1 < w.high


def test_a_significant_change_inside_the_threshold_is_not_different() -> None:
    w = weigh(processes(16, 1, sigma=0.002), processes(16, 2, 1.03, sigma=0.002), threshold=0.05)
    assert w.p < 1e-6 and w.answer is not Answer.DIFFERENT


def test_a_few_slow_processes_do_not_hide_a_slowdown_or_make_one() -> None:
    clean = processes(16, 3)
    dirty = [v * (1.6 if i in (2, 9, 13) else 1) for i, v in enumerate(clean)]
    assert weigh(dirty, processes(16, 4, 1.12)).answer is Answer.DIFFERENT
    assert weigh(dirty, processes(16, 5)).answer is not Answer.DIFFERENT


def test_the_ratio_reads_after_over_before() -> None:
    w = weigh([1.0, 1.0, 1.0], [1.2, 1.2, 1.2])
    assert w.ratio == pytest.approx(1.2) and w.answer is Answer.DIFFERENT and w.p == 0


@pytest.mark.parametrize(
    ("before", "after", "threshold", "alpha", "named"),
    [
        ([1.0], [1.0, 1.1], 0.05, 0.001, "before"),
        ([1.0, 1.1], [1.0, math.nan], 0.05, 0.001, "after"),
        ([1.0, 0.0], [1.0, 1.1], 0.05, 0.001, "before"),
        ([1.0, 1.1], [1.0, 1.1], 0.0, 0.001, "threshold"),
        ([1.0, 1.1], [1.0, 1.1], 0.05, 1.0, "alpha"),
    ],
)
def test_bad_input_is_refused_by_name(
    before: list[float], after: list[float], threshold: float, alpha: float, named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        weigh(before, after, threshold, alpha)


def test_a_weighing_becomes_a_change_in_the_units_direction() -> None:
    w = weigh(processes(8, 1), processes(8, 2, 1.2))
    assert weighed("t.T.time_t", "seconds", w).status is Status.REGRESSED
    assert weighed("a.A.track_loops", "loops/s", w).status is Status.IMPROVED
    change = weighed("t.T.time_t", "seconds", w, (1e-5, 1.2e-5), ("aaa", "bbb"))
    assert (change.before, change.after, change.baseline, change.commit) == (
        1e-5,
        1.2e-5,
        "aaa",
        "bbb",
    )
    assert "8+8 processes" in change.reason
    unknown = weigh([1.0, 1.3, 0.8, 1.2], [1.1, 0.9, 1.4, 1.0])
    assert weighed("t.T.time_t", "seconds", unknown).reason.startswith("unknown")


def test_what_counts_as_a_timing() -> None:
    assert timed("seconds") and timed("ms") and timed("loops/s")
    assert not timed("bytes") and not timed("instructions") and not timed("statements")


def test_thresholds_come_from_a_calibration_file(tmp_path: Path) -> None:
    path = tmp_path / "box.json"
    assert load_thresholds(path) == {}
    path.write_text('{"thresholds": {"t.T.time_t": 0.08}}')
    found = load_thresholds(path)
    assert threshold_of("t.T.time_t", found) == 0.08 and threshold_of("other", found) == 0.05
    for bad in ("-1", "NaN", "Infinity", "true", "1e-300", "10", '"0.05"', "null"):
        path.write_text(f'{{"thresholds": {{"t.T.time_t": {bad}}}}}')
        with pytest.raises(ConfigurationError, match=r"box\.json.*t\.T\.time_t"):
            load_thresholds(path)
    for garbage in ("not json", "", '{"thresholds": [0.05]}', "[]", '{"thresh'):
        path.write_text(garbage)
        with pytest.raises(ConfigurationError, match=r"box\.json"):
            load_thresholds(path)
