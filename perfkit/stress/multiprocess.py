"""Several processes running agents on one SQLite file, from a cold start; and a locked file.

    python scripts/stress/multiprocess.py                       # 4 processes x 250 agents
    python scripts/stress/multiprocess.py --processes 2 --agents 50 --tasks 2000

Cold start: every process opens the same, not yet existing, database at the same moment
(schema creation races), plans its share of the subtasks, waits for the others, then runs a
fleet until the whole store is drained. Each process reports its ledger; the parent checks the
invariants over the union (every subtask completed exactly once, claimed once, handled once).

Locked: another connection holds the write lock; a process running a fleet with
``busy_timeout`` of ``--busy-timeout`` seconds must stop with DatabaseLockedError in about that
time, not hang.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import taskorch
from taskorch.agents import Fleet

from ..harness.environment import environment
from ..harness.store import fresh_path, fresh_url, temporary_directory
from ..kit.exits import Exit
from ..kit.options import Parser, integer, number, output_file
from ..workloads.demo import DemoHandler, check_invariants, plan_demo
from .common import emit


def worker(url: str, agents: int, tasks: int, barrier: Any, out: str) -> None:
    with taskorch.open(url) as orch:
        plans = plan_demo(orch, tasks)
        barrier.wait()
        ledger: Counter[int] = Counter()
        handler = DemoHandler()
        report = asyncio.run(Fleet(orch, handler, agents=agents, ledger=ledger).run())
    result = {
        "plans": [p.parent_id for p in plans],
        "ledger": dict(ledger),
        "handled": dict(handler.handled),
        "report": report.as_dict(),
    }
    Path(out).write_text(json.dumps(result))


def cold_start(folder: Path, processes: int, agents: int, tasks: int) -> dict[str, Any]:
    url = fresh_url(folder, "shared")
    ctx = mp.get_context("spawn")
    # A worker that dies before the barrier breaks it for the others instead of hanging them.
    barrier = ctx.Barrier(processes, timeout=60)
    outs = [folder / f"p{i}.json" for i in range(processes)]
    procs = [
        ctx.Process(target=worker, args=(url, agents, tasks // processes, barrier, str(out)))
        for out in outs
    ]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
    wall = time.perf_counter() - t0
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
    codes = [p.exitcode for p in procs]
    if any(code != 0 for code in codes):
        return {"exit_codes": codes, "ok": False}
    parts = [json.loads(out.read_text()) for out in outs]
    ledger: Counter[int] = Counter()
    handled: Counter[int] = Counter()
    for part in parts:
        ledger.update({int(k): v for k, v in part["ledger"].items()})
        handled.update({int(k): v for k, v in part["handled"].items()})
    with taskorch.open(url) as orch:
        plans = [orch.get(pid) for part in parts for pid in part["plans"]]
        check = check_invariants(
            orch, [taskorch.Plan(p.id, (), ()) for p in plans], ledger, handled
        )
    return {
        "processes": processes,
        "agents_per_process": agents,
        "tasks": tasks,
        "wall_s": round(wall, 3),
        "loops_per_s_total": round(sum(ledger.values()) / wall, 1),
        "completed_per_process": [sum(p["ledger"].values()) for p in parts],
        "claim_p99_ms_per_process": [
            round(p["report"]["claim_latency_ms"]["p99"], 1) for p in parts
        ],
        "invariants": str(check),
        "ok": check.ok,
    }


def locked(folder: Path, busy_timeout: float) -> dict[str, Any]:
    path = fresh_path(folder, "locked")
    with taskorch.open(f"sqlite:///{path}") as orch:
        plan_demo(orch, 10)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    error = ""
    t0 = time.perf_counter()
    try:
        with taskorch.open(f"sqlite:///{path}", busy_timeout=busy_timeout) as orch:
            asyncio.run(Fleet(orch, DemoHandler(), agents=10).run())
    except taskorch.DatabaseLockedError as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    waited = time.perf_counter() - t0
    return {
        "busy_timeout_s": busy_timeout,
        "stopped_after_s": round(waited, 3),
        "error": error,
        "ok": bool(error) and waited < busy_timeout * 3 + 1,
    }


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=integer(1), default=4)
    parser.add_argument("--agents", type=integer(1), default=250, help="agents per process")
    parser.add_argument("--tasks", type=integer(1), default=40_000, help="in all")
    parser.add_argument("--busy-timeout", type=number(0, above=True), default=1.0)
    parser.add_argument("--json", type=output_file, help="also write the result to this file")
    args = parser.parse_args(argv)
    with temporary_directory("taskorch-mp-") as tmp:
        result = {
            "machine": environment(),
            "cold_start": cold_start(tmp, args.processes, args.agents, args.tasks),
            "locked": locked(tmp, args.busy_timeout),
        }
    emit(result, args.json)
    return Exit.OK if result["cold_start"]["ok"] and result["locked"]["ok"] else Exit.FAILED
