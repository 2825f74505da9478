"""Drive a workload in a loop under memray, leaving segment boundaries in the capture.

The measured window is cut into equal segments. At each boundary the harness collects
garbage, allocates a small *marker* and pauses for a few of memray's memory-snapshot
intervals, so that a snapshot falls between the last allocation of one segment and the first
of the next. The analysis finds the markers' snapshot indexes and so knows, for every
allocation, the segment it was made in. Warm-up runs before the Tracker starts: it costs
nothing to trace and what it allocates is not counted.

This module is the *harness*: only what is allocated below :data:`WORKLOAD_CALLER`, the
function that calls the workload, is the workload's (see :mod:`leakcheck.attribution`).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import memray

from leakcheck.errors import TrackerError, UsageError, WorkloadError
from leakcheck.progress import Progress

__all__ = [
    "MARKER_BYTES",
    "MARKER_FUNCTION",
    "WORKLOAD_CALLER",
    "LoopPlan",
    "TrackedRun",
    "run_loop",
]

Step = Callable[[], object]

#: Name of the function whose allocations mark segment boundaries in a capture.
MARKER_FUNCTION = "_mark_boundary"
_MARKER_LENGTH = 100
#: Size of one marker allocation; the interpreter allocates other things on the same line.
MARKER_BYTES = sys.getsizeof(bytes(_MARKER_LENGTH))

#: The function that calls the workload: what runs below it is the workload's.
WORKLOAD_CALLER = "_drive"

# Progress is checked between chunks so the inner loop stays a bare call.
_CHUNK = 64


@dataclass(frozen=True, slots=True)
class LoopPlan:
    """How long to run: ``warmup`` untracked iterations, then ``iterations`` tracked ones."""

    iterations: int
    warmup: int
    segments: int = 8
    memory_interval_ms: int = 10

    def __post_init__(self) -> None:
        if self.segments < 2 or self.segments % 2:
            raise UsageError(f"segments must be an even number >= 2, not {self.segments}")
        if self.iterations < 2 * self.segments:
            raise UsageError(
                f"iterations must be at least {2 * self.segments} (two per segment), "
                f"not {self.iterations}"
            )
        if self.warmup < 0:
            raise UsageError(f"warmup must be >= 0, not {self.warmup}")
        if self.memory_interval_ms < 1:
            raise UsageError(f"memory_interval_ms must be >= 1, not {self.memory_interval_ms}")

    def segment_sizes(self) -> tuple[int, ...]:
        """Iterations in each segment; they differ by at most one."""
        n, k = self.iterations, self.segments
        return tuple(n * (i + 1) // k - n * i // k for i in range(k))


@dataclass(frozen=True, slots=True)
class TrackedRun:
    """What :func:`run_loop` leaves behind: the capture and the time each part took."""

    capture: Path
    plan: LoopPlan
    warmup_seconds: float
    loop_seconds: float
    tracked_seconds: float


def run_loop(step: Step, plan: LoopPlan, capture: Path, progress: Progress) -> TrackedRun:
    """Warm ``step`` up, then run it under a memray Tracker writing to ``capture``.

    Raises :class:`WorkloadError` if ``step`` raises (SystemExit included) and
    :class:`TrackerError` if memray cannot start (another Tracker is active in this process).
    """
    progress.phase("warm-up", plan.warmup)
    started = time.perf_counter()
    _drive(step, plan.warmup, 0, progress, "warm-up")
    gc.collect()
    warmup_seconds = time.perf_counter() - started

    # Long enough for the snapshot thread to run at least once on a busy machine.
    pause = 3 * plan.memory_interval_ms / 1000
    markers: list[bytes | None] = [None] * (plan.segments + 1)
    tracker = memray.Tracker(
        # Compressed, the capture is 10-50x smaller and reading it back is faster and steadier
        # than reading a raw file the kernel is still writing back.
        destination=memray.FileDestination(capture, overwrite=True, compress_on_exit=True),
        trace_python_allocators=True,  # without it pymalloc hides small leaks in 1 MiB arenas
        memory_interval_ms=plan.memory_interval_ms,
    )
    progress.phase("tracking", plan.iterations)
    loop_seconds = 0.0
    done = 0
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(tracker)
        except RuntimeError as exc:
            raise TrackerError(
                f"memray could not start tracking: {exc} "
                "(is another memray Tracker active, e.g. pytest --memray?)"
            ) from exc
        tracked_started = time.perf_counter()
        _mark_boundary(markers, 0, pause, generation=1)
        for segment, size in enumerate(plan.segment_sizes()):
            started = time.perf_counter()
            _drive(step, size, done, progress, "measured loop")
            loop_seconds += time.perf_counter() - started
            done += size
            last = segment + 1 == plan.segments
            _mark_boundary(markers, segment + 1, pause, generation=2 if last else 1)
        # Only the last marker must outlive the window; freeing the others keeps them out of
        # the flamegraph of what was left alive.
        markers[:-1] = [None] * plan.segments
    tracked_seconds = time.perf_counter() - tracked_started
    return TrackedRun(capture, plan, warmup_seconds, loop_seconds, tracked_seconds)


def _mark_boundary(
    markers: list[bytes | None], index: int, pause: float, *, generation: int
) -> None:
    # Young cyclic garbage must not count as alive at a boundary. Only the last boundary
    # collects everything: a full collection also empties the interpreter's free lists, and
    # the blocks the workload then allocates afresh to refill them would show as growth
    # in every segment, which is exactly the pattern of a leak.
    gc.collect(generation)
    markers[index] = bytes(_MARKER_LENGTH)
    time.sleep(pause)


def _drive(step: Step, count: int, done: int, progress: Progress, phase: str) -> None:
    i = 0
    try:
        for start in range(0, count, _CHUNK):
            for i in range(start, min(start + _CHUNK, count)):  # noqa: B007 - read below
                step()
            progress.update(done + i + 1)
    except (Exception, SystemExit) as exc:
        # SystemExit too: the workload's exit code must not become the checker's.
        raised = (
            f"SystemExit({exc.code!r})"
            if isinstance(exc, SystemExit)
            else f"{type(exc).__name__}: {exc}"
        )
        raise WorkloadError(
            f"the workload raised {raised} ({phase}, iteration {done + i + 1})"
        ) from exc
