"""What tracking costs: the same loop timed untracked and under leakcheck's Tracker.

``python -m leakcheck.overhead CASE ITERATIONS WARMUP`` prints one JSON measurement, taken
in a fresh process so earlier cases cannot have warmed anything up.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from leakcheck.checking import check
from leakcheck.corpus import CASES

__all__ = ["Overhead", "measure", "run_measure"]


@dataclass(frozen=True, slots=True)
class Overhead:
    """Seconds for ``iterations`` calls untracked and tracked, and the analysis after."""

    case: str
    iterations: int
    untracked: float
    tracked: float
    analysis: float
    allocations: int

    @property
    def ratio(self) -> float:
        return self.tracked / self.untracked if self.untracked > 0 else float("inf")


def measure(name: str, iterations: int, warmup: int) -> Overhead:
    """Time ``iterations`` untracked calls, then the tracked loop of a check, in one session."""
    with tempfile.TemporaryDirectory() as scratch, CASES[name].session(Path(scratch)) as step:
        for _ in range(warmup):
            step()
        gc.collect()
        started = time.perf_counter()
        for _ in range(iterations):
            step()
        untracked = time.perf_counter() - started
        report = check(step, iterations=iterations, warmup=0)
    return Overhead(
        name, iterations, untracked, report.timings.loop, report.timings.analysis,
        report.allocations,
    )  # fmt: skip


def run_measure(name: str, iterations: int, warmup: int, env: dict[str, str]) -> Overhead:
    """:func:`measure` in a child process."""
    command = [sys.executable, "-m", "leakcheck.overhead", name, str(iterations), str(warmup)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    return Overhead(**json.loads(result.stdout))


def _main(argv: Sequence[str]) -> int:
    name, iterations, warmup = argv
    print(json.dumps(asdict(measure(name, int(iterations), int(warmup)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
