"""Performance validation: the shared workloads and, around them, the validation tools.

::

    from taskorch.perf import OrchestrationSession, generate_performance_report

    session = OrchestrationSession(session_id="perf_validation", description="Validation")
    results = await session.execute_performance_tests(SEED_SPECS)
    report = generate_performance_report(results)
    report.write("reports/validation")     # report.html, summary.md, report.json

psutil and matplotlib (``pip install taskorch[perf]``) are imported only by the monitor and the
plots, so the rest works without them.
"""

from __future__ import annotations

from .monitor import ResourceMonitor, Sample
from .report import PerformanceReport, generate_performance_report
from .session import OrchestrationSession, SessionResults, SpecResult
from .slo import CRITERIA, Verdict, evaluate, gate_passed, load_budgets
from .spec import InvalidSpecError, Spec, parse_specs

__all__ = [
    "CRITERIA",
    "SEED_SPECS",
    "InvalidSpecError",
    "OrchestrationSession",
    "PerformanceReport",
    "ResourceMonitor",
    "Sample",
    "SessionResults",
    "Spec",
    "SpecResult",
    "Verdict",
    "evaluate",
    "gate_passed",
    "generate_performance_report",
    "load_budgets",
    "parse_specs",
]

#: The seed's validation run, plus the two memory criteria.
SEED_SPECS: list[dict[str, object]] = [
    {"type": "benchmark", "target": "task_creation", "iterations": 1000, "expected_ms": 10},
    {"type": "benchmark", "target": "database_operations", "iterations": 5000, "expected_ms": 5},
    {"type": "stress_test", "target": "concurrent_agents", "agent_count": 50,
     "duration_seconds": 60},
    {"type": "memory", "target": "baseline", "expected_mb": 500},
    {"type": "memory", "target": "leaks", "iterations": 20_000},
]  # fmt: skip
