"""OrchestrationSession: performance tests run as a plan in the orchestrator itself.

::

    session = OrchestrationSession(session_id="perf_validation",
                                   description="Performance validation testing")
    results = await session.execute_performance_tests(tasks)
    report = generate_performance_report(results)

The specs are checked first (a bad one refuses the whole list). They are then planned as the
subtasks of one goal, for the specialist ``perfkit-validation``, and claimed by the session in
the same transaction; it runs each and completes it with its measurements as the result, so
the run is recorded like any other plan (``taskorch show PLAN_ID``). A spec that raises is
recorded as failed with its error. The session claims nothing but its own subtasks: the other
work in the database is left as it was, and a run that ends early cancels what it still holds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import taskorch

from ..harness.environment import environment
from ..harness.store import fresh_url, temporary_directory
from .runners import run_spec
from .spec import Spec, parse_specs

__all__ = ["OrchestrationSession", "SessionResults", "SpecResult"]

FORMAT_VERSION = 1
AGENT = "perf-validator"
#: The role of every subtask a session plans, and the only one it claims.
SPECIALIST = "perfkit-validation"
#: Longer than any one spec may run (a stress run lasts at most a day); renewed before each.
LEASE_SECONDS = 2 * 86_400.0


@dataclass(frozen=True, slots=True)
class SpecResult:
    """One spec's outcome: its measurements, verdict, and the task that recorded it."""

    spec: dict[str, Any]
    task_id: int
    metrics: dict[str, Any]
    passed: bool | None
    seconds: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "task_id": self.task_id,
            "metrics": self.metrics,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpecResult:
        return cls(
            data["spec"],
            int(data["task_id"]),
            dict(data.get("metrics") or {}),
            data.get("passed"),
            float(data.get("seconds", 0.0)),
            data.get("error"),
        )


