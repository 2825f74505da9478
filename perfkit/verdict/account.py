"""What a night judged: for each family of benchmarks it was asked to judge, how many were compared
on both sides, how many were skipped and why, how many stayed inconclusive or broke.

The families are the kinds of evidence the nightly job weighs by different rules:

- instruction counts (unit ``instructions``): exact, judged by the count threshold;
- sizes and statement counts (every other saved value that is neither a time nor a rate):
  judged by the factor;
- timings (``time_`` benchmarks): weighed on fresh processes of both commits;
- the leak check: ``python -m leakcheck suite``, one verdict a workload.

A family that was asked for and compared nothing is not a pass, whatever else the night found: a
``-b`` that matched nothing, a valgrind that is missing or fails, a baseline whose results lack
the benchmarks, a leak check that ran no workload. Its :attr:`Tally.reason` says why. Turning a
family off is an explicit option of the job, and the account says that too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .regression import Change, Status, counted, per_iteration, timed

__all__ = ["Family", "Tally", "family_of", "not_asked", "tally_changes"]


class Family(StrEnum):
    COUNTS = "instruction counts"
    SIZES = "sizes and statement counts"
    TIMINGS = "timings"
    LEAKS = "leak check"


@dataclass
class Tally:
    """One family's part of the night. ``skipped`` maps each reason to the benchmarks it
    kept out; ``problem`` is what stopped the whole family (valgrind failed...), when known."""

    family: Family
    asked: bool = True
    not_asked: str = ""  # why the night did not ask for it (an option, -b)
    compared: int = 0  # an answer from both sides: the same, or moved either way
    inconclusive: int = 0  # weighed, no answer after the most processes
    broke: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    problem: str = ""

    def skip(self, reason: str, benchmark: str) -> None:
        self.skipped.setdefault(reason, []).append(benchmark)

    @property
    def judged_nothing(self) -> bool:
        """Asked for, and nothing compared: never a pass."""
        return self.asked and self.compared == 0

    @property
    def reason(self) -> str:
        """Why the family judged nothing (empty when it judged something)."""
        if not self.judged_nothing:
            return ""
        if self.problem:
            return self.problem
        if self.inconclusive:
            return f"every weighing was inconclusive ({self.inconclusive})"
        if self.broke:
            return f"every benchmark broke ({self.broke})"
        if self.skipped:
            return "; ".join(f"{r} ({len(n)})" for r, n in self.skipped.items())
        return "no benchmark of it to compare"

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": str(self.family),
            "asked": self.asked,
            "not_asked": self.not_asked,
            "compared": self.compared,
            "inconclusive": self.inconclusive,
            "broke": self.broke,
            "skipped": {reason: list(names) for reason, names in self.skipped.items()},
            "problem": self.problem,
            "judged_nothing": self.judged_nothing,
            "reason": self.reason,
        }


def family_of(unit: str, kind: str) -> Family | None:
    """The family of a benchmark of ``unit`` and asv type ``kind`` (``time``, ``track``...);
    None for a rate (``loops/s``, ``bytes/iteration``), which one value a side cannot judge and
    the history watches instead (leaks are the leak check's)."""
    if counted(unit):
        return Family.COUNTS
    if kind == "time":
        return Family.TIMINGS
    if timed(unit) or per_iteration(unit):
        return None
    return Family.SIZES


def tally_changes(tally: Tally, changes: Iterable[Change]) -> Tally:
    """Count ``changes`` (of one family) into ``tally``: an answer from both sides is compared,
    an unknown weighing inconclusive, a failure on the target broke, the rest skipped by
    reason."""
    for change in changes:
        if change.status is Status.BROKE:
            tally.broke += 1
        elif change.status is Status.INCOMPARABLE:
            tally.skip(change.reason or "not comparable", change.benchmark)
        elif change.reason.startswith("unknown"):
            tally.inconclusive += 1
        else:
            tally.compared += 1
    return tally


def not_asked(family: Family, why: str) -> Tally:
    return Tally(family, asked=False, not_asked=why)
