"""The regression rule: is a benchmark worse at one commit than at another?

The nightly job compares its baseline with its target here and marks what the range's commits
declared as expected; the performance report, the figures of a commit and the published site
read the kept history instead (:mod:`perfkit.verdict.changepoints`), keeping a change of level only
when :func:`weigh` says the levels differ. :func:`judge` compares two
measurements of one benchmark and :func:`compare` two commits' result sets; both return
:class:`Change` values, and what decides inside :func:`judge` can be replaced without touching
its callers.

The rule today: a change counts when the value moved beyond ``factor`` in the bad direction *and*
asv's significance test (``asv._stats.is_different``: Mann-Whitney U on the samples, or
non-overlapping 99 % intervals) agrees wherever both sides carry the statistics it needs. Values
without statistics (``track_``, ``mem_``, one-sample runs) are judged on the factor alone. It is
what ``asv continuous --factor`` decides, read from the result files instead of its printed table.

Counted values (unit ``instructions``, :data:`COUNTED_UNITS`) repeat exactly on the same code, so
they are judged by a tight threshold instead (:data:`COUNT_THRESHOLD`), with no significance test.

Timings and other measured values are judged best on independent observations of both sides:
:func:`weigh` takes two groups of them (the medians of fresh processes for the nightly job, the
values of the commits on either side of a change point for the history) and answers
:attr:`Answer.DIFFERENT`, :attr:`Answer.SAME` or :attr:`Answer.UNKNOWN` (measure more). A
difference needs both a test on the logarithms (Yuen's trimmed t-test, p <= ``alpha``) and an
effect, the ratio of the trimmed means, beyond the benchmark's threshold (:func:`threshold_of`:
measured from the noise of identical code by the A/A calibration, else
:data:`DEFAULT_THRESHOLD`). They are "the same" when the 90 % confidence interval of the ratio
lies within the threshold (two one-sided tests at 5 %, the usual test of equivalence).

Which direction is bad comes from the benchmark's unit: a rate (``loops/s``, any unit per second)
is better when larger; every other value (time, bytes, statements, blocks) when smaller.

A benchmark whose ``version`` changed between the two commits is not compared (its owner said the
change is intended); :func:`expect` marks as expected the changes a commit declared.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from ..data.asvdata import Measurement

__all__ = [
    "ALPHA",
    "COUNTED_UNITS",
    "COUNT_THRESHOLD",
    "DEFAULT_FACTOR",
    "DEFAULT_THRESHOLD",
    "MIN_THRESHOLD",
    "Answer",
    "Change",
    "Status",
    "Weighing",
    "compare",
    "counted",
    "expect",
    "higher_is_better",
    "judge",
    "per_iteration",
    "threshold_of",
    "timed",
    "weigh",
    "weighed",
    "worse",
]

# Chosen from the noise measured on the reference machine (docs/benchmarks.md); asv's own step
# detection, before perfkit.reports.sitedata rewrites the site's regressions, uses the same step
# (regressions_thresholds in asv.conf.json).
DEFAULT_FACTOR = 1.15
# Units of deterministic counts, judged by COUNT_THRESHOLD alone.
COUNTED_UNITS = frozenset({"instructions"})
# A relative change of a count beyond 1 % counts. Identical code gave identical counts in every
# repeated run (fixed hash seed); a change to one operation moved the counts of the others by up
# to 0.56 % (docs/benchmarks.md). 1 % stays above that and below the 2 % changes to catch.
COUNT_THRESHOLD = 0.01
# Significance of a difference between two groups of independent observations: about 30 timed
# benchmarks are weighed a night, so 0.001 keeps chance alone to about one night in 30 before
# the effect-size condition, which the A/A calibration sets per benchmark, removes the rest.
ALPHA = 0.001
# The smallest relative change of a timing that counts when the benchmark has no calibrated
# threshold: below the 10 % slowdowns to catch, above the 1-2 % spread within one process.
DEFAULT_THRESHOLD = 0.05
# The smallest threshold a calibration file may hold: below the 0.1 % that a timing's noise
# never goes under, a threshold would call every difference real.
MIN_THRESHOLD = 0.001
# Each of the two one-sided tests of equivalence ("the same within the threshold").
_EQUIVALENCE = 0.05
# The share of each side's observations trimmed from either end before the test (Yuen's test at
# its usual 20 %). A process or commit that ran slow throughout (a busy core) is common on a
# shared machine; the trimmed test sets a few of those aside, where a plain t-test loses its
# power and a rank test needs more observations than a history of a few commits has. Fewer
# than five values a side are not trimmed at all.
TRIM = 0.2


class Answer(StrEnum):
    DIFFERENT = "different"
    SAME = "same"
    UNKNOWN = "unknown"  # neither shown: measure more


@dataclass(frozen=True, slots=True)
class Weighing:
    """Two groups of independent observations compared, on their logarithms: ``ratio`` is
    ``after`` over ``before`` (of their trimmed means), ``low``..``high`` its 90 % confidence
    interval, ``p`` the trimmed t-test's two-sided p-value."""

    answer: Answer
    ratio: float
    low: float
    high: float
    p: float
    threshold: float
    n_before: int
    n_after: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "answer": str(self.answer),
            "ratio": self.ratio,
            "low": self.low,
            "high": self.high,
            "p": self.p,
            "threshold": self.threshold,
            "n_before": self.n_before,
            "n_after": self.n_after,
        }


