"""Check every registered workload and tabulate the verdicts.

Workloads come from a registry module exposing ``WORKLOADS``, a mapping from name to an
object with ``name``, ``description`` and ``session`` (a :data:`leakcheck.Session`). taskorch
registers its core operations in ``taskorch.perf.workloads``; the benchmarks share them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from leakcheck.checking import (
    DEFAULT_ITERATIONS,
    DEFAULT_THRESHOLD,
    DEFAULT_WARMUP,
    Session,
    check_session,
)
from leakcheck.errors import LeakcheckError, LoadError, UsageError
from leakcheck.progress import Progress
from leakcheck.report import FORMAT_VERSION, Report
from leakcheck.targets import load_object

__all__ = [
    "DEFAULT_REGISTRY",
    "SuiteResult",
    "Workload",
    "format_table",
    "load_workloads",
    "run_suite",
    "suite_json",
]

DEFAULT_REGISTRY = "taskorch.perf.workloads"


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
    warmup: int = DEFAULT_WARMUP,
    threshold: float = DEFAULT_THRESHOLD,
    flamegraph_dir: Path | None = None,
    progress: Progress | bool = False,
) -> list[SuiteResult]:
    """Check each workload (those named in ``only``, if given) in registration order.

    A workload that fails to run becomes an ERROR row; the others still run. With
    ``flamegraph_dir``, each leaking workload leaves ``<name>.html`` there.
    """
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
            report = check_session(
                workload.session,
                iterations=iterations,
                warmup=warmup,
                threshold=threshold,
                flamegraph=None if flamegraph_dir is None else flamegraph_dir / f"{name}.html",
                flamegraph_on_leak_only=True,
                progress=progress,
                name=name,
            )
        except LeakcheckError as exc:
            results.append(SuiteResult(name, time.perf_counter() - started, error=str(exc)))
            continue
        results.append(SuiteResult(name, time.perf_counter() - started, report=report))
    return results


def format_table(results: Iterable[SuiteResult]) -> str:
    """A plain-text table: name, bytes per iteration, verdict, time; then the details."""
    rows = [("workload", "B/iteration", "verdict", "time")]
    details: list[str] = []
    for result in results:
        report = result.report
        rate = "-" if report is None else f"{report.bytes_per_iteration:.3g}"
        rows.append((result.name, rate, result.verdict, f"{result.seconds:.1f} s"))
        if result.error is not None:
            details.append(f"{result.name}: {result.error}")
        elif report is not None and report.leaked:
            details.append(report.describe())
            if report.flamegraph is not None:
                details.append(f"  flamegraph: {report.flamegraph}")
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}"
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
