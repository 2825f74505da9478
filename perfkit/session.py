"""OrchestrationSession: performance tests run as a plan in the orchestrator itself.

::

    session = OrchestrationSession(session_id="perf_validation",
                                   description="Performance validation testing")
    results = await session.execute_performance_tests(tasks)
    report = generate_performance_report(results)

The specs are checked first (a bad one refuses the whole list). They are then planned as the
subtasks of one goal; an agent claims each, runs it and completes it with its measurements as
the result, so the run is recorded like any other plan (``taskorch show PLAN_ID``). A spec that
raises is recorded as failed with its error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import taskorch

from .harness.environment import environment
from .harness.store import fresh_url, temporary_directory
from .runners import run_spec
from .spec import Spec, parse_specs

__all__ = ["OrchestrationSession", "SessionResults", "SpecResult"]

FORMAT_VERSION = 1
AGENT = "perf-validator"


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
        """Check every spec, plan them, then claim, run and complete each in turn."""
        specs = parse_specs(tasks)
        started = time.time()
        with temporary_directory("taskorch-perf-", self.workdir) as root:
            url = self.db or fresh_url(root, "validation")
            with taskorch.open(url) as orch:
                plan = orch.plan(
                    self.description,
                    [_subtask(i, s) for i, s in enumerate(specs)],
                    context={"session_id": self.session_id, "environment": environment()},
                )
                results = []
                by_id = dict(zip(plan.task_ids, specs, strict=True))
                while (
                    task := orch.claim(AGENT, specialist=None, lease_seconds=86_400)
                ) is not None:
                    spec = by_id[task.id]
                    where = root / f"{self.session_id}-{task.key}"
                    self.progress(f"running {spec.name} ...")
                    result = await self._run(orch, task.id, spec, where)
                    verdict = {True: "pass", False: "FAIL", None: "done"}[result.passed]
                    if result.metrics.get("measured") is False:
                        verdict = "NOT MEASURED"
                    self.progress(f"  {verdict} in {result.seconds:.1f} s")
                    results.append(result)
                results.sort(key=lambda r: r.task_id)
                return SessionResults(
                    self.session_id,
                    self.description,
                    plan.parent_id,
                    url,
                    tuple(results),
                    environment(),
                    started,
                )

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
    return {
        "key": f"spec-{index}",
        "title": spec.name,
        "specialist": spec.type,
        "description": ", ".join(f"{k}={v}" for k, v in spec.options.items() if v is not None),
    }


def _beside(db: str | None) -> Path | None:
    prefix = "sqlite:///"
    if db is None or not db.startswith(prefix) or ":memory:" in db:
        return None
    return Path(db[len(prefix) :].split("?", 1)[0]).parent