def weigh(
    before: Sequence[float],
    after: Sequence[float],
    threshold: float = DEFAULT_THRESHOLD,
    alpha: float = ALPHA,
) -> Weighing:
    """Whether ``after`` differs from ``before`` by more than ``threshold`` (a relative change,
    0.05 = 5 %). Both hold finite positive values, at least two each."""
    if not 0 < threshold < 10:
        raise ValueError(f"threshold must be a relative change in (0, 10), not {threshold!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha!r}")
    logs = []
    for name, values in (("before", before), ("after", after)):
        if len(values) < 2 or any(not (math.isfinite(v) and v > 0) for v in values):
            raise ValueError(f"{name} must hold two or more finite positive values, not"
                             f" {list(values)!r}")  # fmt: skip
        logs.append([math.log(v) for v in values])
    from scipy import stats  # type: ignore[import-untyped]

    a, b = logs
    if max(a) == min(a) and max(b) == min(b):  # no spread at all: the values decide alone
        shift, p, low, high = b[0] - a[0], float(a[0] == b[0]), b[0] - a[0], b[0] - a[0]
    else:
        with warnings.catch_warnings():
            # Values that agree to a few digits (a size measured twice) lose precision in the
            # variance; the answer is still right, so the warning would only alarm.
            warnings.simplefilter("ignore", RuntimeWarning)
            test = stats.ttest_ind(b, a, equal_var=False, trim=TRIM)
            interval = test.confidence_interval(1 - 2 * _EQUIVALENCE)
        shift = float(stats.trim_mean(b, TRIM) - stats.trim_mean(a, TRIM))
        p, low, high = float(test.pvalue), float(interval.low), float(interval.high)
    bound = math.log1p(threshold)
    if p <= alpha and abs(shift) >= bound:
        answer = Answer.DIFFERENT
    elif -bound < low and high < bound:
        answer = Answer.SAME
    else:
        answer = Answer.UNKNOWN
    return Weighing(answer, math.exp(shift), math.exp(low), math.exp(high), p, threshold,
                    len(a), len(b))  # fmt: skip


def threshold_of(benchmark: str, thresholds: Mapping[str, float]) -> float:
    """The benchmark's calibrated threshold, else :data:`DEFAULT_THRESHOLD`."""
    return thresholds.get(benchmark, DEFAULT_THRESHOLD)


