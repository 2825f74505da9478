"""The raw sqlite3 references as controls: a change the machine made is not a regression.

The ``raw.*`` benchmarks do the engine's physical work with code that never changes, so a shift
of theirs is the machine (another job, a slower disk, a new kernel), never the code. Three rules,
applied to the shifts of one history (:mod:`perfkit.changepoints`):

1. every shift of a ``raw.*`` benchmark is labelled :attr:`~perfkit.changepoints.Label.MACHINE`;
2. a shift of an engine benchmark is labelled machine when its raw twin
   (:func:`perfkit.history.raw_twins`) shifted in the same direction at the same commit;
3. when at least half of the raw benchmarks shifted in one direction at a commit, every shift at
   that commit is labelled machine.

"At the same commit" allows the neighbouring measured commit either side: two series cut by the
same event may place the cut one commit apart when the noise is large.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from .changepoints import Label, Shift

__all__ = ["NEAR", "RAW_PREFIX", "is_raw", "label_machine"]

RAW_PREFIX = "raw."
# How many measured commits apart two shifts may be and still count as one event.
NEAR = 1


def is_raw(benchmark: str) -> bool:
    return benchmark.startswith(RAW_PREFIX)


def label_machine(
    shifts: Sequence[Shift],
    commits: Sequence[str],
    twins: Mapping[str, str],
    raw: Sequence[str],
) -> list[Shift]:
    """``shifts`` with those the machine explains labelled machine. ``commits`` orders the
    history (oldest first), ``twins`` maps an engine benchmark to its raw reference, ``raw``
    names every raw benchmark of the history."""
    position = {c: i for i, c in enumerate(commits)}
    moved: dict[tuple[str, bool], list[int]] = {}  # (raw benchmark, up) -> positions
    for s in shifts:
        if is_raw(s.benchmark) and s.commit in position:
            moved.setdefault((s.benchmark, s.ratio > 1), []).append(position[s.commit])

    def near(benchmark: str, up: bool, at: int) -> bool:
        return any(abs(p - at) <= NEAR for p in moved.get((benchmark, up), ()))

    out = []
    for s in shifts:
        at, up = position.get(s.commit), s.ratio > 1
        reason = ""
        if is_raw(s.benchmark):
            reason = "a raw sqlite3 reference"
        elif at is not None and s.benchmark in twins and near(twins[s.benchmark], up, at):
            reason = f"its raw reference {twins[s.benchmark]} moved alike"
        elif at is not None and raw:
            for direction in (True, False):
                alike = sum(near(r, direction, at) for r in raw)
                if 2 * alike >= len(raw):
                    reason = f"{alike} of {len(raw)} raw references moved at this commit"
                    break
        out.append(replace(s, label=Label.MACHINE, reason=reason) if reason else s)
    return out
