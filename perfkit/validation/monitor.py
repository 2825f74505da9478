"""ResourceMonitor: memory, CPU, open database connections and threads of a process, sampled.

::

    async with ResourceMonitor(interval=0.5) as monitor:
        await run_workload()
    print(monitor.samples[-1].memory_mb, monitor.peak_memory_mb)

Sampling runs on its own thread (:class:`perfkit.harness.memory.Sampler`), so a workload that
blocks the event loop (or has none) is still sampled on time. Needs psutil
(``pip install taskorch[perf]``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..harness.memory import MIB, Sampler, process, rss_bytes

if TYPE_CHECKING:
    import psutil  # imported on first use: reading samples back needs no psutil

__all__ = ["ResourceMonitor", "Sample", "count_database_connections", "write_samples"]

DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SERVER_PORTS = frozenset({5432})  # PostgreSQL


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation of a process. ``seconds`` counts from the monitor's start."""

    seconds: float
    memory_mb: float
    cpu_percent: float
    database_connections: int
    active_threads: int


def count_database_connections(proc: psutil.Process) -> int:
    """SQLite database files the process holds open, plus its sockets to a database server.

    A SQLite connection in WAL mode holds the database, ``-wal`` and ``-shm`` files; only the
    database file itself is counted, so each connection counts once.
    """
    count = 0
    try:
        paths = [f.path for f in proc.open_files()]
    except Exception:  # the process may end, or deny access, between two samples
        paths = []
    opened = set(paths)
    for path in paths:
        if path.endswith(DB_SUFFIXES) or f"{path}-wal" in opened:
            count += 1
    try:
        sockets = proc.net_connections(kind="all")
    except Exception:
        sockets = []
    for conn in sockets:
        remote = conn.raddr
        if (hasattr(remote, "port") and remote.port in SERVER_PORTS) or (
            isinstance(remote, str) and ".s.PGSQL." in remote
        ):
            count += 1
    return count


class ResourceMonitor(Sampler[Sample]):
    """Samples a process (default: this one) every ``interval`` seconds while it runs."""

    def __init__(self, interval: float = 1.0, pid: int | None = None) -> None:
        super().__init__(interval)
        self._process = process(pid)

    def take(self) -> Sample:
        p = self._process
        with p.oneshot():
            return Sample(
                seconds=round(self.elapsed, 3),
                memory_mb=round(rss_bytes(p) / MIB, 2),
                cpu_percent=p.cpu_percent(interval=None),
                database_connections=count_database_connections(p),
                active_threads=p.num_threads(),
            )

    async def track_orchestrator_resources(self) -> dict[str, Any]:
        """One sample as a dictionary of metrics: memory (MB), CPU %, database connections and
        threads."""
        s = self.sample()
        return {
            "memory_usage_mb": s.memory_mb,
            "cpu_percentage": s.cpu_percent,
            "database_connections": s.database_connections,
            "active_threads": s.active_threads,
        }

    def start(self) -> None:
        self._process.cpu_percent(interval=None)  # primes the CPU counter
        super().start()

    @property
    def peak_memory_mb(self) -> float:
        return max((s.memory_mb for s in self.samples), default=0.0)

    def __enter__(self) -> ResourceMonitor:
        self.start()
        return self

    async def __aenter__(self) -> ResourceMonitor:
        self.start()
        return self


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
