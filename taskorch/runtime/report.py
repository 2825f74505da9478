"""What a fleet run reports: its counters and :class:`FleetReport`; and :class:`Result`, what a
handler may return to attach artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .metrics import Percentiles


@dataclass(frozen=True, slots=True)
class Result:
    """What a handler may return to attach artifacts to a subtask's result."""

    value: Any = None
    artifacts: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class FleetCounters:
    """How many subtasks the fleet completed, failed (``retried``: made ready again), gave back
    unfinished (``released``) or lost to another agent after its lease expired (``lost``)."""

    completed: int
    failed: int
    retried: int
    released: int
    lost: int


@dataclass(frozen=True, slots=True)
class FleetReport:
    """The outcome of :meth:`Fleet.run`; times in seconds."""

    agents: int
    elapsed: float
    counters: FleetCounters
    claim_latency: Percentiles
    loop_lag: Percentiles
    calls: int
    transactions: int

    @property
    def throughput(self) -> float:
        """Completed subtasks per second."""
        return self.counters.completed / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (latencies in milliseconds)."""
        c = self.counters
        return {
            "agents": self.agents,
            "elapsed_s": round(self.elapsed, 3),
            "completed": c.completed,
            "failed": c.failed,
            "retried": c.retried,
            "released": c.released,
            "lost": c.lost,
            "loops_per_s": round(self.throughput, 1),
            "claim_latency_ms": self.claim_latency.as_dict(),
            "loop_lag_ms": self.loop_lag.as_dict(),
            "calls": self.calls,
            "transactions": self.transactions,
            "calls_per_transaction": round(self.calls / max(1, self.transactions), 1),
        }
