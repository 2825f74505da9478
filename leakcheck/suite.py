"""Check every registered workload and tabulate the verdicts.

Workloads come from a registry module exposing ``WORKLOADS``, a mapping from name to an
object with ``name``, ``description`` and ``session`` (a :data:`leakcheck.Session`). taskorch
registers its core operations in ``perfkit.workloads``; the benchmarks share them.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from leakcheck.checking import (
    DEFAULT_ITERATIONS,
    DEFAULT_THRESHOLD,
    Session,
    check_session,
    checked,
)
from leakcheck.errors import LeakcheckError, LoadError, UsageError, WorkloadError
from leakcheck.limits import MAX_BUDGET, amount
from leakcheck.progress import Progress
from leakcheck.report import FORMAT_VERSION, Report
from leakcheck.targets import load_object

__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_REGISTRY",
    "SuiteResult",
    "Workload",
    "fit_to_budget",
    "format_table",
    "load_workloads",
    "probe",
    "run_suite",
    "suite_json",
]

DEFAULT_REGISTRY = "perfkit.workloads"
#: Seconds a workload may take; slower ones run fewer iterations (0 or None: no limit).
DEFAULT_BUDGET = 180.0
#: Fewest iterations the budget may leave: 50 per segment.
MIN_ITERATIONS = 400
# A tracked call costs up to about 5x an untracked one (measured 1.2-3.6x on typical workloads).
TRACKED_CALL_COST = 5.0


class Workload(Protocol):
    """What the suite needs from a registered workload."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def session(self) -> Session: ...


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """One row of the suite: a report, or the error that stopped the check."""

    name: str
    seconds: float
    report: Report | None = None
    error: str | None = None

    @property
    def verdict(self) -> str:
        if self.report is None:
            return "ERROR"
        return "LEAK" if self.report.leaked else "ok"


def load_workloads(registry: str = DEFAULT_REGISTRY) -> Mapping[str, Workload]:
    """Import ``registry`` and return its non-empty ``WORKLOADS`` mapping.

    Raises :class:`LoadError` when the module cannot be imported or registers nothing.
    """
    try:
        workloads: Any = load_object(f"{registry}:WORKLOADS")
    except LoadError as exc:
        raise LoadError(f"no workloads: {exc}") from exc
    if not isinstance(workloads, Mapping) or not workloads:
        raise LoadError(f"no workloads are registered in {registry}.WORKLOADS")
    return workloads


def run_suite(
    workloads: Mapping[str, Workload],
    *,
    only: Sequence[str] = (),
    iterations: int = DEFAULT_ITERATIONS,
    warmup: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    flamegraph_dir: Path | None = None,
    budget: float | None = DEFAULT_BUDGET,
    progress: Progress | bool = False,
) -> list[SuiteResult]:
    """Check each workload (those named in ``only``, if given) in registration order.

    A workload that fails to run becomes an ERROR row; the others still run. With
    ``flamegraph_dir``, each leaking workload leaves ``<name>.html`` there. ``warmup``
    defaults to twice ``iterations``: registered workloads open databases whose caches (SQLite
    keeps up to 2 MiB of pages per connection) fill over tens of thousands of calls, and a
    cache still filling in the window looks like a leak. Untracked calls are cheap. A workload whose
    calls are too slow to run ``iterations`` times within ``budget`` seconds runs fewer (the
    report says so in its warnings).
    """
    checked(iterations, 0 if warmup is None else warmup, threshold)
    if budget is not None:
        amount("budget", budget, 0.0, MAX_BUDGET)
    unknown = sorted(set(only) - set(workloads))
    if unknown:
        raise UsageError(
            f"unknown workload(s) {', '.join(unknown)}; registered: {', '.join(workloads)}"
        )
    results: list[SuiteResult] = []
    for name, workload in workloads.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        try:
            planned_warmup = 2 * iterations if warmup is None else warmup
            planned, note = iterations, None
            if budget:
                per_call = probe(workload.session)
                planned, planned_warmup = fit_to_budget(
                    per_call, iterations, planned_warmup, budget
                )
                if planned < iterations:
                    note = (
                        f"ran {planned} iterations, not {iterations}, to fit the {budget:g} s "
                        f"budget (one call takes {per_call * 1000:.3g} ms untracked); "
                        f"bounded structures above {planned // 2} entries look like leaks"
                    )
            report = check_session(
                workload.session,
                iterations=planned,
                warmup=planned_warmup,
                threshold=threshold,
                flamegraph=None if flamegraph_dir is None else flamegraph_dir / f"{name}.html",
                flamegraph_on_leak_only=True,
                progress=progress,
                name=name,
            )
        except LeakcheckError as exc:
            results.append(SuiteResult(name, time.perf_counter() - started, error=str(exc)))
            continue
        if note is not None:
            report = dataclasses.replace(report, warnings=(*report.warnings, note))
        results.append(SuiteResult(name, time.perf_counter() - started, report=report))
    return results


def probe(session: Session, *, seconds: float = 1.0, calls: int = 50) -> float:
    """Seconds one warm call of the step takes untracked, from a short throwaway session."""
    durations: list[float] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="leakcheck-probe-") as scratch,
            session(Path(scratch)) as step,
        ):
            started = time.perf_counter()
            while len(durations) < 2 or (
                len(durations) < calls and time.perf_counter() - started < seconds
            ):
                before = time.perf_counter()
                step()
                durations.append(time.perf_counter() - before)
    except Exception as exc:
        raise WorkloadError(f"the workload failed while being timed: {exc!r}") from exc
    return statistics.median(durations[len(durations) // 2 :])  # the first calls are cold


def fit_to_budget(per_call: float, iterations: int, warmup: int, budget: float) -> tuple[int, int]:
    """Iterations and warm-up that fit ``budget`` seconds, never fewer than MIN_ITERATIONS."""
    cost = per_call * (warmup + TRACKED_CALL_COST * iterations)
    if cost <= budget:
        return iterations, warmup
    scale = budget / cost
    fitted = max(MIN_ITERATIONS, int(iterations * scale))
    return min(fitted, iterations), min(warmup, max(int(warmup * scale), fitted // 10))


def format_table(results: Iterable[SuiteResult]) -> str:
    """A plain-text table: name, bytes per iteration, verdict, iterations, time; then details."""
    rows = [("workload", "B/iteration", "verdict", "iterations", "time")]
    details: list[str] = []
    for result in results:
        report = result.report
        rate = "-" if report is None else f"{report.bytes_per_iteration:.3g}"
        count = "-" if report is None else str(report.iterations)
        rows.append((result.name, rate, result.verdict, count, f"{result.seconds:.1f} s"))
        if result.error is not None:
            details.append(f"{result.name}: {result.error}")
        elif report is not None and (report.leaked or report.warnings):
            details.append(report.describe())
            if report.flamegraph is not None:
                details.append(f"  flamegraph: {report.flamegraph}")
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  "
        f"{r[3]:>{widths[3]}}  {r[4]:>{widths[4]}}"
        for r in rows
    ]
    return "\n".join([*lines, *(["", *details] if details else [])])


def suite_json(results: Iterable[SuiteResult]) -> dict[str, Any]:
    """The suite as one JSON document, one entry per workload."""
    entries: dict[str, Any] = {}
    for result in results:
        if result.report is not None:
            entries[result.name] = result.report.to_dict()
        else:
            entries[result.name] = {"error": result.error, "seconds": result.seconds}
    return {"format": FORMAT_VERSION, "workloads": entries}
