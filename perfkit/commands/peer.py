"""Run the same workloads on taskorch and on mcp-task-orchestrator 1.8.0, print the ratios.

    python scripts/compare_peer.py [--quick] [--venv DIR] [--json OUT]

The peer is installed from PyPI into its own virtual environment (default
``~/.cache/taskorch/peer-mcp-task-orchestrator-1.8.0``, reused on later runs) and driven
directly from Python, with no MCP server, its database and files in a temporary directory. Each
side runs in a fresh process of its own, so import time and RSS are measured cold. Median time
per call. The agents row counts loops per second of 50 asyncio agents; every loop plans a goal
of one subtask, reads a subtask's specialist context and completes that subtask, on both sides:

- taskorch: the agent runtime users deploy (``taskorch.agents.Fleet``, via
  ``perfkit.workloads.fleets.timed_fleet`` with ``goal_size=1``): an agent claims a ready subtask
  with its context (one call), its handler plans a new one-subtask goal, then it completes the
  subtask; every agent's calls go through the fleet's database worker, which commits the calls
  queued so far together (group commit). The invariants are checked after the run.
- the peer: 50 coroutines, each calling ``plan_task`` (one subtask), ``get_specialist_context``
  and ``complete_subtask`` on its own subtask, one ``TaskOrchestrator``.

The same file is the driver of both sides (``--driver taskorch|peer``), each run by
:func:`perfkit.harness.memory.run_measured`, which reads the driver's RSS from outside when it
says it is ready: the peer's driver needs only the standard library, the peer and the pure
modules of perfkit it imports (the timing loop, the plans).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..harness.memory import hold_for_measurement, run_measured
from ..harness.timing import atime_calls, summarize, time_calls

# Only modules that import nothing but the standard library: the peer's driver imports this
# module, and the taskorch driver times its own import of taskorch.
from ..kit.exits import Exit
from ..kit.numbers import amount
from ..kit.options import Parser, integer, number, output_file
from ..workloads.plans import subtasks

PEER = "mcp-task-orchestrator==1.8.0"
ROOT = Path(__file__).resolve().parents[2]
ROWS = [  # key, label, unit
    ("import_s", "import what it needs", "s"),
    ("rss_mb", "RSS after building the orchestrator", "MiB"),
    ("plan_1", "plan a goal with 1 subtask (durable)", "µs"),
    ("plan_10", "plan a goal with 10 subtasks", "µs"),
    ("context", "specialist context of a subtask", "µs"),
    ("complete", "complete a subtask", "µs"),
    ("get", "read one task by id (1,000 in store)", "µs"),
    ("status_100", "status with 100 parents", "µs"),
    ("status_1000", "status with 1,000 parents", "µs"),
    ("agents_50", "50 concurrent agents, loops/s (higher is better)", "loops/s"),
]


# Each row's taskorch figure: the shared workload and its parameters. A workload with a raw
# sqlite3 reference is also timed as that reference, with the same parameters ("raw_" + key).
TASKORCH_ROWS: dict[str, tuple[str, dict[str, Any]]] = {
    "plan_1": ("plan", {"n": 1}),
    "plan_10": ("plan", {"n": 10}),
    "context": ("context", {"cached": False}),
    "context_cached": ("context", {"cached": True}),
    "complete": ("complete", {}),
    "get": ("get", {"n": 1000}),
    "status_100": ("status_plans", {"parents": 100}),
    "status_1000": ("status_plans", {"parents": 1000}),
}


def _median_us(times: list[float]) -> float:
    return summarize(times).median * 1e6


# -- taskorch ----------------------------------------------------------------------------------


def drive_taskorch(work: Path, calls: int, seconds: float) -> dict[str, float]:
    started = time.perf_counter()
    import taskorch

    from ..harness.store import fresh_url
    from ..workloads import WORKLOADS
    from ..workloads.fleets import timed_fleet
    from ..workloads.references import references

    out: dict[str, float] = {"import_s": time.perf_counter() - started}
    with taskorch.open(fresh_url(work, "rss")):
        hold_for_measurement()

    def timed(name: str, params: dict[str, Any]) -> float:
        with WORKLOADS[name].session(work, **params) as step:
            return _median_us(time_calls(step, calls, warmup=min(10, calls)))

    raw = references()
    for key, (name, params) in TASKORCH_ROWS.items():
        out[key] = timed(name, params)
        if name in raw:
            out[f"raw_{key}"] = timed(raw[name], params)
    with taskorch.open(fresh_url(work, "agents")) as orch:
        agents = asyncio.run(timed_fleet(orch, 50, seconds, goal_size=1))
    if not agents.sound:
        raise SystemExit(f"taskorch agents: {agents.invariants}, errors {agents.errors}")
    out["agents_50"] = agents.report.throughput
    return out


# -- mcp-task-orchestrator -----------------------------------------------------------------------


def peer_subtasks(n: int, tag: str) -> str:
    """The peer's plan input, JSON text: the subtasks taskorch's ``plan`` workload plans, with
    ids given so that the dependencies form the same tree."""
    return json.dumps([
        {"task_id": s["key"], "title": s["title"], "description": s["description"],
         "specialist_type": s["specialist"], "estimated_effort": "1h",
         "dependencies": s["depends_on"]}
        for s in subtasks(n, fan_in=1, prefix=f"{tag}_")
    ])  # fmt: skip


async def drive_peer(work: Path, calls: int, seconds: float) -> dict[str, float]:
    # Its database location ignores the base directory: give the path, and run inside `work`
    # so nothing it writes relative to the working directory lands anywhere else.
    os.chdir(work)
    os.environ["MCP_TASK_ORCHESTRATOR_BASE_DIR"] = str(work)
    os.environ["MCP_TASK_ORCHESTRATOR_DB_PATH"] = str(work / "default.db")
    started = time.perf_counter()
    from mcp_task_orchestrator.orchestrator.core import TaskOrchestrator
    from mcp_task_orchestrator.orchestrator.specialists import SpecialistManager
    from mcp_task_orchestrator.orchestrator.state import StateManager

    out: dict[str, float] = {"import_s": time.perf_counter() - started}
    counter = iter(range(10**9))

    def build(name: str) -> Any:
        state = StateManager(db_path=str(work / f"{name}.db"), base_dir=str(work))
        return TaskOrchestrator(state, SpecialistManager(project_dir=str(work)), str(work))

    first = build("rss")
    hold_for_measurement()
    assert first.state is not None  # built, and alive while measured

    async def median_us(step: Any, n: int) -> float:
        return _median_us(await atime_calls(step, n, warmup=min(10, n)))

    async def plan(o: Any, n: int) -> list[str]:
        breakdown = await o.plan_task("goal", "simple", peer_subtasks(n, f"t{next(counter)}"))
        return [s.task_id for s in breakdown.subtasks]

    for n in (1, 10):
        o = build(f"plan{n}")
        inputs = [peer_subtasks(n, f"p{n}_{i}") for i in range(calls + 10)]

        async def plan_step(o: Any = o, inputs: list[str] = inputs) -> object:
            return await o.plan_task("goal", "simple", inputs.pop())

        out[f"plan_{n}"] = await median_us(plan_step, calls)
    o = build("context")
    [tid] = await plan(o, 1)
    out["context"] = await median_us(lambda: o.get_specialist_context(tid), calls)
    o = build("complete")
    todo = [t for _ in range(calls // 10 + 2) for t in await plan(o, 10)]
    out["complete"] = await median_us(
        lambda: o.complete_subtask(todo.pop(0), "done", [], "continue"), calls
    )
    o = build("get")
    ids = [t for _ in range(100) for t in await plan(o, 10)]
    out["get"] = await median_us(lambda: o.state.get_subtask(ids[500]), calls)
    for parents in (100, 1000):
        o = build(f"status{parents}")
        for _ in range(parents):
            await plan(o, 1)
        n = max(5, calls // (parents // 10))

        async def status_step(o: Any = o) -> object:
            return await o.get_status(True)

        out[f"status_{parents}"] = await median_us(status_step, n)
    out["agents_50"] = await peer_agents(build("agents"), 50, seconds, plan)
    return out


async def peer_agents(o: Any, count: int, seconds: float, plan: Any) -> float:
    deadline = time.perf_counter() + seconds
    done = [0]

    async def agent() -> None:
        while time.perf_counter() < deadline:
            [tid] = await plan(o, 1)
            await o.get_specialist_context(tid)
            await o.complete_subtask(tid, "done", [], "continue")
            done[0] += 1

    started = time.perf_counter()
    await asyncio.gather(*(agent() for _ in range(count)))
    return done[0] / (time.perf_counter() - started)


# -- the comparison ------------------------------------------------------------------------------


class DriverError(Exception):
    """One side's driver process failed, or the peer could not be installed; the message holds
    the end of its output, or what to do."""


def peer_python(venv: Path) -> Path:
    """The peer's interpreter, installing it into ``venv`` on first use; :class:`DriverError`
    saying what to do when that fails (no network, no package index)."""
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    marker = venv / ".installed"
    if not marker.exists() or marker.read_text() != PEER:
        print(f"installing {PEER} into {venv} ...", file=sys.stderr, flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", PEER], check=True)
            marker.write_text(PEER)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise DriverError(
                f"cannot install {PEER} into {venv} ({exc}); install it there by hand"
                f" ({python} -m pip install {PEER}, then write {PEER!r} into {marker}), or name"
                " a virtual environment that has it with --venv"
            ) from None
    return python


def run_driver(python: Path, side: str, calls: int, seconds: float) -> dict[str, float]:
    """Run one side's driver in a fresh process of ``python``; its figures, with its RSS."""
    from ..harness.store import temporary_directory

    with temporary_directory(f"compare-{side}-") as work:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}  # perfkit; the peer side imports no more
        run = run_measured(
            [str(python), "-m", __name__, "--driver", side, "--work", str(work),
             "--calls", str(calls), "--seconds", str(seconds)],
            env=env, cwd=work,
        )  # fmt: skip
    if run.returncode != 0 or run.memory is None:
        raise DriverError(f"the {side} driver failed:\n{run.stderr[-3000:]}")
    data: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return data | {"rss_mb": run.memory.rss_mib}


