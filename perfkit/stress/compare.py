"""Compare fleet designs and settings in one run: the same workload, repeated, interleaved.

Each round runs every variant once on a fresh database (planned beforehand, not timed), in
rotating order so that the machine's drift hits every variant alike; the report gives each
variant's median and its median ratio to the first variant within the same round.

    python scripts/stress/compare.py design        # group commit vs one commit per call, ...
    python scripts/stress/compare.py batch         # max_batch
    python scripts/stress/compare.py agents        # agents per process
    python scripts/stress/compare.py durability    # off / normal / full
    python scripts/stress/compare.py lease         # lease length, with 20 ms handlers
    python scripts/stress/compare.py switch        # the interpreter's GIL switch interval

Options: --tasks N (per run), --rounds R, --json FILE. Every run's invariants are checked.
"""

from __future__ import annotations

import sys
from statistics import median
from typing import Any

from ..harness.environment import environment
from ..harness.store import scratch_url
from ..kit.exits import Exit
from ..kit.options import Parser, integer, output_file
from ..workloads.demo import drain_demo
from .common import StressFailure, emit

Variant = dict[str, Any]

KNOBS: dict[str, tuple[int, dict[str, Variant]]] = {
    # knob: (agents, {label: settings}); settings hold Fleet options plus the script's own
    # "durability", "work" (handler seconds) and "switch" (sys.setswitchinterval); "faults"
    # accepts subtasks claimed again after a lease expired (still completed exactly once).
    "design": (
        1000,
        {
            "group commit, db thread": {"db_thread": True},
            "one commit per call, db thread": {"group_commit": False},
            "group commit, on the loop": {"db_thread": False},
        },
    ),
    "batch": (1000, {f"max_batch={b}": {"max_batch": b} for b in (512, 1, 8, 64, 256, 2048)}),
    "agents": (0, {f"{n} agents": {"agents": n} for n in (1000, 1, 10, 50, 200, 2000)}),
    "durability": (
        1000,
        {
            "normal, group": {"durability": "normal"},
            "off, group": {"durability": "off"},
            "full, group": {"durability": "full"},
            "normal, per call": {"durability": "normal", "group_commit": False},
            "full, per call": {"durability": "full", "group_commit": False},
        },
    ),
    "lease": (
        1000,
        {
            f"lease {s:g} s": {"lease_seconds": s, "work": 0.02, "faults": True}
            for s in (60.0, 0.3, 1.0, 5.0)
        },
    ),
    "switch": (1000, {f"switch {s * 1e3:g} ms": {"switch": s} for s in (0.005, 0.0005, 0.05)}),
}


def run_variant(settings: Variant, agents: int, tasks: int) -> dict[str, Any]:
    settings = dict(settings)
    agents = settings.pop("agents", agents)
    durability = settings.pop("durability", "normal")
    work = settings.pop("work", 0.0)
    switch = settings.pop("switch", None)
    before = sys.getswitchinterval()
    if switch is not None:
        sys.setswitchinterval(switch)
    try:
        with scratch_url("stress", prefix="taskorch-stress-", durability=durability) as url:
            report, check = drain_demo(
                url, tasks=tasks, agents=agents, work_seconds=work, **settings
            )
    finally:
        sys.setswitchinterval(before)
    if not check.ok:
        raise StressFailure(f"invariants broken: {check}")
    d = report.as_dict()
    return {
        "loops_per_s": d["loops_per_s"],
        "claim_p50_ms": d["claim_latency_ms"]["p50"],
        "claim_p99_ms": d["claim_latency_ms"]["p99"],
        "lag_p99_ms": d["loop_lag_ms"]["p99"],
        "calls_per_txn": d["calls_per_transaction"],
        "lost_leases": d["lost"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("knob", choices=sorted(KNOBS))
    parser.add_argument("--tasks", type=integer(1), default=20_000)
    parser.add_argument("--rounds", type=integer(1), default=3)
    parser.add_argument("--json", type=output_file, help="also write the result to this file")
    args = parser.parse_args(argv)
    agents, variants = KNOBS[args.knob]
    labels = list(variants)
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
    try:
        for r in range(args.rounds):
            order = labels[r % len(labels) :] + labels[: r % len(labels)]
            for label in order:
                runs[label].append(run_variant(variants[label], agents, args.tasks))
                print(f"round {r + 1} {label}: {runs[label][-1]}", file=sys.stderr)
    except StressFailure as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return Exit.FAILED
    base = labels[0]
    summary = {}
    for label in labels:
        ratios = [
            run["loops_per_s"] / b["loops_per_s"]
            for run, b in zip(runs[label], runs[base], strict=True)
        ]
        summary[label] = {
            key: round(median([run[key] for run in runs[label]]), 2) for key in runs[label][0]
        } | {f"throughput_vs_{base}": round(median(ratios), 2)}
    emit(
        {
            "knob": args.knob,
            "agents": agents,
            "tasks": args.tasks,
            "rounds": args.rounds,
            "machine": environment(),
            "medians": summary,
        },
        args.json,
    )
    return Exit.OK
