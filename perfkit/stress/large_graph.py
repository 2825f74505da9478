"""A large task graph: 100k subtasks with dependencies, planned, then drained by the agents.

    python scripts/stress/large_graph.py                       # 100k subtasks, 1,000 agents
    python scripts/stress/large_graph.py --tasks 20000 --agents 200 --fan-in 3

One plan of ``--tasks`` subtasks in layers of ``--width``; each depends on ``--fan-in``
subtasks of the layer before. Reports plan time, drain time and throughput, RSS sampled every
0.5 s (peak) and the process's peak RSS from the OS; then checks the invariants.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections import Counter

import taskorch
from perfkit.demo import DemoHandler, check_invariants, plan_demo
from taskorch.agents import Fleet

from .common import RssSampler, emit, machine, scratch_db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--fan-in", type=int, default=2)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--json", help="also write the result to this file")
    args = parser.parse_args()
    with scratch_db() as url, taskorch.open(url) as orch, RssSampler(0.5) as rss:
        t0 = time.perf_counter()
        plans = plan_demo(orch, args.tasks, args.fan_in, args.width, per_plan=args.tasks)
        plan_s = time.perf_counter() - t0
        rss_planned = rss.samples[-1][1] if rss.samples else 0.0
        ledger: Counter[int] = Counter()
        handler = DemoHandler()
        fleet = Fleet(orch, handler, agents=args.agents, ledger=ledger)
        report = asyncio.run(fleet.run())
        check = check_invariants(orch, plans, ledger, handler.handled)
    result = {
        "machine": machine(),
        "tasks": args.tasks,
        "edges": sum(min(args.fan_in, args.width) for i in range(args.width, args.tasks)),
        "agents": args.agents,
        "plan_s": round(plan_s, 3),
        "drain_s": round(report.elapsed, 3),
        "loops_per_s": round(report.throughput, 1),
        "claim_latency_ms": report.claim_latency.as_dict(),
        "loop_lag_ms": report.loop_lag.as_dict(),
        "rss_mib_after_plan": rss_planned,
        "rss_mib_peak_sampled": rss.peak,
        "maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "invariants": str(check),
    }
    emit(result, args.json)
    if not check.ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
