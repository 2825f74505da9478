"""The child process of ``python -m leakcheck run``: one check, its verdict, an immediate exit.

Started by :mod:`leakcheck.isolation` as ``python -m leakcheck.worker SCRATCH_DIR``. The
exit status counts only once it is written to the scratch directory's status file; the
process then ends with ``os._exit``, without waiting for threads the workload left running.
A fork is refused before it happens: a forked copy would run the workload's code outside
the capture, and memray follows only one process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import NoReturn

from leakcheck.checking import check, check_session
from leakcheck.cli import EXIT_CLEAN, EXIT_FAILED, EXIT_LEAK, report_failure
from leakcheck.isolation import REQUEST, STATUS, RunRequest
from leakcheck.outputs import write_text_whole
from leakcheck.targets import load_callable

__all__ = ["main"]

FORKED = "the workload forked: leakcheck measures one process"

_interrupted = False


def main(work: Path) -> NoReturn:
    """Run the request in ``work``, report its exit status there, and end the process."""
    status = EXIT_FAILED
    try:
        request = RunRequest.from_json((work / REQUEST).read_text(encoding="utf-8"))
        sys.path[:] = request.sys_path
        if request.pythonpath is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = request.pythonpath
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, _interrupt)
        os.register_at_fork(before=lambda: _refuse_fork(work))
        status = _run(request, work)
    except KeyboardInterrupt:
        print("leakcheck: interrupted", file=sys.stderr)
    except SystemExit as exc:  # from the workload's import or session, never leakcheck's own
        print(f"leakcheck: error: the workload raised SystemExit({exc.code!r})", file=sys.stderr)
    except Exception as exc:
        status = report_failure(exc)
    _finish(work, status)


def _run(request: RunRequest, work: Path) -> int:
    target = load_callable(request.target)
    checker = check_session if request.session else check
    report = checker(
        target,
        iterations=request.iterations,
        warmup=request.warmup,
        threshold=request.threshold,
        flamegraph=request.flamegraph,
        keep_capture=request.keep_capture,
        progress=request.progress,
        name=request.target,
        scratch_dir=work,
    )
    if request.json is not None:
        write_text_whole(Path(request.json), report.to_json() + "\n")
    print(report.describe())
    for path, what in ((report.flamegraph, "flamegraph"), (report.capture, "capture")):
        if path is not None:
            print(f"{what}: {path}")
    return EXIT_LEAK if report.leaked else EXIT_CLEAN


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Ctrl-C reaches this process and the parent, which passes it on as SIGTERM: one interrupt
    # unwinds the run, and the next must not break off its clean-up.
    global _interrupted
    if not _interrupted:
        _interrupted = True
        raise KeyboardInterrupt


def _refuse_fork(work: Path) -> None:
    # Runs in the process about to fork: ending it here means the copy never exists.
    print(f"leakcheck: error: {FORKED}", file=sys.stderr)
    _finish(work, EXIT_FAILED)


def _finish(work: Path, status: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken stream must not keep the status from being reported.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    # Unreported, the parent says the run ended without a verdict.
    with contextlib.suppress(OSError):
        write_text_whole(work / STATUS, str(status))
    os._exit(status)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
