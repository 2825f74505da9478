"""Concurrent agents for a fixed duration: throughput, claim latency, loop lag, errors, RSS.

    python scripts/stress/agents.py                        # 50, 200 and 1,000 agents, 20 s each
    python scripts/stress/agents.py --agents 1000 --duration 60 --json out.json

For each fleet size: a fresh database with more independent subtasks than the fleet can finish
(planned beforehand, not timed), a fleet running for ``--duration`` seconds
(:func:`perfkit.workloads.fleets.timed_fleet` with a stock: nothing is planned while the clock
runs), RSS sampled every second, then the invariants: every completed subtask in the ledger exactly
once, claimed once, handled once; nothing left claimed. ``errors`` counts failures, retries and lost
leases; it must be 0.
"""

from __future__ import annotations

import asyncio
from typing import Any

import taskorch

from ..harness.environment import environment
from ..harness.memory import MemorySampler
from ..harness.store import scratch_url
from ..kit.exits import Exit
from ..kit.options import Parser, integer, number, output_file
from ..workloads.fleets import timed_fleet
from .common import emit


def run(agents: int, duration: float, tasks: int, work: float) -> dict[str, Any]:
    """One fleet of ``agents`` for ``duration`` seconds on a stock of ``tasks`` subtasks."""
    with (
        scratch_url("stress", prefix="taskorch-stress-") as url,
        taskorch.open(url) as orch,
        MemorySampler() as rss,
    ):
        outcome = asyncio.run(timed_fleet(orch, agents, duration, stock=tasks, work_seconds=work))
    assert outcome.invariants is not None  # checked: timed_fleet's default
    return outcome.report.as_dict() | {
        "errors": outcome.errors,
        "rss_mib": {"peak": rss.peak_mib, "samples": rss.samples},
        "invariants": str(outcome.invariants),
        "invariants_ok": outcome.invariants.ok,
    }


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=integer(1), nargs="+", default=[50, 200, 1000])
    parser.add_argument("--duration", type=number(0, above=True), default=20.0)
    parser.add_argument("--tasks", type=integer(1), help="subtasks planned (default: 12,000/s)")
    parser.add_argument("--work-ms", type=number(0), default=0.0, help="simulated handler time")
    parser.add_argument("--json", type=output_file, help="also write the result to this file")
    args = parser.parse_args(argv)
    tasks = args.tasks or int(12_000 * args.duration) + 10_000
    results = []
    for n in args.agents:
        result = run(n, args.duration, tasks, args.work_ms / 1e3)
        results.append(result)
        summary = {k: result[k] for k in ("agents", "loops_per_s", "errors", "invariants_ok")}
        print(summary, flush=True)
    emit({"machine": environment(), "duration_s": args.duration, "runs": results}, args.json)
    return Exit.OK if all(r["invariants_ok"] and r["errors"] == 0 for r in results) else Exit.FAILED
