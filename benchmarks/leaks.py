"""Memory growth per iteration of the core-operation loops, as measured by ``leakcheck``.

``leakcheck.bytes_per_iteration(step, iterations=N) -> float`` is the steady-state growth of the
process's memory per call of ``step``. leakcheck is a measuring tool, so like the workloads it
comes from the working tree whatever the commit under test shipped; it needs memray, which asv
installs into every environment (asv.conf.json).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._support import quick_run, require, session, working_tree_module

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
    unit = "bytes/iteration"
    timeout = 600
    version = "2"

    def setup(self, operation: str) -> None:
        try:
            leakcheck: Any = working_tree_module("leakcheck")
        except ImportError as exc:
            raise NotImplementedError(f"leakcheck cannot run here: {exc}") from exc
        measure = getattr(leakcheck, "bytes_per_iteration", None)
        if measure is None:
            raise NotImplementedError("leakcheck has no bytes_per_iteration yet")
        require("Orchestrator.plan")
        self.measure: Callable[..., float] = measure
        self.step = session(WORKLOAD[operation], None, **OPERATIONS[operation])
        self.iterations = QUICK_ITERATIONS if quick_run() else ITERATIONS

    def track_bytes_per_iteration(self, operation: str) -> float:
        return float(self.measure(self.step, iterations=self.iterations))
