"""``taskorch fleet``: run demo agents against a generated plan (or a plan file).

Prints progress every second, then throughput, latencies and the invariant check; the exit
status is 1 when an invariant is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from taskorch import Orchestrator, Plan
from taskorch.agents import Fleet, FleetCounters
from taskorch.cli import open_db

from .demo import DemoHandler, check_invariants, plan_demo


def add_command(sub: Any, db_help: str) -> None:
    """Add ``fleet`` to the ``taskorch`` command's subparsers."""
    summary = "run N demo agents against a plan; print throughput and invariant checks"
    parser = sub.add_parser("fleet", help=summary, description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--db", help=db_help)
    parser.add_argument("--agents", type=int, default=100, help="agents (default 100)")
    parser.add_argument("--tasks", type=int, default=10_000, help="demo subtasks to plan")
    parser.add_argument(
        "--fan-in", type=int, default=0, help="dependencies per demo subtask (default 0)"
    )
    parser.add_argument("--plan", metavar="FILE", help="plan this JSON file instead")
    parser.add_argument("--work-ms", type=float, default=0.0, help="simulated work per subtask")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--lease", type=float, default=60.0, help="lease seconds (default 60)")
    parser.add_argument("--max-batch", type=int, default=512, help="calls per transaction")
    parser.add_argument(
        "--per-call", action="store_true", help="one commit per call (no group commit)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=cmd_fleet)


def cmd_fleet(args: argparse.Namespace) -> int:
    with open_db(args) as orch:
        return run(orch, args)


def _plans(orch: Orchestrator, args: argparse.Namespace) -> list[Plan]:
    if args.plan:
        spec = json.loads(Path(args.plan).read_text(encoding="utf-8"))
        return [orch.plan(spec["goal"], spec["subtasks"], context=spec.get("context"))]
    return plan_demo(orch, args.tasks, fan_in=args.fan_in)


def run(orch: Orchestrator, args: argparse.Namespace) -> int:
    """Plan, run the fleet with progress output, report; 0 when the invariants hold."""
    plans = _plans(orch, args)
    planned = sum(len(p.task_ids) for p in plans)
    print(f"planned {planned} subtasks in {orch.store.url}; {args.agents} agents", flush=True)

    def progress(counters: FleetCounters, elapsed: float) -> None:
        rate = counters.completed / elapsed if elapsed else 0.0
        print(
            f"  {elapsed:6.1f} s  completed {counters.completed:>8}  ({rate:,.0f}/s)"
            f"  failed {counters.failed}  lost {counters.lost}",
            flush=True,
        )

    ledger: Counter[int] = Counter()
    handler = DemoHandler(args.work_ms / 1e3)
    fleet = Fleet(
        orch,
        handler,
        agents=args.agents,
        lease_seconds=args.lease,
        group_commit=not args.per_call,
        max_batch=args.max_batch,
        ledger=ledger,
    )
    drained = args.duration is None
    report = asyncio.run(fleet.run(args.duration, drain=drained, on_progress=progress))
    # The store may hold other work the fleet also did; check this run's plans only.
    ids = {i for p in plans for i in p.task_ids}
    others = sum(n for i, n in ledger.items() if i not in ids)
    mine = Counter({i: n for i, n in ledger.items() if i in ids})
    check = check_invariants(orch, plans, mine, handler.handled, drained=drained)
    out: dict[str, Any] = report.as_dict() | {"invariants": str(check), "other_subtasks": others}
    if args.json:
        print(json.dumps(out))
    else:
        lat, lag = out["claim_latency_ms"], out["loop_lag_ms"]
        print(
            f"{report.counters.completed} subtasks in {report.elapsed:.2f} s:"
            f" {report.throughput:,.0f} loops/s; claim latency p50 {lat['p50']:.1f} ms,"
            f" p99 {lat['p99']:.1f} ms; loop lag p99 {lag['p99']:.1f} ms;"
            f" {out['calls_per_transaction']} calls per transaction"
        )
        if others:
            print(f"also completed {others} subtask(s) of other plans in the store")
        print(check)
    if not check.ok:
        print("taskorch: an invariant is broken (see above)", file=sys.stderr)
        return 1
    return 0
