#!/usr/bin/env python3
"""Stress test "connection pool exhaustion": more threads than pooled connections.

Many threads share one orchestrator on PostgreSQL whose pool has far fewer connections than there
are threads, and some threads hold their connection for a while (a batch that sleeps), so that the
others run out of connections. What must hold, checked at the end:

- a caller that cannot get a connection waits about ``pool_timeout`` and then gets
  ``PoolTimeoutError`` (retryable, its message says which option to raise), never a hang;
- no other error; no deadlock (every thread finishes);
- nothing lost, nothing done twice: every task completed exactly once, by the agent that claimed
  it, and claimed once;
- the pool recovers: afterwards, as many threads as connections work with no timeout at all.

    python scripts/stress/pool_exhaustion.py                 # starts a throw-away server
    python scripts/stress/pool_exhaustion.py --url postgresql://user@host/db --threads 64

Exit status 0 when every invariant holds, 1 otherwise. ``--json`` prints the figures as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import taskorch

from ..harness.store import temporary_directory
from ..kit.exits import Exit
from ..kit.options import Parser, integer, number
from ..workloads.plans import independent

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Phase:
    """What the threads of one phase did."""

    threads: int
    seconds: float = 0.0
    completed: int = 0
    timeouts: int = 0
    timeout_wait_max: float = 0.0  # longest time a caller waited before its PoolTimeoutError
    errors: list[str] = field(default_factory=list)
    hung_threads: int = 0


@dataclass
class Result:
    url: str
    pool_size: int
    pool_timeout: float
    tasks: int
    exhaustion: Phase
    recovery: Phase
    timeout_message: str = ""
    double_completions: int = 0
    claimed_more_than_once: int = 0
    unfinished: int = 0
    invariants_hold: bool = False


def run_phase(
    orch: taskorch.Orchestrator,
    threads: int,
    hold: float,
    ledger: Counter[int],
    messages: list[str],
) -> Phase:
    """``threads`` agents drain whatever is ready; every third claim holds its connection in a
    batch for ``hold`` seconds. A PoolTimeoutError is counted and the call retried."""
    phase = Phase(threads)
    lock = threading.Lock()

    def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        while True:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            except taskorch.PoolTimeoutError as exc:
                waited = time.perf_counter() - started
                with lock:
                    phase.timeouts += 1
                    phase.timeout_wait_max = max(phase.timeout_wait_max, waited)
                    if not messages:
                        messages.append(str(exc))
                time.sleep(0.001)

    def held(name: str, n: int) -> taskorch.Task | None:
        with orch.batch():  # holds one connection until the batch ends
            task = orch.claim(name)
            if task is not None:
                time.sleep(hold)
                orch.complete(task.id, name, result=n)
        return task

    def agent(n: int) -> None:
        name = f"agent-{n}"
        try:
            for i in range(1_000_000):
                if i % 3 == 0:
                    task = call(held, name, n)
                else:
                    task = call(orch.claim, name)
                    if task is not None:
                        call(orch.complete, task.id, name, result=n)
                if task is None:
                    return
                with lock:
                    ledger[task.id] += 1
                    phase.completed += 1
        except Exception as exc:  # every other error breaks an invariant; keep it for the report
            with lock:
                phase.errors.append(f"{name}: {type(exc).__name__}: {exc}")

    started = time.perf_counter()
    workers = [threading.Thread(target=agent, args=(n,), daemon=True) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    phase.hung_threads = sum(w.is_alive() for w in workers)
    phase.seconds = round(time.perf_counter() - started, 3)
    phase.timeout_wait_max = round(phase.timeout_wait_max, 3)
    return phase


def run(
    url: str, threads: int, pool_size: int, pool_timeout: float, tasks: int, hold: float
) -> Result:
    """Plan ``tasks`` independent subtasks and drain them twice over: under exhaustion, then with
    as many threads as connections. ``url`` should name a schema nobody else uses."""
    with taskorch.open(url, pool_size=pool_size, pool_timeout=pool_timeout) as orch:
        spec = independent(tasks)
        first = orch.plan("exhaustion", spec)
        ledger: Counter[int] = Counter()
        messages: list[str] = []
        exhaustion = run_phase(orch, threads, hold, ledger, messages)
        second = orch.plan("recovery", spec)
        recovery = run_phase(orch, pool_size, hold, ledger, messages)
        ids = [*first.task_ids, *second.task_ids]
        finished = orch.store.get_many(ids)
        result = Result(
            url.split("@")[-1], pool_size, pool_timeout, len(ids), exhaustion, recovery,
            messages[0] if messages else "",
        )  # fmt: skip
        result.double_completions = sum(1 for n in ledger.values() if n > 1)
        result.claimed_more_than_once = sum(1 for t in finished if t.attempts != 1)
        result.unfinished = sum(
            1 for t in finished if t.status is not taskorch.TaskStatus.COMPLETED
        )
        result.unfinished += len(ids) - len(finished) + len(set(ids) - set(ledger))
    result.invariants_hold = (
        exhaustion.timeouts > 0
        and "pool_size" in result.timeout_message
        and not exhaustion.errors
        and not recovery.errors
        and exhaustion.hung_threads == recovery.hung_threads == 0
        and recovery.timeouts == 0
        and result.double_completions == result.claimed_more_than_once == result.unfinished == 0
    )
    return result


class CannotRun(Exception):
    """No server to measure on: the message says what to do."""


@contextmanager
def server(url: str | None) -> Iterator[str]:
    """The given server, or a throw-away one started with scripts/pg-server."""
    if url:
        yield url
        return
    with temporary_directory("taskorch-pg-") as parent:
        folder = str(parent / "server")
        script = str(ROOT / "scripts" / "pg-server")
        os.chmod(parent, 0o755)  # the server may run as another (unprivileged) user
        started = subprocess.run([script, "start", folder], capture_output=True, text=True)
        if started.returncode != 0:
            why = started.stderr.strip().removeprefix("pg-server: ") or "it failed"
            raise CannotRun(f"no PostgreSQL server to measure on: {why}; or name one with --url")
        try:
            yield started.stdout.strip()
        finally:
            subprocess.run([script, "stop", folder], check=False, capture_output=True)


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """``url`` with a new schema, dropped afterwards; :class:`CannotRun` when the server cannot
    be reached or psycopg is missing."""
    try:
        import psycopg
    except ImportError as exc:
        raise CannotRun(
            f"psycopg is not installed ({exc}): pip install 'taskorch[postgres]'"
        ) from None
    try:
        psycopg.connect(url, autocommit=True, connect_timeout=10).close()
    except psycopg.Error as exc:
        raise CannotRun(f"cannot reach the server at --url: {' '.join(str(exc).split())}") from None
    schema = f"stress_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{url}{'&' if '?' in url else '?'}schema={schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.split("\n\n")[0])
    env = os.environ.get("TASKORCH_POSTGRES_URL") or os.environ.get("TASKORCH_TEST_POSTGRES_URL")
    parser.add_argument("--url", default=env, help="server URL (default: start a throw-away one)")
    parser.add_argument("--threads", type=integer(1), default=32)
    parser.add_argument("--pool-size", type=integer(1), default=4)
    parser.add_argument("--pool-timeout", type=number(0, above=True), default=0.05, help="seconds")
    parser.add_argument("--tasks", type=integer(1), default=1000, help="per phase")
    parser.add_argument("--hold", type=number(0), default=0.02, help="seconds a batch holds")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        with server(args.url) as base, scratch_schema(base) as url:
            result = run(url, args.threads, args.pool_size, args.pool_timeout, args.tasks,
                         args.hold)  # fmt: skip
    except CannotRun as exc:
        print(f"pool-exhaustion: cannot run: {exc}", file=sys.stderr)
        return Exit.CANNOT_RUN
    if args.json:
        print(json.dumps(asdict(result), indent=2))
    else:
        for name in ("exhaustion", "recovery"):
            p: Phase = getattr(result, name)
            print(
                f"{name:>10}: {p.threads} threads on {result.pool_size} connections,"
                f" {p.completed} completed in {p.seconds}s, {p.timeouts} pool timeouts"
                f" (longest wait {p.timeout_wait_max}s, timeout {result.pool_timeout}s),"
                f" {len(p.errors)} other errors, {p.hung_threads} hung threads"
            )
        print(f"   message: {result.timeout_message}")
        print(
            f"invariants: {result.double_completions} double completions,"
            f" {result.claimed_more_than_once} tasks claimed twice, {result.unfinished} unfinished"
            f" -> {'OK' if result.invariants_hold else 'BROKEN'}"
        )
    return Exit.OK if result.invariants_hold else Exit.FAILED
