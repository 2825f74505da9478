"""The saved results of a night's two commits: what the baseline lacks of what the target has,
and the values that do not depend on load judged by the regression rule, family by family
(:mod:`perfkit.verdict.account`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..data.asvdata import Measurement
from ..verdict.account import Family, Tally, family_of, tally_changes
from ..verdict.regression import Change, Status, compare

__all__ = ["judge_saved", "lacking", "selecting"]


def lacking(
    before: Mapping[str, Measurement],
    after: Mapping[str, Measurement],
    selected: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """The saved counts and sizes the target has and the baseline's results lack: absent
    there, or skipped there while the target has a value. (Timings are weighed on fresh
    processes, whatever was saved.)"""
    judged = (Family.COUNTS, Family.SIZES)
    return sorted(
        name
        for name, m in after.items()
        if m.usable
        and family_of(m.unit, str(selected[name].get("type", ""))) in judged
        and (name not in before or not (before[name].usable or before[name].failed))
    )


def selecting(names: Sequence[str]) -> str:
    """An asv ``-b`` pattern that selects the benchmarks ``names`` (with every parameter set)."""
    bare = sorted({name.split("(", 1)[0] for name in names})
    return "^(" + "|".join(re.escape(b) for b in bare) + ")"


def judge_saved(
    account: Mapping[Family, Tally],
    before: Mapping[str, Measurement],
    after: Mapping[str, Measurement],
    selected: Mapping[str, Mapping[str, Any]],
    rule: tuple[float, float],
    valgrind: Callable[[], str | None],
) -> list[Change]:
    """The saved values that do not depend on load, judged by the regression rule (``rule``:
    the factor and the count threshold) and counted into their families of ``account``; a
    timing's saved value only says whether it broke. When no count could be compared (every
    one skipped or failing), ``valgrind`` is asked why: a valgrind that is missing or fails is
    the machine's problem, not the code's."""
    by_family: dict[Family | None, list[Change]] = {}
    for c in compare(before, after, *rule):
        kind = str(selected.get(c.benchmark, {}).get("type", ""))
        by_family.setdefault(family_of(c.unit, kind), []).append(c)
    counts = by_family.get(Family.COUNTS, [])
    if counts and all(c.status in (Status.BROKE, Status.INCOMPARABLE) for c in counts):
        problem = valgrind()
        if problem:
            account[Family.COUNTS].problem = problem
            by_family[Family.COUNTS] = []
    out = [c for c in by_family.get(Family.TIMINGS, []) if c.status is Status.BROKE]
    for family in (Family.COUNTS, Family.SIZES):
        if account[family].asked:
            tally_changes(account[family], by_family.get(family, []))
            out += by_family.get(family, [])
    return out