def table(ours: dict[str, float], peer: dict[str, float]) -> str:
    lines = [
        "| operation | taskorch | mcp-task-orchestrator 1.8.0 | peer / taskorch | raw sqlite3 |",
        "|---|---|---|---|---|",
    ]
    for key, label, unit in ROWS:
        a, b = ours.get(key), peer.get(key)
        ratio = "—"
        if a and b:
            # for throughput, higher is better: show how many times more taskorch does
            r = a / b if key == "agents_50" else b / a
            ratio = f"{r:,.1f}x"
        lines.append(f"| {label} | {amount(a, unit)} | {amount(b, unit)} | {ratio} |"
                     f" {amount(ours.get(f'raw_{key}'), unit)} |")  # fmt: skip
    if "context_cached" in ours:
        lines.append(f"| specialist context, cached (taskorch only) |"
                     f" {amount(ours['context_cached'], 'µs')} | — | — | — |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, 2 s of agents")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "taskorch"
    parser.add_argument("--venv", type=Path, default=cache / "peer-mcp-task-orchestrator-1.8.0",
                        help=f"the virtual environment holding {PEER}, made and filled from"
                        " PyPI on first use")  # fmt: skip
    parser.add_argument("--json", type=output_file, help="also write both sides' figures here")
    parser.add_argument("--driver", choices=["taskorch", "peer"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=integer(1), default=200, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=number(0, above=True), default=10.0,
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args(argv)
    if args.driver == "taskorch":
        print(json.dumps(drive_taskorch(args.work, args.calls, args.seconds)))
        return 0
    if args.driver == "peer":
        print(json.dumps(asyncio.run(drive_peer(args.work, args.calls, args.seconds))))
        return 0
    calls, seconds = (50, 2.0) if args.quick else (args.calls, args.seconds)
    try:
        peer_py = peer_python(args.venv)
        print(f"taskorch: {calls} calls per operation ...", file=sys.stderr, flush=True)
        ours = run_driver(Path(sys.executable), "taskorch", calls, seconds)
        print(f"{PEER}: the same ...", file=sys.stderr, flush=True)
        peer = run_driver(peer_py, "peer", calls, seconds)
    except DriverError as exc:
        print(f"compare_peer: {exc}", file=sys.stderr)
        return Exit.CANNOT_RUN
    print(table(ours, peer))
    if args.json:
        args.json.write_text(json.dumps({"taskorch": ours, "peer": peer}, indent=1))
    return 0


if __name__ == "__main__":  # the drivers: python -m perfkit.commands.peer --driver SIDE ...
    sys.exit(main())
