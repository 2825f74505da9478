"""Run the check of ``python -m leakcheck run`` in a child process, and judge how it ended.

The loop runs the workload's code in the child (:mod:`leakcheck.worker`), so nothing the
workload does to that process decides how leakcheck ends: a crash is reported in words, a
thread left running is not waited for, and the child's exit status counts only when the
worker itself reported it. The child's scratch directory, where memray's capture is written,
is made and removed here, so a child killed mid-loop leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

from leakcheck.errors import WorkloadError

__all__ = ["REQUEST", "STATUS", "RunRequest", "run_in_child"]

#: Files in the child's scratch directory: what to run, and the status the worker reported.
REQUEST, STATUS = "request.json", "status"

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One ``run`` command's check, as the worker needs it."""

    target: str
    session: bool
    iterations: int
    warmup: int
    threshold: float
    json: str | None
    flamegraph: str | None
    keep_capture: str | None
    progress: bool
    #: The parent's import path, so the target imports in the child as it would here.
    sys_path: list[str]
    #: The parent's PYTHONPATH, given back to the workload (the child's is changed to start).
    pythonpath: str | None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RunRequest:
        return cls(**json.loads(text))


def run_in_child(request: RunRequest) -> int:
    """Run ``request`` in a child process; its exit status (0, 1 or 2).

    Raises :class:`WorkloadError` when the child ended without a verdict (a signal, an exit
    of the workload's own) and :class:`KeyboardInterrupt` when an interrupt ended it.
    """
    work = Path(tempfile.mkdtemp(prefix="leakcheck-"))
    try:
        (work / REQUEST).write_text(request.to_json(), encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, request.pythonpath) if p)
        command = [sys.executable, "-m", "leakcheck.worker", str(work)]
        returncode, interrupted = _supervise(command, env)
        reported = (work / STATUS).read_text(encoding="utf-8") if (work / STATUS).exists() else ""
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if reported:
        return int(reported)
    if interrupted:
        raise KeyboardInterrupt
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = "unknown signal"
        raise WorkloadError(f"the workload crashed (signal {number}, {name})")
    raise WorkloadError(f"the workload ended the process with status {returncode} before a verdict")


def _supervise(command: list[str], env: dict[str, str]) -> tuple[int, bool]:
    """Run ``command`` to its end: its return code, and whether it was interrupted.

    The first interrupt (Ctrl-C, or a CI timeout's SIGTERM) asks the child to stop, so that it
    tears the workload's session down; a second one kills it.
    """
    child: subprocess.Popen[bytes] | None = None
    interrupts = 0

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if child is not None:
            child.send_signal(signal.SIGTERM if interrupts == 1 else signal.SIGKILL)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        child = subprocess.Popen(command, env=env)
        if interrupts:  # arrived while the child was starting
            child.send_signal(signal.SIGTERM)
        return child.wait(), interrupts > 0
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
