"""The agent capacity: the largest number of agents that still holds, found by a search.

A count *holds* when a timed fleet of that many agents
(:func:`perfkit.workloads.fleets.timed_fleet`, each handler call doing ``work_ms`` of simulated
work) keeps every invariant (no double claim, no lost task, no error) and its agents really work at
once: the time-weighted median of agents working together (:mod:`perfkit.workloads.concurrency`) is
at least ``min_working`` of the count. A count the database cannot keep busy fails the second test:
its agents queue for claims instead of working.

The search (:func:`search`) doubles the count from ``start`` until one breaks or ``high`` is
reached, then bisects between the largest count that held and the smallest that broke, until
they are within a tenth of each other (or 1 apart), or the time budget would be overrun by
another probe. The answer is the largest count that held; the smallest that broke is its
bound. The probe is a parameter, so the rule is tested on a fake one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorch import open as open_orchestrator

from ..harness.store import fresh_url
from ..workloads.fleets import timed_fleet

__all__ = ["Capacity", "Probe", "agent_capacity", "fleet_probe", "search"]

#: Bisecting stops when the bounds are this close, relative to the count that held.
PRECISION = 0.1


@dataclass(frozen=True, slots=True)
class Probe:
    """One count tried: whether it held, whether its invariants did, why not, what it measured."""

    agents: int
    held: bool
    sound: bool
    why: str
    figures: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"agents": self.agents, "held": self.held, "sound": self.sound, "why": self.why,
                **self.figures}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Capacity:
    """The largest count that held (0: none did), the smallest that broke (None: none did)."""

    capacity: int
    broke_at: int | None
    stopped: str
    probes: tuple[Probe, ...]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "broke_at": self.broke_at,
            "stopped": self.stopped,
            "seconds": round(self.seconds, 1),
            "probes": [p.as_dict() for p in self.probes],
        }


def search(
    probe: Callable[[int], Probe],
    start: int,
    high: int,
    budget_seconds: float,
    clock: Callable[[], float] = time.monotonic,
) -> Capacity:
    """Find the largest count in ``[1, high]`` for which ``probe`` holds, from ``start``."""
    if not 1 <= start <= high:
        raise ValueError(f"the search needs 1 <= start <= high, got start {start}, high {high}")
    began = clock()
    held, broke = 0, None
    probes: list[Probe] = []
    longest = 0.0
    count = start
    while True:
        t0 = clock()
        result = probe(count)
        longest = max(longest, clock() - t0)
        probes.append(result)
        if result.held:
            held = count
        else:
            broke = count
        if broke is None:
            if count >= high:
                stopped = f"held up to the highest count tried ({high:,})"
                break
            count = min(high, count * 2)
        else:
            if broke - held <= max(1, int(held * PRECISION)):
                stopped = "the bounds met"
                break
            count = (held + broke) // 2  # strictly between: they are at least 2 apart
        if clock() - began + longest > budget_seconds:
            stopped = f"the time budget ({budget_seconds:g} s) would be overrun"
            break
    return Capacity(held, broke, stopped, tuple(probes), clock() - began)


def fleet_probe(
    directory: Path, seconds: float, work_seconds: float, min_working: float
) -> Callable[[int], Probe]:
    """A probe that runs a timed fleet of the given count on a fresh SQLite file."""

    def probe(agents: int) -> Probe:
        with open_orchestrator(fresh_url(directory, f"capacity-{agents}")) as orch:
            outcome = asyncio.run(timed_fleet(orch, agents, seconds, work_seconds=work_seconds))
        m = outcome.metrics()
        figures = {k: m[k] for k in ("working_median", "working_peak")}
        figures["loops_per_second"] = round(m["loops_per_second"])
        figures["claim_p99_ms"] = round(outcome.report.claim_latency.p99 * 1e3, 2)
        need = min_working * agents
        if not outcome.sound:
            why = f"{m['invariants']}; {m['errors']} errors"
        elif m["working_median"] < need:
            why = f"median {m['working_median']} working at once, below {need:g}"
        else:
            why = ""
        return Probe(agents, not why, outcome.sound, why, figures)

    return probe


def agent_capacity(directory: Path, options: dict[str, Any]) -> dict[str, Any]:
    """The ``agent_capacity`` target: :func:`search` with :func:`fleet_probe`."""
    probe = fleet_probe(
        directory, options["probe_seconds"], options["work_ms"] / 1e3, options["min_working"]
    )
    found = search(probe, options["start_agents"], options["max_agents"],
                   options["budget_seconds"])  # fmt: skip
    # A broken invariant is a fault at any count, not the capacity reached: the spec fails.
    unsound = [p.agents for p in found.probes if not p.sound]
    return found.as_dict() | {
        "work_ms": options["work_ms"],
        "min_working": options["min_working"],
        "probe_seconds": options["probe_seconds"],
        "passed": False if unsound else None,
    }
