"""Concurrent agents for a fixed duration: throughput, claim latency, loop lag, errors, RSS.

    python scripts/stress/agents.py                        # 50, 200 and 1,000 agents, 20 s each
    python scripts/stress/agents.py --agents 1000 --duration 60 --json out.json

For each fleet size: a fresh database with more independent subtasks than the fleet can finish
(planned beforehand, not timed), a fleet running for ``--duration`` seconds, RSS sampled every
second, then the invariants: every completed subtask in the ledger exactly once, claimed once,
handled once; nothing left claimed. ``errors`` counts lost leases and failures; it must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from typing import Any

import taskorch
from perfkit.demo import DemoHandler, check_invariants, plan_demo
from taskorch.agents import Fleet

from .common import RssSampler, emit, machine, scratch_db


def run(agents: int, duration: float, tasks: int, work: float) -> dict[str, Any]:
    with scratch_db() as url, taskorch.open(url) as orch:
        plans = plan_demo(orch, tasks)
        ledger: Counter[int] = Counter()
        handler = DemoHandler(work)
        fleet = Fleet(orch, handler, agents=agents, ledger=ledger)
        with RssSampler() as rss:
            report = asyncio.run(fleet.run(duration, drain=False))
        check = check_invariants(orch, plans, ledger, handler.handled, drained=False)
    c = report.counters
    return report.as_dict() | {
        "errors": c.lost + c.failed,
        "rss_mib": {"peak": rss.peak, "samples": rss.samples},
        "invariants": str(check),
        "invariants_ok": check.ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--tasks", type=int, help="subtasks planned (default: 12,000/s)")
    parser.add_argument("--work-ms", type=float, default=0.0, help="simulated handler time")
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    tasks = args.tasks or int(12_000 * args.duration) + 10_000
    results = []
    for n in args.agents:
        result = run(n, args.duration, tasks, args.work_ms / 1e3)
        results.append(result)
        summary = {k: result[k] for k in ("agents", "loops_per_s", "errors", "invariants_ok")}
        print(summary, flush=True)
    emit({"machine": machine(), "duration_s": args.duration, "runs": results}, args.json)
    if not all(r["invariants_ok"] and r["errors"] == 0 for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