class Status(StrEnum):
    REGRESSED = "regressed"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    BROKE = "broke"  # fails at the later commit
    INCOMPARABLE = "incomparable"  # missing, skipped, failing before, or its version changed
    EXPECTED = "expected"  # moved beyond the threshold, and a commit in the range said it would


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to one benchmark between two commits.

    ``before`` and ``after`` are the values (None where missing or failed, NaN where skipped);
    ``ratio`` is after / before (infinite when before is 0 and after is not), None when there
    are not two numbers to divide; ``reason`` says why a change is unchanged or incomparable.
    """

    benchmark: str
    status: Status
    ratio: float | None
    higher_is_better: bool
    before: float | None
    after: float | None
    baseline: str = ""
    commit: str = ""
    unit: str = ""
    reason: str = ""

    @property
    def regressed(self) -> bool:
        return self.status is Status.REGRESSED

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON (no NaN or infinity)."""

        def plain(x: float | None) -> float | None:
            return x if x is not None and math.isfinite(x) else None

        return {
            "benchmark": self.benchmark,
            "status": str(self.status),
            "ratio": plain(self.ratio),
            "better": "higher" if self.higher_is_better else "lower",
            "before": plain(self.before),
            "after": plain(self.after),
            "baseline": self.baseline,
            "commit": self.commit,
            "unit": self.unit,
            "reason": self.reason,
        }


def timed(unit: str) -> bool:
    """Whether values of ``unit`` are times or rates (``seconds``, ``ms``, ``loops/s``): noisy
    between processes, so never judged from one saved value a side."""
    unit = unit.strip()
    return unit in ("seconds", "s", "ms", "µs", "us", "ns") or unit.endswith("/s")


def weighed(
    benchmark: str,
    unit: str,
    weighing: Weighing,
    values: tuple[float | None, float | None] = (None, None),
    commits: tuple[str, str] = ("", ""),
) -> Change:
    """The change :func:`weigh` found between two commits' observations of ``benchmark``
    (``values``: a typical one of each side, ``commits``: baseline and target). Its reason holds
    the evidence: ratio, confidence interval, p-value and observations a side."""
    higher = higher_is_better(unit)
    w = weighing
    evidence = (f"x{w.ratio:.3f}, 90 % CI {w.low:.3f}-{w.high:.3f}, p {w.p:.1e}, threshold"
                f" {w.threshold:.1%}, {w.n_before}+{w.n_after} processes")  # fmt: skip
    status = Status.UNCHANGED
    if w.answer is Answer.DIFFERENT:
        status = Status.REGRESSED if worse(w.ratio, unit) else Status.IMPROVED
    elif w.answer is Answer.UNKNOWN:
        evidence = f"unknown: {evidence}"
    return Change(benchmark, status, w.ratio, higher, *values, *commits, unit, evidence)


def per_iteration(unit: str) -> bool:
    """Whether values of ``unit`` are growth per iteration of a loop (``bytes/iteration``, a leak
    rate): near zero on sound code, where an allocator's one-off growth over the loop moves it
    by as much as a small leak would (0.1 to 0.8 B/iteration on identical code), so never judged
    from one saved value a side. The leak check judges leaks from the loop's own samples."""
    return unit.strip().endswith("/iteration")


def higher_is_better(unit: str) -> bool:
    """Whether a larger value is the better one: rates, whose unit is per second (``loops/s``)."""
    return unit.strip().endswith("/s")


def worse(ratio: float, unit: str) -> bool:
    """Whether a value of ``unit`` that moved by ``ratio`` (after over before) moved in the bad
    direction."""
    return ratio < 1 if higher_is_better(unit) else ratio > 1


def counted(unit: str) -> bool:
    """Whether values of ``unit`` are deterministic counts (judged without a significance test)."""
    return unit.strip() in COUNTED_UNITS


