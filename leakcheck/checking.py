"""The Python API: run a callable (or a session of one) in a loop and judge its memory."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from leakcheck import progress as _progress_module
from leakcheck import tracking
from leakcheck.analysis import assess
from leakcheck.attribution import Attribution
from leakcheck.capture import read_capture
from leakcheck.errors import UsageError, WorkloadError
from leakcheck.flamegraph import write_flamegraph
from leakcheck.limits import MAX_THRESHOLD, amount, count
from leakcheck.outputs import check_writable, move_whole
from leakcheck.progress import Progress, SilentProgress, StreamProgress
from leakcheck.report import Report, Timings
from leakcheck.tracking import LoopPlan, run_loop

__all__ = [
    "DEFAULT_ITERATIONS",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WARMUP",
    "Session",
    "Step",
    "bytes_per_iteration",
    "check",
    "check_session",
]

#: Enough to see one 50-byte object kept every 100 iterations grow in every segment.
DEFAULT_ITERATIONS = 20_000
#: Untracked iterations first, so imports, interpreter caches and lazy set-up settle.
DEFAULT_WARMUP = 2_000
#: Bytes per iteration of steady growth from which a workload is said to leak. The smallest
#: leak the checker is built to find (one small object per 100 iterations, 0.5 B/iteration) is
#: five times above it; no bounded workload measured has shown steady growth at all.
DEFAULT_THRESHOLD = 0.1

Step = Callable[[], object]
#: A workload that needs set-up: called with a fresh scratch directory, it returns a context
#: manager that yields the step to loop and tears everything down on exit.
Session = Callable[[Path], AbstractContextManager[Step]]

# The harness: frames in these files are the loop's, never the workload's.
_ATTRIBUTION = Attribution(
    [tracking.__file__, _progress_module.__file__], workload_caller=tracking.WORKLOAD_CALLER
)


def check(
    step: Step,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    warmup: int = DEFAULT_WARMUP,
    threshold: float = DEFAULT_THRESHOLD,
    flamegraph: str | Path | None = None,
    flamegraph_on_leak_only: bool = False,
    keep_capture: str | Path | None = None,
    progress: Progress | bool = False,
    name: str = "",
    scratch_dir: str | Path | None = None,
) -> Report:
    """Call ``step()`` ``warmup`` times, then ``iterations`` times under memray; judge the growth.

    ``flamegraph`` writes an offline HTML flamegraph of what was left alive (only when the
    check finds a leak if ``flamegraph_on_leak_only``); ``keep_capture`` keeps memray's
    capture file, which is otherwise deleted; both are checked before the loop and written
    whole. ``progress=True`` reports on stderr during long runs. The capture (which can reach
    gigabytes) is made in a new directory under ``scratch_dir``, by default the system's
    temporary directory, and removed afterwards.

    Raises :class:`WorkloadError` when ``step`` raises, :class:`UsageError` for bad options
    and :class:`TrackerError` when memray cannot track.
    """
    if not callable(step):
        raise UsageError(f"the workload must be callable, not {type(step).__name__}")
    iterations, warmup, threshold = checked(iterations, warmup, threshold)
    check_outputs(flamegraph, keep_capture)
    plan = LoopPlan(iterations=iterations, warmup=warmup)
    reporter = _reporter(progress, name)
    workdir = Path(tempfile.mkdtemp(prefix="leakcheck-", dir=scratch_dir))
    try:
        run = run_loop(step, plan, workdir / "capture.bin", reporter)
        reporter.phase("analysing the capture")
        started = time.perf_counter()
        contents = read_capture(run.capture)
        assessment = assess(
            contents.lifetimes, plan=plan, attribution=_ATTRIBUTION, threshold=threshold
        )
        analysis_seconds = time.perf_counter() - started
        flamegraph_path, flamegraph_seconds = None, 0.0
        if flamegraph is not None and (assessment.leaked or not flamegraph_on_leak_only):
            reporter.phase("writing the flamegraph")
            started = time.perf_counter()
            flamegraph_path = write_flamegraph(run.capture, Path(flamegraph))
            flamegraph_seconds = time.perf_counter() - started
        capture_path = None
        if keep_capture is not None:
            capture_path = Path(keep_capture)
            move_whole(run.capture, capture_path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Report(
        leaked=assessment.leaked,
        bytes_per_iteration=assessment.bytes_per_iteration,
        iterations=iterations,
        warmup=warmup,
        threshold=threshold,
        locations=assessment.locations,
        timings=Timings(
            warmup=run.warmup_seconds,
            loop=run.loop_seconds,
            tracked=run.tracked_seconds,
            analysis=analysis_seconds,
            flamegraph=flamegraph_seconds,
        ),
        allocations=contents.allocations,
        warnings=assessment.warnings,
        workload=name,
        capture=capture_path,
        flamegraph=flamegraph_path,
    )


def bytes_per_iteration(
    step: Step, *, iterations: int = DEFAULT_ITERATIONS, warmup: int = DEFAULT_WARMUP
) -> float:
    """The bytes per call that ``step`` keeps growing: ``check(step).bytes_per_iteration``.

    For benchmarks that track growth over time (an asv ``track_`` benchmark); 0.0 when no
    line grows steadily.
    """
    return check(step, iterations=iterations, warmup=warmup).bytes_per_iteration


def check_session(
    session: Session,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    warmup: int = DEFAULT_WARMUP,
    threshold: float = DEFAULT_THRESHOLD,
    flamegraph: str | Path | None = None,
    flamegraph_on_leak_only: bool = False,
    keep_capture: str | Path | None = None,
    progress: Progress | bool = False,
    name: str = "",
    scratch_dir: str | Path | None = None,
) -> Report:
    """Like :func:`check`, for a workload that needs set-up and tear-down.

    ``session(scratch)`` must return a context manager yielding the step to loop; the
    scratch directory is created (under ``scratch_dir``) before and removed after. Set-up and
    tear-down run outside the measured window, so memory held by the open session only counts
    if it keeps growing.
    """
    checked(iterations, warmup, threshold)  # before the session is opened
    check_outputs(flamegraph, keep_capture)
    with tempfile.TemporaryDirectory(prefix="leakcheck-session-", dir=scratch_dir) as scratch:
        try:
            manager = session(Path(scratch))
            step = manager.__enter__()
        except (Exception, SystemExit) as exc:
            raise WorkloadError(f"the workload's session failed to start: {exc!r}") from exc
        try:
            report = check(
                step,
                iterations=iterations,
                warmup=warmup,
                threshold=threshold,
                flamegraph=flamegraph,
                flamegraph_on_leak_only=flamegraph_on_leak_only,
                keep_capture=keep_capture,
                progress=progress,
                name=name,
                scratch_dir=scratch_dir,
            )
        except BaseException as exc:
            manager.__exit__(type(exc), exc, exc.__traceback__)
            raise
        try:
            manager.__exit__(None, None, None)
        except (Exception, SystemExit) as exc:
            raise WorkloadError(f"the workload's session failed to close: {exc!r}") from exc
    return report


def checked(iterations: object, warmup: object, threshold: object) -> tuple[int, int, float]:
    """The loop's numbers, checked (:class:`UsageError` naming the first bad one)."""
    return (
        count("iterations", iterations, 16),  # LoopPlan asks for two per segment, eight segments
        count("warmup", warmup, 0),
        amount("threshold", threshold, 0.0, MAX_THRESHOLD),
    )


def check_outputs(flamegraph: str | Path | None, keep_capture: str | Path | None) -> None:
    """:class:`UsageError` unless both outputs (when asked for) can be written."""
    if flamegraph is not None:
        check_writable("flamegraph", flamegraph)
    if keep_capture is not None:
        check_writable("keep_capture", keep_capture)


def _reporter(progress: Progress | bool, name: str) -> Progress:
    if progress is True:
        return StreamProgress(label=f"leakcheck {name}" if name else "leakcheck")
    if progress is False:
        return SilentProgress()
    return progress
