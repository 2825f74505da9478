"""ResourceMonitor: memory, CPU, open database connections and threads of a process, sampled.

::

    async with ResourceMonitor(interval=0.5) as monitor:
        await run_workload()
    print(monitor.samples[-1].memory_mb, monitor.peak_memory_mb)

Sampling runs on its own thread, so a workload that blocks the event loop (or has none) is
still sampled on time. Needs psutil (``pip install taskorch[perf]``).
"""

from __future__ import annotations

import csv
import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Any

from taskorch.errors import ConfigurationError

__all__ = ["ResourceMonitor", "Sample", "count_database_connections", "write_samples"]

DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SERVER_PORTS = frozenset({5432})  # PostgreSQL


def _psutil() -> Any:
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ConfigurationError(
            "resource monitoring needs psutil: pip install 'taskorch[perf]'"
        ) from exc
    return psutil


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation of a process. ``seconds`` counts from the monitor's start."""

    seconds: float
    memory_mb: float
    cpu_percent: float
    database_connections: int
    active_threads: int


def count_database_connections(process: Any) -> int:
    """SQLite database files the process holds open, plus its sockets to a database server.

    A SQLite connection in WAL mode holds the database, ``-wal`` and ``-shm`` files; only the
    database file itself is counted, so each connection counts once.
    """
    count = 0
    try:
        paths = [f.path for f in process.open_files()]
    except Exception:  # the process may end, or deny access, between two samples
        paths = []
    opened = set(paths)
    for path in paths:
        if path.endswith(DB_SUFFIXES) or f"{path}-wal" in opened:
            count += 1
    try:
        sockets = process.net_connections(kind="all")
    except Exception:
        sockets = []
    for conn in sockets:
        remote = conn.raddr
        if (hasattr(remote, "port") and remote.port in SERVER_PORTS) or (
            isinstance(remote, str) and ".s.PGSQL." in remote
        ):
            count += 1
    return count


class ResourceMonitor:
    """Samples a process (default: this one) every ``interval`` seconds while it runs."""

    def __init__(self, interval: float = 1.0, pid: int | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.interval = interval
        self._process = _psutil().Process(pid or os.getpid())
        self.samples: list[Sample] = []
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> Sample:
        """Take one sample now (also records it)."""
        p = self._process
        with p.oneshot():
            s = Sample(
                seconds=round(time.perf_counter() - self._started, 3) if self._started else 0.0,
                memory_mb=round(p.memory_info().rss / 2**20, 2),
                cpu_percent=p.cpu_percent(interval=None),
                database_connections=count_database_connections(p),
                active_threads=p.num_threads(),
            )
        self.samples.append(s)
        return s

    async def track_orchestrator_resources(self) -> dict[str, Any]:
        """One sample as the seed's dictionary of metrics."""
        s = self.sample()
        return {
            "memory_usage_mb": s.memory_mb,
            "cpu_percentage": s.cpu_percent,
            "database_connections": s.database_connections,
            "active_threads": s.active_threads,
        }

    def start(self) -> None:
        """Start sampling on a background thread (first sample at once)."""
        if self._thread is not None:
            raise RuntimeError("this monitor is already running")
        self._started = time.perf_counter()
        self._process.cpu_percent(interval=None)  # primes the CPU counter
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="resource-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> list[Sample]:
        """Stop sampling, take a last sample, and return all samples."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self.sample()
        return self.samples

    @property
    def peak_memory_mb(self) -> float:
        return max((s.memory_mb for s in self.samples), default=0.0)

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> ResourceMonitor:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> ResourceMonitor:
        self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def write_samples(samples: Iterable[Sample], directory: Path, stem: str = "samples") -> list[Path]:
    """Write samples as ``stem.csv`` and ``stem.json`` in ``directory``; return the paths."""
    rows = [asdict(s) for s in samples]
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = directory / f"{stem}.csv", directory / f"{stem}.json"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[x.name for x in fields(Sample)])
        writer.writeheader()
        writer.writerows(rows)
    json_path.write_text(json.dumps({"format": 1, "samples": rows}, indent=1), encoding="utf-8")
    return [csv_path, json_path]
