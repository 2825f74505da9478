"""Resident memory of a process: now, at its peak, sampled on a thread, and of a child process
measured from outside.

psutil reads the figures (``pip install 'taskorch[perf]'``). It is imported on first use, and
nothing else is imported at the top but the standard library, so that a child can import
:func:`hold_for_measurement` where psutil is not installed (the peer's environment) at no cost
to the memory it is measured for. A child is measured by its parent, not by itself: the child
pays nothing for the measuring, and only the parent needs psutil.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import psutil

__all__ = [
    "READY",
    "MeasuredRun",
    "MemorySampler",
    "ProcessMemory",
    "Sampler",
    "hold_for_measurement",
    "peak_rss_bytes",
    "process",
    "rss_bytes",
    "run_measured",
]

MIB = 2**20
#: The line a child prints when it is ready to be measured (see :func:`run_measured`).
READY = "perfkit: measure me now"

T = TypeVar("T")


def _psutil() -> ModuleType:
    try:
        import psutil
    except ImportError as exc:
        from taskorch import ConfigurationError

        raise ConfigurationError(
            "measuring memory needs psutil: pip install 'taskorch[perf]'"
        ) from exc
    return psutil


def process(pid: int | None = None) -> psutil.Process:
    """The psutil handle of process ``pid`` (default: this one)."""
    handle: psutil.Process = _psutil().Process(pid)
    return handle


def rss_bytes(proc: psutil.Process | int | None = None) -> int:
    """Resident memory of a process (a psutil handle, a pid, or this process) now, in bytes."""
    handle = proc if not isinstance(proc, int | None) else process(proc)
    return int(handle.memory_info().rss)


def peak_rss_bytes(pid: int | None = None) -> int:
    """The most resident memory process ``pid`` (default: this one) ever had, in bytes, as the
    kernel keeps it: ``VmHWM`` on Linux (per address space, so a child started with exec does
    not inherit its parent's peak, as ``ru_maxrss`` does), the peak working set on Windows.
    Elsewhere: ``ru_maxrss`` for this process, the current RSS for another."""
    target = process(pid)
    if sys.platform.startswith("linux"):
        status = Path(f"/proc/{target.pid}/status").read_text(encoding="ascii")
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    if sys.platform == "win32":
        return int(target.memory_info().peak_wset)  # type: ignore[attr-defined]
    if pid is None:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, else KiB
    return rss_bytes(target)


class Sampler(Generic[T]):
    """Calls :meth:`take` every ``interval`` seconds on a thread of its own and keeps what it
    returns in :attr:`samples`: the first at the start, the last at the stop. A workload that
    blocks the event loop, or has none, is still sampled on time. Use it as ``with`` or
    ``async with`` around the workload, or call :meth:`start` and :meth:`stop`."""

    def __init__(self, interval: float = 1.0) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.interval = interval
        self.samples: list[T] = []
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take(self) -> T:
        """One observation; subclasses define it."""
        raise NotImplementedError

    @property
    def elapsed(self) -> float:
        """Seconds since :meth:`start` (0 before it)."""
        return time.perf_counter() - self._started if self._started else 0.0

    def sample(self) -> T:
        """Take one sample now and record it."""
        value = self.take()
        self.samples.append(value)
        return value

    def start(self) -> None:
        """Start sampling on a background thread (the first sample at once)."""
        if self._thread is not None:
            raise RuntimeError("this sampler is already running")
        self._started = time.perf_counter()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()

    def stop(self) -> list[T]:
        """Stop sampling, take a last sample, and return all samples."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self.sample()
        return self.samples

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Sampler[T]:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Sampler[T]:
        self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class MemorySampler(Sampler[tuple[float, float]]):
    """Samples the RSS of a process (default: this one): ``(seconds, MiB)`` pairs, rounded to
    a tenth."""

    def __init__(self, interval: float = 1.0, pid: int | None = None) -> None:
        super().__init__(interval)
        self._process = process(pid)

    def take(self) -> tuple[float, float]:
        return round(self.elapsed, 1), round(rss_bytes(self._process) / MIB, 1)

    @property
    def peak_mib(self) -> float:
        """The largest RSS sampled (0 before the first sample)."""
        return max((mib for _, mib in self.samples), default=0.0)

    def __enter__(self) -> MemorySampler:
        self.start()
        return self


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """A process's resident memory at one moment, and its peak up to then, in bytes."""

    rss_bytes: int
    peak_bytes: int

    @property
    def rss_mib(self) -> float:
        return self.rss_bytes / MIB

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / MIB


@dataclass(frozen=True, slots=True)
class MeasuredRun:
    """A finished child process; ``memory`` is None when it never asked to be measured."""

    returncode: int
    stdout: str
    stderr: str
    memory: ProcessMemory | None


def hold_for_measurement() -> None:
    """In a child started by :func:`run_measured`: stop here until the parent has measured
    this process. A child that cannot import perfkit does the same by hand: print
    :data:`READY` on a line of its own, flush, and read a line from standard input."""
    print(READY, flush=True)
    sys.stdin.readline()


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
) -> MeasuredRun:
    """Run ``argv`` to its end; when it prints :data:`READY`, read its RSS and peak RSS while
    it waits, then let it go on. ``timeout`` bounds the time after the measurement."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        child = subprocess.Popen(
            list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            text=True, env=None if env is None else dict(env), cwd=cwd,
        )  # fmt: skip
        assert child.stdin is not None and child.stdout is not None
        before: list[str] = []
        memory = None
        for line in child.stdout:
            if line.rstrip("\r\n") == READY:
                memory = ProcessMemory(rss_bytes(child.pid), peak_rss_bytes(child.pid))
                child.stdin.write("\n")
                child.stdin.flush()
                break
            before.append(line)
        try:
            rest, _ = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise
        errors.seek(0)
        return MeasuredRun(child.returncode, "".join(before) + rest, errors.read(), memory)
