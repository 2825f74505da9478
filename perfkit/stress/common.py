"""Helpers shared by the stress runs: sample RSS, make scratch databases, print results."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

import taskorch
from perfkit.demo import InvariantReport, drain_demo
from taskorch.agents import FleetReport


class RssSampler:
    """Samples this process's RSS every ``interval`` seconds on a thread; keeps (t, MiB)."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._proc = psutil.Process()

    def __enter__(self) -> RssSampler:
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        rss = self._proc.memory_info().rss / 2**20
        self.samples.append((round(time.perf_counter() - self._t0, 1), round(rss, 1)))

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.interval):
                return

    @property
    def peak(self) -> float:
        return max(m for _, m in self.samples)


@contextmanager
def scratch_db(durability: str = "normal", name: str = "stress.db") -> Iterator[str]:
    """A URL to a new database file in a temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="taskorch-stress-") as folder:
        yield f"sqlite:///{folder}/{name}?durability={durability}"


def drain_run(
    url: str, tasks: int, agents: int, fan_in: int = 0, work: float = 0.0, **fleet: Any
) -> tuple[FleetReport, InvariantReport]:
    """Plan ``tasks`` demo subtasks on ``url``, drain them with one fleet, check invariants."""
    return drain_demo(url, tasks=tasks, agents=agents, fan_in=fan_in, work_seconds=work, **fleet)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def emit(result: dict[str, Any], out: str | None) -> None:
    """Print ``result`` as JSON, and write it to ``out`` when given."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")


def machine() -> dict[str, Any]:
    import sqlite3

    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "codec": taskorch.codec.BACKEND,
    }
