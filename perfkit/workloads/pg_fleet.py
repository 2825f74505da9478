"""A fleet of agents in several processes on one PostgreSQL server, for the fleet workloads.

Each worker is a process of its own with one agent: told ``go`` on its standard input, it claims
and completes until nothing is ready, then writes the ids it completed as one JSON line. The
parent plans the work beforehand, so an empty claim means the work is drained. Workers are
started once per session and serve every round; a worker whose standard input closes (the
parent ended, however it ended) exits, so no worker outlives the benchmark process.

``taskorch`` workers use the engine's public API; ``raw`` workers the bare statements of
:mod:`perfkit.workloads.pg_raw`. The parent checks the invariant of every round: each planned task
completed exactly once, none twice, none lost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["Fleet", "FleetRound", "serve"]

ROOT = Path(__file__).resolve().parents[2]
STARTUP = 60.0  # seconds a worker may take to import and connect

# The engine comes from wherever the parent's came from (the same environment and path), this
# toolkit from the working tree it belongs to.
_BOOT = """
import sys
import taskorch
sys.path.insert(0, sys.argv[1])
from perfkit.workloads.pg_fleet import serve
serve(*sys.argv[2:])
"""


@dataclass(frozen=True, slots=True)
class FleetRound:
    """One round: ``tasks`` completed by ``processes`` workers in ``seconds``."""

    tasks: int
    processes: int
    seconds: float

    @property
    def loops_per_second(self) -> float:
        return self.tasks / self.seconds if self.seconds > 0 else 0.0


class Fleet:
    """``processes`` workers of ``kind`` (``taskorch`` or ``raw``) on ``url`` (a taskorch URL with
    its schema, or a server URL and ``schema`` for raw workers)."""

    def __init__(self, kind: str, processes: int, url: str, schema: str = "") -> None:
        if kind not in ("taskorch", "raw"):
            raise ValueError(f"kind must be 'taskorch' or 'raw', not {kind!r}")
        if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
            raise ValueError(f"processes must be an integer of at least 1, got {processes!r}")
        self.workers: list[subprocess.Popen[str]] = []
        try:
            for i in range(processes):
                argv = [sys.executable, "-c", _BOOT, str(ROOT), kind, url, schema, f"agent-{i}"]
                pipe = subprocess.PIPE
                worker = subprocess.Popen(argv, stdin=pipe, stdout=pipe, text=True, bufsize=1)
                self.workers.append(worker)
            for worker in self.workers:
                self._read(worker)  # "ready", or the reason it could not start
        except BaseException:
            self.close()
            raise

    def round(self, planned: Sequence[int]) -> FleetRound:
        """Drain the ``planned`` task ids (planned beforehand, all ready) with every worker;
        :class:`AssertionError` when a task was completed twice or not at all."""
        started = time.perf_counter()
        for worker in self.workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
        done: list[int] = []
        for worker in self.workers:
            done += self._read(worker)["done"]
        seconds = time.perf_counter() - started
        if len(done) != len(set(done)) or set(done) != set(planned):
            twice = len(done) - len(set(done))
            lost = len(set(planned) - set(done))
            raise AssertionError(f"fleet invariant broken: {twice} completed twice, {lost} lost,"
                                 f" {len(set(done) - set(planned))} not planned")  # fmt: skip
        return FleetRound(len(done), len(self.workers), seconds)

    def _read(self, worker: subprocess.Popen[str]) -> dict[str, Any]:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        if not line:
            worker.wait(timeout=STARTUP)
            raise RuntimeError(f"a fleet worker ended (exit status {worker.returncode})")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"a fleet worker failed: {reply['error']}")
        return reply

    def close(self) -> None:
        for worker in self.workers:
            if worker.stdin is not None:
                worker.stdin.close()  # the worker's signal to end
        for worker in self.workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            if worker.stdout is not None:
                worker.stdout.close()
        self.workers = []

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- in the worker process ------------------------------------------------------------------


def _taskorch_agent(url: str, agent: str) -> tuple[Callable[[], list[int]], Callable[[], None]]:
    import taskorch

    orch = taskorch.open(url, pool_size=1)

    def drain() -> list[int]:
        done: list[int] = []
        while (task := orch.claim(agent)) is not None:
            orch.complete(task.id, agent, result="done")
            done.append(task.id)
        return done

    return drain, orch.close


def _raw_agent(url: str, schema: str, agent: str) -> tuple[Callable[[], list[int]], Any]:
    from . import pg_raw

    conn = pg_raw.connect(url, schema, create=False)

    def drain() -> list[int]:
        done: list[int] = []
        while (task_id := pg_raw.claim(conn, agent)) is not None:
            pg_raw.complete(conn, task_id, agent)
            done.append(task_id)
        return done

    return drain, conn.close


def serve(kind: str, url: str, schema: str, agent: str, out: IO[str] | None = None) -> None:
    """The worker's loop (see the module's docstring); ends when its standard input closes."""
    out = out or sys.stdout

    def say(reply: dict[str, Any]) -> None:
        out.write(json.dumps(reply) + "\n")
        out.flush()

    try:
        drain, close = (
            _taskorch_agent(url, agent) if kind == "taskorch" else _raw_agent(url, schema, agent)
        )
    except Exception as exc:
        say({"error": f"{type(exc).__name__}: {exc}"})
        return
    say({"ready": True})
    try:
        for line in sys.stdin:
            if line.strip() != "go":
                continue
            try:
                say({"done": drain()})
            except Exception as exc:
                say({"error": f"{type(exc).__name__}: {exc}"})
                return
    finally:
        close()
