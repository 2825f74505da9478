"""A large task graph: 100k subtasks with dependencies, planned, then drained by the agents.

    python scripts/stress/large_graph.py                       # 100k subtasks, 1,000 agents
    python scripts/stress/large_graph.py --tasks 20000 --agents 200 --fan-in 3

One plan of ``--tasks`` subtasks in layers of ``--width``; each depends on ``--fan-in``
subtasks of the layer before. Reports plan time, drain time and throughput, RSS sampled every
0.5 s (peak) and the process's peak RSS as the kernel keeps it; then checks the invariants.
"""

from __future__ import annotations

import time

import taskorch

from ..harness.environment import environment
from ..harness.memory import MIB, MemorySampler, peak_rss_bytes
from ..harness.store import scratch_url
from ..kit.exits import Exit
from ..kit.options import Parser, integer, output_file
from ..workloads.demo import drain_plans, plan_demo
from .common import emit


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=integer(1), default=100_000)
    parser.add_argument("--agents", type=integer(1), default=1000)
    parser.add_argument("--fan-in", type=integer(0), default=2)
    parser.add_argument("--width", type=integer(1), default=1000)
    parser.add_argument("--json", type=output_file, help="also write the result to this file")
    args = parser.parse_args(argv)
    with (
        scratch_url("stress", prefix="taskorch-stress-") as url,
        taskorch.open(url) as orch,
        MemorySampler(0.5) as rss,
    ):
        t0 = time.perf_counter()
        plans = plan_demo(orch, args.tasks, args.fan_in, args.width, per_plan=args.tasks)
        plan_s = time.perf_counter() - t0
        rss_planned = rss.sample()[1]
        report, check = drain_plans(orch, plans, agents=args.agents)
    result = {
        "machine": environment(),
        "tasks": args.tasks,
        "edges": sum(min(args.fan_in, args.width) for i in range(args.width, args.tasks)),
        "agents": args.agents,
        "plan_s": round(plan_s, 3),
        "drain_s": round(report.elapsed, 3),
        "loops_per_s": round(report.throughput, 1),
        "claim_latency_ms": report.claim_latency.as_dict(),
        "loop_lag_ms": report.loop_lag.as_dict(),
        "rss_mib_after_plan": rss_planned,
        "rss_mib_peak_sampled": rss.peak_mib,
        "peak_rss_mib": round(peak_rss_bytes() / MIB, 1),
        "invariants": str(check),
    }
    emit(result, args.json)
    return Exit.OK if check.ok else Exit.FAILED