def judge(
    before: Measurement | None,
    after: Measurement | None,
    factor: float = DEFAULT_FACTOR,
    count_threshold: float = COUNT_THRESHOLD,
) -> Change:
    """Judge one benchmark from its measurement at an earlier and at a later commit; either may
    be missing (None), but not both. Timings and other measured values move by ``factor``,
    counts (:func:`counted`) by ``1 + count_threshold``."""
    known = after if after is not None else before
    if known is None:
        raise ValueError("judge needs at least one measurement")
    higher = higher_is_better(known.unit)

    def change(status: Status, reason: str = "", ratio: float | None = None) -> Change:
        return Change(
            benchmark=known.benchmark,
            status=status,
            ratio=ratio,
            higher_is_better=higher,
            before=None if before is None or before.failed else before.value,
            after=None if after is None or after.failed else after.value,
            baseline="" if before is None else before.commit,
            commit="" if after is None else after.commit,
            unit=known.unit,
            reason=reason,
        )

    if before is None or after is None:
        if after is not None and after.failed:
            return change(Status.BROKE, "fails")
        return change(Status.INCOMPARABLE, "new" if before is None else "not measured after")
    if after.failed:
        return change(Status.BROKE, "still fails" if before.failed else "fails")
    if before.failed:
        return change(Status.INCOMPARABLE, "failed before")
    if before.version is not None and after.version is not None and before.version != after.version:
        return change(Status.INCOMPARABLE, "benchmark version changed")
    old, new = before.value, after.value
    if not (math.isfinite(old) and math.isfinite(new)):
        return change(Status.INCOMPARABLE, "skipped")
    ratio = _ratio(old, new)
    is_count = counted(known.unit)
    if is_count:
        factor = 1 + count_threshold
    if not (new > old * factor or old > new * factor):
        return change(Status.UNCHANGED, ratio=ratio)
    if not is_count and not _significant(before, after):
        return change(Status.UNCHANGED, "beyond the factor, not significant", ratio)
    return change(Status.REGRESSED if worse(ratio, known.unit) else Status.IMPROVED, ratio=ratio)


def compare(
    before: Mapping[str, Measurement],
    after: Mapping[str, Measurement],
    factor: float = DEFAULT_FACTOR,
    count_threshold: float = COUNT_THRESHOLD,
) -> list[Change]:
    """Judge every benchmark of two result sets (by name), sorted by name."""
    names = sorted(set(before) | set(after))
    return [judge(before.get(n), after.get(n), factor, count_threshold) for n in names]


def expect(changes: Sequence[Change], declared: Mapping[str, str]) -> list[Change]:
    """``changes`` with each regression or improvement that a commit declared turned into
    :attr:`Status.EXPECTED`. ``declared`` maps a pattern to the commit declaring it: a
    benchmark's name with or without its parameters, ``*`` matching anything
    (``instructions.Instructions.track_instructions('claim')``, ``instructions.*``)."""
    out = []
    for change in changes:
        by = _declared_by(change.benchmark, declared)
        if by is not None and change.status in (Status.REGRESSED, Status.IMPROVED):
            change = replace(change, status=Status.EXPECTED,
                             reason=f"declared expected by {by[:8]}")  # fmt: skip
        out.append(change)
    return out


def _declared_by(benchmark: str, declared: Mapping[str, str]) -> str | None:
    bare = benchmark.split("(", 1)[0]
    for pattern, commit in declared.items():
        if fnmatchcase(benchmark, pattern) or fnmatchcase(bare, pattern):
            return commit
    return None


def _ratio(old: float, new: float) -> float:
    if old == 0:
        return 1.0 if new == 0 else math.inf
    return new / old


def _significant(before: Measurement, after: Measurement) -> bool:
    """asv's test where both sides have the statistics it needs; otherwise the factor alone
    decides (as ``asv compare`` does for one-sample runs)."""
    if not (_testable(before) and _testable(after)):
        return True
    from asv import _stats  # type: ignore[import-untyped]

    samples = [None if m.samples is None else list(m.samples) for m in (before, after)]
    return bool(_stats.is_different(*samples, before.stats, after.stats))


def _testable(m: Measurement) -> bool:
    stats = m.stats
    return (
        stats is not None
        and stats.get("repeat", 0) != 1
        and "ci_99_a" in stats
        and "ci_99_b" in stats
    )
