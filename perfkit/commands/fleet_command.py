"""``taskorch fleet``: run demo agents against a generated plan (or a plan file).

Prints progress every second, then throughput, latencies and the invariant check.

The fleet works only on what it planned itself: its subtasks (generated, or those of --plan
FILE) are planned for a specialist of the run's own ("perfkit-demo-" and a random suffix), and
its agents claim only that specialist, so the other work in the database (a concurrent fleet's
included) is never claimed, completed or delayed. When the run ends
early (--duration, Ctrl-C, SIGTERM, an error), its unfinished subtasks are cancelled: nothing
of it stays claimed or ready.

Exit status as ``python -m perfkit fleet``: 0 ok, 1 a broken invariant, 4 a taskorch error,
64 bad usage (an option out of range; a plan file missing, not UTF-8, not JSON or not
{"goal": ..., "subtasks": [...]}), 130 interrupted. As ``taskorch fleet`` the taskorch
command's table applies: 1 a taskorch error or a broken invariant, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from taskorch import Orchestrator, Plan, TaskStatus, inputs
from taskorch.agents import Fleet, FleetCounters, WorkerClosedError
from taskorch.cli import open_db
from taskorch.errors import InvalidArgumentError

from ..kit.command import PLANS_CANCELLED, guarded, run_async
from ..kit.exits import Exit
from ..kit.options import Parser, UsageError, integer, number
from ..workloads.demo import DemoHandler, check_invariants, plan_demo

__all__ = ["DEMO_SPECIALIST", "add_command", "main", "read_plan_file", "run"]

#: The role of every subtask a demo fleet plans, and the only one it claims.
DEMO_SPECIALIST = "perfkit-demo"
WEEK = 7 * 86_400.0
POLL_SECONDS = 0.05  # how often the run looks whether its plans have finished
#: The statuses of the taskorch command's table, where they differ from perfkit's.
TASKORCH_STATUSES = {Exit.CANNOT_RUN: 1, Exit.USAGE: 2}
SUMMARY = "run N demo agents against a plan; print throughput and invariant checks"


def add_command(sub: Any, db_help: str) -> None:
    """Add ``fleet`` to the ``taskorch`` command's subparsers."""
    parser = sub.add_parser("fleet", help=SUMMARY, description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_options(parser, db_help)
    parser.set_defaults(func=guarded(cmd_fleet, TASKORCH_STATUSES, PLANS_CANCELLED))


def main(argv: list[str]) -> int:
    """``python -m perfkit fleet``."""
    parser = Parser(description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_options(parser, "database URL ($TASKORCH_URL, else sqlite:///.taskorch/taskorch.db)")
    return guarded(cmd_fleet, interrupted=PLANS_CANCELLED)(parser.parse_args(argv))


def add_options(parser: argparse.ArgumentParser, db_help: str) -> None:
    """The options of ``fleet``."""
    parser.add_argument("--db", help=db_help)
    parser.add_argument("--agents", type=integer(1, 100_000), default=100,
                        help="agents, 1 to 100,000 (default 100)")  # fmt: skip
    parser.add_argument("--tasks", type=integer(1, 10_000_000), default=10_000,
                        help="demo subtasks to plan, 1 to 10,000,000 (default 10,000)")  # fmt: skip
    parser.add_argument("--fan-in", type=integer(0, 100), default=0,
                        help="dependencies per demo subtask, 0 to 100 (default 0)")  # fmt: skip
    parser.add_argument("--plan", metavar="FILE", help="plan this JSON file instead")
    parser.add_argument("--work-ms", type=number(0, 3_600_000), default=0.0,
                        help="simulated work per subtask, in ms (default 0)")  # fmt: skip
    parser.add_argument("--duration", type=number(0, WEEK, above=True),
                        help="stop after this many seconds")  # fmt: skip
    parser.add_argument("--lease", type=number(0, WEEK, above=True), default=60.0,
                        help="lease seconds (default 60)")  # fmt: skip
    parser.add_argument("--max-batch", type=integer(1, 1_000_000), default=512,
                        help="calls per transaction (default 512)")  # fmt: skip
    parser.add_argument(
        "--per-call", action="store_true", help="one commit per call (no group commit)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_fleet(args: argparse.Namespace) -> int:
    plan_file = read_plan_file(Path(args.plan)) if args.plan else None  # before opening the db
    with open_db(args) as orch:
        return run(orch, args, plan_file)


def read_plan_file(path: Path) -> dict[str, Any]:
    """A plan file's ``{"goal": ..., "subtasks": [...], "context": ...}``; :class:`UsageError`
    naming the file when it cannot be read or has another shape."""
    try:
        spec = inputs.load(path, json.loads)
    except OSError as exc:
        raise UsageError(f"cannot read plan file {path}: {exc.strerror or exc}") from exc
    except InvalidArgumentError as exc:  # not a regular file, too large, not JSON, too deep
        raise UsageError(f"plan file {exc}") from exc
    subtasks = spec.get("subtasks") if isinstance(spec, dict) else None
    if (
        not isinstance(spec, dict)
        or not isinstance(spec.get("goal"), str)
        or not isinstance(subtasks, list)
        or not all(isinstance(s, dict) for s in subtasks)
    ):
        raise UsageError(
            f'plan file {path} must hold a JSON object {{"goal": "...", "subtasks": [{{...}},'
            ' ...], "context": {...}}'
        )
    return spec


def run_specialist() -> str:
    """This run's own role: two fleets running at once on one database never take each other's
    subtasks (their invariant checks count only their own)."""
    return f"{DEMO_SPECIALIST}-{uuid.uuid4().hex[:12]}"


def _plan(orch: Orchestrator, args: argparse.Namespace, spec: Mapping[str, Any] | None,
          into: list[Plan], specialist: str) -> None:  # fmt: skip
    if spec is None:
        plan_demo(orch, args.tasks, fan_in=args.fan_in, specialist=specialist, into=into)
        return
    # The file's roles give way to the fleet's own, which is all that it claims.
    subtasks = [{**s, "specialist": specialist} for s in spec["subtasks"]]
    into.append(orch.plan(spec["goal"], subtasks, context=spec.get("context")))


def run(
    orch: Orchestrator, args: argparse.Namespace, plan_file: Mapping[str, Any] | None = None
) -> int:
    """Plan, run the fleet with progress output, report; 0 when the invariants hold. Whatever
    of the run's plans is unfinished at the end is cancelled."""
    plans: list[Plan] = []
    specialist = run_specialist()
    try:
        _plan(orch, args, plan_file, plans, specialist)
        return _run(orch, args, plans, specialist)
    finally:
        cancelled = _cancel_unfinished(orch, plans)
        if cancelled:
            print(f"cancelled {cancelled} unfinished subtask(s) of this run", file=sys.stderr)


def _run(
    orch: Orchestrator, args: argparse.Namespace, plans: Sequence[Plan], specialist: str
) -> int:
    planned = sum(len(p.task_ids) for p in plans)
    # With --json the standard output holds the JSON document alone; what goes on meanwhile
    # is told on the standard error.
    chatter = sys.stderr if args.json else sys.stdout
    print(f"planned {planned} subtasks in {orch.store.url}; {args.agents} agents", file=chatter,
          flush=True)  # fmt: skip

    def progress(counters: FleetCounters, elapsed: float) -> None:
        rate = counters.completed / elapsed if elapsed else 0.0
        print(
            f"  {elapsed:6.1f} s  completed {counters.completed:>8}  ({rate:,.0f}/s)"
            f"  failed {counters.failed}  lost {counters.lost}",
            file=chatter,
            flush=True,
        )

    ledger: Counter[int] = Counter()
    handler = DemoHandler(args.work_ms / 1e3)
    fleet = Fleet(
        orch,
        handler,
        agents=args.agents,
        specialist=specialist,
        lease_seconds=args.lease,
        group_commit=not args.per_call,
        max_batch=args.max_batch,
        ledger=ledger,
    )
    report, drained = run_async(_work(fleet, plans, args.duration, progress))
    # A leftover of an interrupted earlier run has the same role; check this run's plans only.
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
            print(f"also completed {others} subtask(s) left by an interrupted earlier run")
        print(check)
    if not check.ok:
        print("taskorch: an invariant is broken (see above)", file=sys.stderr)
        return Exit.FAILED
    return Exit.OK


async def _work(
    fleet: Fleet, plans: Sequence[Plan], duration: float | None, progress: Any
) -> tuple[Any, bool]:
    """Run ``fleet`` until ``plans`` have finished (or ``duration`` passed); returns its report
    and whether the plans finished. The fleet's own drain rule looks at the whole store, which
    may hold other work that it must leave alone, so the run watches its own plans instead."""
    run = asyncio.create_task(fleet.run(duration, drain=False, on_progress=progress))
    parents = [p.parent_id for p in plans]
    finished = False
    try:
        while not run.done():
            await asyncio.wait({run}, timeout=POLL_SECONDS)
            if run.done():
                break
            try:
                finished = await fleet.worker.submit(_all_finished, fleet.orch, parents)
            except WorkerClosedError:  # the fleet is ending on its own
                continue
            if finished:
                fleet.stop()
    finally:
        if not run.done():
            run.cancel()
        report = await run  # re-raises what stopped the fleet (a storage error, a cancel)
    return report, finished


def _all_finished(orch: Orchestrator, parents: Sequence[int]) -> bool:
    return all(orch.get(p).status is not TaskStatus.ACTIVE for p in parents)


def _cancel_unfinished(orch: Orchestrator, plans: Sequence[Plan]) -> int:
    cancelled = 0
    for plan in plans:
        if orch.get(plan.parent_id).status is TaskStatus.ACTIVE:
            cancelled += orch.cancel(plan.parent_id)
    return cancelled
