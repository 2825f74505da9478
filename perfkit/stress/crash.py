"""Crash safety: an agent process is killed (SIGKILL) in the middle of its tasks.

    python scripts/stress/crash.py                  # 2,000 subtasks, 50 agents, 1 s leases
    python scripts/stress/crash.py --tasks 200 --kill-after 50

A child process works the plan with slow handlers and appends the id of every completion it
saw commit to a log file. Once it has completed ``--kill-after`` subtasks the parent kills it
with SIGKILL while it holds claims, then drains the plan with its own fleet: the killed
process's leases expire and its subtasks are claimed again. Checks: every subtask completed;
none completed twice (child log + parent ledger); each subtask the child held at the kill was
claimed again and completed by the parent; ``PRAGMA integrity_check`` is ``ok``.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import taskorch
from taskorch import Task
from taskorch.agents import Fleet

from ..harness.environment import environment
from ..harness.store import fresh_path, new_directory
from ..kit.exits import Exit
from ..kit.options import Parser, integer, number, output_file, output_folder
from ..workloads.demo import DemoHandler, plan_demo
from .common import emit


class AppendLedger(Counter[int]):
    """A ledger that also appends each completed id to a file as it is counted, so that what
    a killed process saw commit is still known after the kill."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def __setitem__(self, key: int, value: int) -> None:
        super().__setitem__(key, value)
        os.write(self._fd, f"{key}\n".encode())


class JitteredHandler(DemoHandler):
    """Work of 0.5 to 1.5 times ``work_seconds``: agents that finish in lockstep would hold no
    claim at all between one batch of completions and the next batch of claims."""

    async def __call__(self, task: Task, context: dict[str, Any]) -> dict[str, Any]:
        self.handled[task.id] += 1
        await asyncio.sleep(self.work_seconds * random.uniform(0.5, 1.5))
        return {"by": task.agent}


def child(url: str, log: Path, agents: int, lease: float, work: float) -> None:
    with taskorch.open(url, lease_seconds=lease) as orch:
        fleet = Fleet(orch, JitteredHandler(work), agents=agents, ledger=AppendLedger(log))
        fleet.name = "doomed"
        asyncio.run(fleet.run())


def completed_in(log: Path) -> int:
    return len(log.read_text().split()) if log.exists() else 0


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--child"]:
        url, ledger_file, agents, lease, work = args_in[1:]
        child(url, Path(ledger_file), int(agents), float(lease), float(work))
        return Exit.OK
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=integer(1), default=2000)
    parser.add_argument("--agents", type=integer(1), default=50)
    parser.add_argument("--lease", type=number(0, above=True), default=1.0)
    parser.add_argument("--work-ms", type=number(0), default=20.0)
    parser.add_argument("--kill-after", type=integer(1), default=500,
                        help="completions before the kill")  # fmt: skip
    parser.add_argument(
        "--dir", type=output_folder, help="working folder (default: a new temporary one)"
    )
    parser.add_argument("--json", type=output_file, help="also write the result to this file")
    args = parser.parse_args(args_in)
    # kept after the run, for a look at the database and the child's log
    folder = Path(args.dir) if args.dir else new_directory(tempfile.gettempdir(), "taskorch-crash-")
    db, log = fresh_path(folder, "crash"), folder / "child.log"
    log.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    with taskorch.open(url) as orch:
        plans = plan_demo(orch, args.tasks, fan_in=1, width=max(1, args.tasks // 10))
    cmd = [sys.executable, "-m", __name__, "--child", url, str(log), str(args.agents)]
    proc = subprocess.Popen([*cmd, str(args.lease), str(args.work_ms / 1e3)])
    deadline = time.monotonic() + 120
    with taskorch.open(url) as watcher:
        # Kill once enough work is done and the child holds claims (a read of another process).
        while completed_in(log) < args.kill_after or not watcher.status().subtasks.get("claimed"):
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                print(
                    "crash: the child made no progress, or ended before the kill", file=sys.stderr
                )
                return Exit.FAILED
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = time.perf_counter()
    result: dict[str, Any] = {"machine": environment(), "tasks": args.tasks, "lease_s": args.lease}
    with taskorch.open(url, lease_seconds=args.lease) as orch:
        held = {t.id for t in orch.tasks("claimed", limit=args.tasks + 1)}
        result["child_completed"] = completed_in(log)
        result["held_at_kill"] = len(held)
        ledger: Counter[int] = Counter()
        report = asyncio.run(Fleet(orch, DemoHandler(), agents=args.agents, ledger=ledger).run())
        result["drained_after_kill_s"] = round(time.perf_counter() - killed_at, 3)
        tasks = [t for p in plans for t in orch.subtasks(p.parent_id)]
    seen = ledger + Counter(int(x) for x in log.read_text().split())
    problems = []
    if any(t.status != "completed" for t in tasks):
        problems.append("not every subtask completed")
    if any(n > 1 for n in seen.values()):
        problems.append("a subtask was completed twice")
    by_id = {t.id: t for t in tasks}
    # A completion the child committed but had not yet logged when it died: the database
    # names the child as the completer; anything else must be in a ledger.
    unlogged = [t for t in tasks if t.id not in seen]
    if any(not (t.agent or "").startswith("doomed-") for t in unlogged):
        problems.append("a completion is missing from both ledgers")
    for tid in held:
        t = by_id[tid]
        if t.attempts < 2 or (t.agent or "").startswith("doomed-"):
            problems.append(f"subtask {tid}, held at the kill, was not reclaimed and completed")
    check = sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        problems.append(f"integrity_check: {check}")
    result |= {
        "committed_unlogged": len(unlogged),
        "parent_completed": report.counters.completed,
        "reclaimed": sum(1 for t in tasks if t.attempts > 1),
        "integrity_check": check,
        "problems": problems,
        "ok": not problems,
    }
    emit(result, args.json)
    return Exit.FAILED if problems else Exit.OK


if __name__ == "__main__":  # the killed child: python -m perfkit.stress.crash --child ...
    sys.exit(main())