@dataclass(frozen=True, slots=True)
class SessionResults:
    """Everything a session measured, with where it ran. JSON form: :meth:`as_dict`."""

    session_id: str
    description: str
    plan_id: int
    database: str
    results: tuple[SpecResult, ...]
    environment: dict[str, Any] = field(default_factory=dict)
    started_at: float = 0.0

    def by_target(self, target: str) -> SpecResult | None:
        """The last result for ``target`` (a later spec overrides an earlier one)."""
        found = [r for r in self.results if r.spec.get("target") == target]
        return found[-1] if found else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "session_id": self.session_id,
            "description": self.description,
            "plan_id": self.plan_id,
            "database": self.database,
            "started_at": self.started_at,
            "environment": self.environment,
            "results": [r.as_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionResults:
        return cls(
            session_id=str(data["session_id"]),
            description=str(data.get("description", "")),
            plan_id=int(data.get("plan_id", 0)),
            database=str(data.get("database", "")),
            results=tuple(SpecResult.from_dict(r) for r in data.get("results", ())),
            environment=dict(data.get("environment") or {}),
            started_at=float(data.get("started_at", 0.0)),
        )


class OrchestrationSession:
    """Runs performance test specs as the subtasks of one plan.

    ``db`` is the URL where the plan and its results are recorded (default: a temporary SQLite
    file, gone after the run). The workloads' own SQLite files go to a temporary folder inside
    ``workdir``, removed after the run; by default inside the folder of a SQLite ``db`` (so they
    measure the same disk), else in the system's temporary directory. ``progress`` receives a
    line of text as each spec starts and ends.
    """

    def __init__(
        self,
        session_id: str,
        description: str = "",
        *,
        db: str | None = None,
        workdir: str | Path | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.session_id = session_id
        self.description = description or session_id
        self.db = db
        self.workdir = Path(workdir) if workdir is not None else _beside(db)
        self.progress = progress or (lambda line: None)

    async def execute_performance_tests(self, tasks: Sequence[object]) -> SessionResults:
        """Check every spec, plan them, then run and complete each in turn.

        The plan's subtasks are claimed in the transaction that writes them, so no other agent
        ever sees them ready; the session claims nothing else. Should the run end early (an
        exception, Ctrl-C), the subtasks it still holds are cancelled on the way out.
        """
        specs = parse_specs(tasks)
        started = time.time()
        with temporary_directory("taskorch-perf-", self.workdir) as root:
            url = self.db or fresh_url(root, "validation")
            with taskorch.open(url) as orch:
                plan = self._plan(orch, specs)
                held = set(plan.task_ids)
                try:
                    results = []
                    for task_id, key, spec in zip(plan.task_ids, plan.keys, specs, strict=True):
                        _renew(orch, held)
                        where = root / f"{self.session_id}-{key}"
                        self.progress(f"running {spec.name} ...")
                        result = await self._run(orch, task_id, spec, where)
                        held.discard(task_id)
                        verdict = {True: "pass", False: "FAIL", None: "done"}[result.passed]
                        if result.metrics.get("measured") is False:
                            verdict = "NOT MEASURED"
                        self.progress(f"  {verdict} in {result.seconds:.1f} s")
                        results.append(result)
                finally:
                    if held:
                        self._abandon(orch, plan.parent_id)
                return SessionResults(
                    self.session_id,
                    self.description,
                    plan.parent_id,
                    url,
                    tuple(results),
                    environment(),
                    started,
                )

    def _plan(self, orch: taskorch.Orchestrator, specs: Sequence[Spec]) -> taskorch.Plan:
        """Plan the specs and claim every one of them, in one transaction."""
        with orch.batch():
            plan = orch.plan(
                self.description,
                [_subtask(i, s) for i, s in enumerate(specs)],
                context={"session_id": self.session_id, "environment": environment()},
            )
            mine = set(plan.task_ids)
            held: set[int] = set()
            stale: set[int] = set()
            while held != mine:
                task = orch.claim(AGENT, specialist=SPECIALIST, lease_seconds=LEASE_SECONDS)
                if task is None:  # nobody else can see the uncommitted subtasks
                    raise RuntimeError(f"the validation plan {plan.parent_id} lost a subtask")
                if task.id in mine:
                    held.add(task.id)
                elif task.parent_id is not None:
                    stale.add(task.parent_id)
            # A live run holds all its subtasks, so a ready one of this role was left by a run
            # that was killed (its lease ran out): its plan is abandoned.
            for parent_id in stale:
                orch.cancel(parent_id)
        for parent_id in sorted(stale):
            self.progress(f"cancelled validation plan {parent_id}, left by a killed run")
        return plan

    def _abandon(self, orch: taskorch.Orchestrator, parent_id: int) -> None:
        try:
            n = orch.cancel(parent_id)
        except taskorch.TaskorchError as exc:  # the store failed too; say what is left behind
            self.progress(f"could not cancel the validation plan {parent_id}: {exc}")
        else:
            self.progress(f"cancelled the {n} spec(s) of plan {parent_id} not run to the end")

    async def _run(
        self, orch: taskorch.Orchestrator, task_id: int, spec: Spec, where: Path
    ) -> SpecResult:
        start = time.perf_counter()
        try:
            metrics = await asyncio.to_thread(run_spec, spec, where)
        except Exception as exc:  # recorded in the plan, the session goes on
            error = f"{type(exc).__name__}: {exc}"
            orch.fail(task_id, AGENT, error)
            return SpecResult(
                spec.as_dict(), task_id, {}, False, time.perf_counter() - start, error
            )
        orch.complete(task_id, AGENT, result=metrics)
        passed = metrics.get("passed")
        return SpecResult(spec.as_dict(), task_id, metrics, passed, time.perf_counter() - start)


def _subtask(index: int, spec: Spec) -> dict[str, Any]:
    options = ", ".join(f"{k}={v}" for k, v in spec.options.items() if v is not None)
    return {
        "key": f"spec-{index}",
        "title": spec.name,
        "specialist": SPECIALIST,
        "description": f"{spec.type} {spec.target}" + (f": {options}" if options else ""),
    }


def _renew(orch: taskorch.Orchestrator, held: set[int]) -> None:
    with orch.batch():
        for task_id in held:
            orch.renew(task_id, AGENT, LEASE_SECONDS)


def _beside(db: str | None) -> Path | None:
    prefix = "sqlite:///"
    if db is None or not db.startswith(prefix) or ":memory:" in db:
        return None
    return Path(db[len(prefix) :].split("?", 1)[0]).parent
