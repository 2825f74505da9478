"""The decision rule: which lines keep memory alive, and does it add up to a leak.

For every line of code (see :mod:`leakcheck.attribution`):

1. *Survivors*: the bytes it allocated during the first half of the measured window that are
   still alive at the end of the window (after a garbage collection), divided by the
   iterations of that half. A bounded cache whose capacity is below half the window has
   evicted all of them by then; a sawtooth has cleared them; freed memory is gone.
2. *Steadiness*: its live bytes at each segment boundary. Like CPython's refleak hunter, a
   line is only growing if every segment of the second half added to it. This rejects a
   cache or a lazily built table that warmed up once inside the window.

A steady line keeps the smaller of two estimates per iteration: its survivors, and the
growth of its slowest second-half segment. Either alone can mislead: a cache that warmed up
in the first half leaves many survivors, and a line can creep by a few bytes per segment as
the interpreter's free lists recycle blocks allocated before tracking. A real leak gives the
same figure both ways. The check leaks when the steady lines together keep at least
``threshold`` bytes per iteration.

This module does no I/O: it takes lifetimes and returns an :class:`Assessment`.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from leakcheck.attribution import Attribution, FrameKind, StackElement
from leakcheck.capture import Lifetimes
from leakcheck.errors import TrackerError
from leakcheck.report import MAX_LOCATIONS, Frame, Location
from leakcheck.tracking import MARKER_BYTES, MARKER_FUNCTION, LoopPlan

__all__ = ["Assessment", "assess"]


@dataclass(frozen=True, slots=True)
class Assessment:
    """The verdict and the locations worth reporting, before timings and paths are added."""

    leaked: bool
    bytes_per_iteration: float
    locations: tuple[Location, ...]
    warnings: tuple[str, ...] = ()


@dataclass(slots=True)
class _Tally:
    """Running totals for one location."""

    survivor_bytes: int = 0
    survivor_count: int = 0
    # Live-bytes changes keyed by snapshot index: +n where memory was born, -n where it died.
    changes: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    context: tuple[StackElement, ...] = ()
    context_bytes: int = -1


def assess(
    lifetimes: Iterable[Lifetimes],
    *,
    plan: LoopPlan,
    attribution: Attribution,
    threshold: float,
) -> Assessment:
    """Apply the decision rule to the lifetimes of a capture made by :func:`run_loop`."""
    markers: list[Lifetimes] = []
    tallies: dict[Frame, _Tally] = defaultdict(_Tally)
    others: list[tuple[Frame, Lifetimes]] = []
    for record in lifetimes:
        stack = record.stack
        if stack and stack[0][0] == MARKER_FUNCTION and _is_harness(attribution, stack[0]):
            markers.append(record)
            continue
        frame = attribution.locate(stack)
        if frame is not None:
            others.append((frame, record))

    boundaries, warnings = _boundaries(markers, plan.segments)
    start, middle = boundaries[0], boundaries[plan.segments // 2]
    for frame, record in others:
        tally = tallies[frame]
        kept = 0
        for span in record.spans:
            born, died = span.allocated_before_snapshot, span.deallocated_before_snapshot
            tally.changes[born] += span.n_bytes
            if died is not None:
                tally.changes[died] -= span.n_bytes
            elif start < born <= middle:
                kept += span.n_bytes
                tally.survivor_count += span.n_allocations
        tally.survivor_bytes += kept
        if kept > tally.context_bytes:
            tally.context, tally.context_bytes = record.stack, kept

    locations = [
        _location(frame, tally, boundaries, plan.segment_sizes(), attribution)
        for frame, tally in tallies.items()
    ]
    steady_total = sum(loc.kept_per_iteration for loc in locations)
    kept_locations = [loc for loc in locations if loc.steady or loc.bytes_per_iteration > 0]
    kept_locations.sort(
        key=lambda loc: (not loc.steady, -loc.kept_per_iteration, -loc.bytes_per_iteration)
    )
    return Assessment(
        leaked=steady_total > 0 and steady_total >= threshold,
        bytes_per_iteration=steady_total,
        locations=tuple(kept_locations[:MAX_LOCATIONS]),
        warnings=warnings,
    )


def _is_harness(attribution: Attribution, element: StackElement) -> bool:
    return attribution.kind(element[1]) is FrameKind.HARNESS


def _boundaries(markers: Sequence[Lifetimes], segments: int) -> tuple[list[int], tuple[str, ...]]:
    """Snapshot index of each segment boundary, from the markers the harness allocated."""
    births: Counter[int] = Counter()
    for record in markers:
        for span in record.spans:
            if span.n_bytes == MARKER_BYTES * span.n_allocations:
                births[span.allocated_before_snapshot] += span.n_allocations
    boundaries = sorted(births.elements())
    if len(boundaries) != segments + 1:
        raise TrackerError(
            f"the capture holds {len(boundaries)} segment markers, expected {segments + 1}; "
            "it was not made by leakcheck's loop"
        )
    warnings: tuple[str, ...] = ()
    if len(births) < len(boundaries):
        # The snapshot thread did not run during a pause: two boundaries share a snapshot and
        # the segment between them looks empty, which can only hide growth, never invent it.
        warnings = (
            "memray took no memory snapshot during some segment pauses (machine too busy?); "
            "growth in those segments could not be seen",
        )
    return boundaries, warnings


def _location(
    frame: Frame,
    tally: _Tally,
    boundaries: Sequence[int],
    sizes: Sequence[int],
    attribution: Attribution,
) -> Location:
    live = _live_at(tally.changes, boundaries)
    growth = tuple(after - before for before, after in itertools.pairwise(live))
    half = len(sizes) // 2
    first_half = sum(sizes[:half])
    return Location(
        frame=frame,
        bytes_per_iteration=tally.survivor_bytes / first_half,
        allocations_per_iteration=tally.survivor_count / first_half,
        growth=growth,
        growth_per_iteration=min(g / n for g, n in zip(growth[half:], sizes[half:], strict=True)),
        stack=attribution.context(tally.context),
    )


def _live_at(changes: dict[int, int], boundaries: Sequence[int]) -> list[int]:
    """Live bytes at each boundary snapshot: alive there if born at or before it, died after."""
    live: list[int] = []
    ordered = sorted(changes.items())
    total, i = 0, 0
    for boundary in boundaries:
        while i < len(ordered) and ordered[i][0] <= boundary:
            total += ordered[i][1]
            i += 1
        live.append(total)
    return live
