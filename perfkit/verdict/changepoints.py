"""Change points of one stored series: the commits where a benchmark's level moved, and by how much.

A series is a benchmark's value at each measured commit, oldest first. Its level is searched on
the logarithms of the values, so that a step is a relative change whatever the benchmark's
scale, with ``ruptures``' PELT search (exact, for a least-squares cost: the sum of the squared
deviations of each segment from its mean) and a penalty per change point of
``2 * sigma**2 * log(n)``. That is the Bayesian information criterion of a piecewise-constant
signal with Gaussian noise of known variance: a change point costs two parameters (its position
and the new level), and the squared deviations are in units of ``sigma**2``. The variance is not
known, so it is estimated from the series itself, robustly: neighbouring differences of the
logarithms have twice the noise's variance, and their median absolute deviation (times 1.4826,
the factor that makes it a standard deviation for Gaussian noise) ignores the few differences
that straddle a step. A noisy benchmark thus needs a larger step to be cut than a quiet one, with
no threshold to tune per benchmark. Each new level must hold two commits at least: one commit on
its own is as likely a slow process as a change.

The search proposes; :func:`perfkit.verdict.regression.weigh` decides. Each proposed change point is
kept only when the values of the segment before it and of the segment after it (between the
neighbouring kept change points) are :attr:`~perfkit.verdict.regression.Answer.DIFFERENT` by the
rule the nightly job applies to fresh processes: a trimmed t-test on the logarithms and an effect
beyond the benchmark's threshold. The weakest candidate is dropped first and the rest weighed
again, since dropping one merges two segments.

A level that comes back is one event, not two: when the segment after a short one (at most
:data:`TRANSIENT_COMMITS` commits) is not :attr:`~perfkit.verdict.regression.Answer.DIFFERENT` from
the segment before it, the two change points around it are one :attr:`Label.TRANSIENT` shift, from
its first commit to the commit where the old level is back (:attr:`Shift.returned`). A transient
is never a regression: a slow machine for a few nights, or a slowdown undone a few commits
later, leaves the code where it was.

The first and the last level of a series hold :data:`MIN_EDGE` commits at least: there a level
has a neighbour on one side only, and two values at an end (the first results of a new
benchmark, the newest two commits) are as likely a busy machine as a change. The price is paid at
the newest end: a real regression at the newest commit is reported once the third commit at its
level is measured, two commits later, not at once. The nightly job's own weighing of fresh
processes still judges the newest commit each night; the history only waits to call it a level.

Counts (unit ``instructions``) repeat exactly on the same code: each pair of neighbouring commits
is compared by :data:`~perfkit.verdict.regression.COUNT_THRESHOLD`, as the count gate does, and two
points are enough. Neither the edge rule nor transients apply to them: a count does not wander
with the machine, so a step at the newest commit is the code and is shown at once, and a count
that comes back is a change and its revert, both real.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..data.asvdata import Measurement
from .regression import (
    COUNT_THRESHOLD,
    Answer,
    Weighing,
    counted,
    higher_is_better,
    threshold_of,
    weigh,
    worse,
)

__all__ = ["MIN_EDGE", "MIN_POINTS", "MIN_SEGMENT", "TRANSIENT_COMMITS", "Label", "Shift",
           "candidates", "noise", "penalty", "shifts"]  # fmt: skip

# The fewest commits of one level.
MIN_SEGMENT = 2
# The fewest commits of the first and of the last level: one more than inside, where a level is
# checked by a neighbour on each side.
MIN_EDGE = 3
# A timed series shorter than this gives nothing: a first and a last level.
MIN_POINTS = 2 * MIN_EDGE
# The longest excursion that counts as one transient when the old level comes back after it.
# The excursions triaged as noise on the reference machine lasted 3 and 8 commits (a few busy
# nights); a level kept for more commits than that was shipped, and its
# undoing is listed as a change of its own.
TRANSIENT_COMMITS = 10
# The smallest noise assumed (0.1 %, relative): a series of identical values has none, and a
# penalty of zero would cut it everywhere.
_NOISE_FLOOR = 1e-3
# 1 / the standard normal's 75th percentile: a median absolute deviation as a standard deviation.
_MAD_TO_SIGMA = 1.4826


class Label(StrEnum):
    REGRESSION = "regression"  # moved in the bad direction
    IMPROVEMENT = "improvement"
    TRANSIENT = "transient"  # moved, then came back to the old level: not a regression
    MACHINE = "machine"  # a raw sqlite3 reference moved alike: the machine, not the code


@dataclass(frozen=True, slots=True)
class Shift:
    """A change of a benchmark's level: ``commit`` is the first commit of the new level (the
    ``index``-th point of its series), ``baseline`` the last of the old one; ``before`` and
    ``after`` the medians of the two segments, ``ratio`` after over before. ``weighing`` is the
    t-test's verdict (None for a count, compared by its threshold alone). A transient also has
    ``end``, the index of the first commit back at the old level, and that commit,
    ``returned``; ``after`` is then the median of the excursion."""

    benchmark: str
    commit: str
    baseline: str
    index: int
    before: float
    after: float
    ratio: float
    unit: str
    weighing: Weighing | None
    label: Label
    reason: str = ""  # why it is labelled machine
    end: int | None = None
    returned: str = ""

    @property
    def higher_is_better(self) -> bool:
        return higher_is_better(self.unit)

    @property
    def worse(self) -> bool:
        """Whether the level moved in the bad direction (whatever its label)."""
        return worse(self.ratio, self.unit)

    @property
    def regressed(self) -> bool:
        return self.label is Label.REGRESSION

    @property
    def p(self) -> float | None:
        return None if self.weighing is None else self.weighing.p

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "commit": self.commit,
            "baseline": self.baseline,
            "index": self.index,
            "before": self.before,
            "after": self.after,
            "ratio": self.ratio,
            "unit": self.unit,
            "better": "higher" if self.higher_is_better else "lower",
            "p": self.p,
            "weighing": None if self.weighing is None else self.weighing.as_dict(),
            "label": str(self.label),
            "reason": self.reason,
            "end": self.end,
            "returned": self.returned,
        }


def noise(logs: Sequence[float]) -> float:
    """The noise of a series of logarithms, as a standard deviation: from the median absolute
    deviation of its neighbouring differences, never below 0.1 %."""
    if len(logs) < 3:
        return _NOISE_FLOOR
    steps = [b - a for a, b in itertools.pairwise(logs)]
    center = statistics.median(steps)
    mad = statistics.median(abs(s - center) for s in steps)
    return max(_MAD_TO_SIGMA * mad / math.sqrt(2), _NOISE_FLOOR)


def penalty(logs: Sequence[float]) -> float:
    """The cost of one more change point: the BIC of a known-variance Gaussian signal."""
    return 2 * noise(logs) ** 2 * math.log(len(logs))


def shifts(
    benchmark: str, points: Sequence[Measurement], thresholds: Mapping[str, float]
) -> list[Shift]:
    """The kept change points of one series (its measurements at each commit, oldest first),
    oldest first; nothing for a series too short or holding a value that is not positive."""
    values = [p.value for p in points]
    if not values or any(not (math.isfinite(v) and v > 0) for v in values):
        return []
    unit = points[-1].unit
    if counted(unit):
        return [_shift(benchmark, points, i - 1, i, i + 1, None) for i in _count_steps(values)]
    if len(values) < MIN_POINTS:
        return []
    threshold = threshold_of(benchmark, thresholds)
    n = len(values)
    kept = [c for c in candidates([math.log(v) for v in values]) if MIN_EDGE <= c <= n - MIN_EDGE]
    while kept:
        bounds = [0, *kept, len(values)]
        weighed = [
            weigh(values[bounds[k - 1] : bounds[k]], values[bounds[k] : bounds[k + 1]], threshold)
            for k in range(1, len(bounds) - 1)
        ]
        weakest = max(
            (k for k, w in enumerate(weighed) if w.answer is not Answer.DIFFERENT),
            key=lambda k: weighed[k].p,
            default=None,
        )
        if weakest is None:
            return _levels(benchmark, points, bounds, weighed, threshold)
        del kept[weakest]
    return []


def _levels(
    benchmark: str,
    points: Sequence[Measurement],
    bounds: list[int],
    weighed: list[Weighing],
    threshold: float,
) -> list[Shift]:
    """The kept change points (``bounds``: the series' ends around them) as shifts, each short
    excursion that comes back to the old level as one transient."""
    values = [p.value for p in points]
    out = []
    k = 0
    while k < len(weighed):
        start, index, end = bounds[k : k + 3]
        if k + 1 < len(weighed) and end - index <= TRANSIENT_COMMITS:
            back = weigh(values[start:index], values[end : bounds[k + 3]], threshold)
            opposite = (weighed[k].ratio > 1) != (weighed[k + 1].ratio > 1)
            if opposite and back.answer is not Answer.DIFFERENT:
                out.append(_shift(benchmark, points, start, index, end, weighed[k], end))
                k += 2
                continue
        out.append(_shift(benchmark, points, start, index, end, weighed[k]))
        k += 1
    return out


def candidates(logs: Sequence[float]) -> list[int]:
    """Where PELT cuts the series (before any weighing): the index of the first point of each
    new segment."""
    import numpy as np
    import ruptures  # type: ignore[import-untyped]

    signal = np.asarray(logs).reshape(-1, 1)
    search = ruptures.Pelt(model="l2", min_size=MIN_SEGMENT, jump=1).fit(signal)
    return [int(b) for b in search.predict(pen=penalty(logs))[:-1]]


def _count_steps(values: Sequence[float]) -> list[int]:
    return [
        i for i in range(1, len(values)) if abs(values[i] / values[i - 1] - 1) > COUNT_THRESHOLD
    ]


def _shift(
    benchmark: str,
    points: Sequence[Measurement],
    start: int,
    index: int,
    end: int,
    weighing: Weighing | None,
    returned: int | None = None,
) -> Shift:
    """The change at ``index`` between the levels ``start:index`` and ``index:end``; a transient
    when the old level is back at ``returned``."""
    before = statistics.median(p.value for p in points[start:index])
    after = statistics.median(p.value for p in points[index:end])
    unit = points[-1].unit
    ratio = after / before
    label = Label.REGRESSION if worse(ratio, unit) else Label.IMPROVEMENT
    return Shift(
        benchmark=benchmark,
        commit=points[index].commit,
        baseline=points[index - 1].commit,
        index=index,
        before=before,
        after=after,
        ratio=ratio,
        unit=unit,
        weighing=weighing,
        label=label if returned is None else Label.TRANSIENT,
        end=returned,
        returned="" if returned is None else points[returned].commit,
    )
