"""Memory growth per iteration of the core-operation loops, as measured by ``leakcheck``.

The place for leakcheck's bytes-per-iteration API. Skipped until the ``leakcheck`` package is
importable and has it. The contract expected here: ``leakcheck.bytes_per_iteration(step,
iterations=N) -> float``, the steady-state growth of the process's memory per call of ``step``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ._support import quick_run, require, session

ITERATIONS = 20_000
QUICK_ITERATIONS = 500  # asv run --quick: the loop runs, its figure is not kept
OPERATIONS: dict[str, dict[str, Any]] = {
    "claim_complete": {},
    "plan_10": {"n": 10},
    "context": {"cached": False},
}
WORKLOAD = {"claim_complete": "claim_complete", "plan_10": "plan", "context": "context"}


class LeakRate:
    """Bytes of memory growth per operation over a long loop (target: 0; leakcheck flags 0.5 B)."""

    param_names = ["operation"]
    params = [list(OPERATIONS)]
    unit = "bytes"
    timeout = 600
    version = "1"

    def setup(self, operation: str) -> None:
        try:
            leakcheck: Any = importlib.import_module("leakcheck")
        except ImportError as exc:
            raise NotImplementedError("the leakcheck package is not installed") from exc
        measure = getattr(leakcheck, "bytes_per_iteration", None)
        if measure is None:
            raise NotImplementedError("leakcheck has no bytes_per_iteration yet")
        require("Orchestrator.plan")
        self.measure: Callable[..., float] = measure
        self.step = session(WORKLOAD[operation], None, **OPERATIONS[operation])
        self.iterations = QUICK_ITERATIONS if quick_run() else ITERATIONS

    def track_bytes_per_iteration(self, operation: str) -> float:
        return float(self.measure(self.step, iterations=self.iterations))
