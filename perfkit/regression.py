"""The regression rule: is a benchmark worse at one commit than at another?

The nightly job compares its baseline with its target here and marks what the range's commits
declared as expected; the performance report, the figures of a commit and the published site
read the kept history instead (:mod:`perfkit.changepoints`), keeping a change of level only when
:func:`weigh` says the levels differ. :func:`judge` compares two
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
difference needs both a t-test on the logarithms (p <= ``alpha``) and an effect, the ratio of the
two medians, beyond the benchmark's threshold (:func:`threshold_of`: measured from the noise of
identical code by the A/A calibration, else :data:`DEFAULT_THRESHOLD`). They are "the same" when
the 90 % confidence interval of the ratio lies within the threshold (two one-sided tests at 5 %,
the usual test of equivalence).

Which direction is bad comes from the benchmark's unit: a rate (``loops/s``, any unit per second)
is better when larger; every other value (time, bytes, statements, blocks) when smaller.

A benchmark whose ``version`` changed between the two commits is not compared (its owner said the
change is intended); :func:`expect` marks as expected the changes a commit declared.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .asvdata import Measurement

__all__ = [
    "ALPHA",
    "COUNTED_UNITS",
    "COUNT_THRESHOLD",
    "DEFAULT_FACTOR",
    "DEFAULT_THRESHOLD",
    "Answer",
    "Change",
    "Status",
    "Weighing",
    "compare",
    "counted",
    "expect",
    "higher_is_better",
    "judge",
    "load_thresholds",
    "threshold_of",
    "weigh",
]

# Chosen from the noise measured on the reference machine (docs/benchmarks.md); asv's own step
# detection, before perfkit.sitedata rewrites the site's regressions, uses the same step
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
# Each of the two one-sided tests of equivalence ("the same within the threshold").
_EQUIVALENCE = 0.05


class Answer(StrEnum):
    DIFFERENT = "different"
    SAME = "same"
    UNKNOWN = "unknown"  # neither shown: measure more


@dataclass(frozen=True, slots=True)
class Weighing:
    """Two groups of independent observations compared: ``ratio`` is the median of ``after``
    over the median of ``before``, ``low``..``high`` the 90 % confidence interval of the ratio
    of the geometric means, ``p`` the t-test's two-sided p-value on the logarithms."""

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
    0.05 = 5 %). Both hold positive values; three in all at least (one side may have one)."""
    if not 0 < threshold < 10:
        raise ValueError(f"threshold must be a relative change in (0, 10), not {threshold!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), not {alpha!r}")
    logs = []
    for name, values in (("before", before), ("after", after)):
        if not values or any(not (math.isfinite(v) and v > 0) for v in values):
            raise ValueError(f"{name} must hold finite positive values, not {list(values)!r}")
        logs.append([math.log(v) for v in values])
    (a, b), (na, nb) = logs, (len(before), len(after))
    if na + nb < 3:
        raise ValueError("weighing needs three observations in all")
    from scipy import stats  # type: ignore[import-untyped]

    ratio = statistics.median(after) / statistics.median(before)
    mean_a, mean_b = statistics.fmean(a), statistics.fmean(b)
    squares = sum((x - mean_a) ** 2 for x in a) + sum((x - mean_b) ** 2 for x in b)
    df = na + nb - 2
    spread = math.sqrt(squares / df * (1 / na + 1 / nb))
    shift = mean_b - mean_a
    if spread == 0:
        p = 1.0 if shift == 0 else 0.0
        half = 0.0
    else:
        p = float(2 * stats.t.sf(abs(shift) / spread, df))
        half = float(stats.t.ppf(1 - _EQUIVALENCE, df)) * spread
    bound = math.log1p(threshold)
    if p <= alpha and abs(math.log(ratio)) >= bound:
        answer = Answer.DIFFERENT
    elif -bound < shift - half and shift + half < bound:
        answer = Answer.SAME
    else:
        answer = Answer.UNKNOWN
    return Weighing(answer, ratio, math.exp(shift - half), math.exp(shift + half), p,
                    threshold, na, nb)  # fmt: skip


def load_thresholds(path: Path) -> dict[str, float]:
    """The thresholds an A/A calibration wrote (:mod:`perfkit.calibration`), by benchmark; an
    absent file is no thresholds."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a calibration file: {exc}") from exc
    found = data.get("thresholds") if isinstance(data, dict) else None
    if not isinstance(found, dict) or not all(
        isinstance(v, int | float) and 0 < v < 10 for v in found.values()
    ):
        raise ValueError(f"{path}: no 'thresholds' mapping of benchmark to a relative change")
    return {str(k): float(v) for k, v in found.items()}


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


def higher_is_better(unit: str) -> bool:
    """Whether a larger value is the better one: rates, whose unit is per second (``loops/s``)."""
    return unit.strip().endswith("/s")


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
    grew, shrank = new > old * factor, old > new * factor
    worse, better = (shrank, grew) if higher else (grew, shrank)
    if not (worse or better):
        return change(Status.UNCHANGED, ratio=ratio)
    if not is_count and not _significant(before, after):
        return change(Status.UNCHANGED, "beyond the factor, not significant", ratio)
    return change(Status.REGRESSED if worse else Status.IMPROVED, ratio=ratio)


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
