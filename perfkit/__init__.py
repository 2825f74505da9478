"""perfkit: everything that measures taskorch.

The workloads (each core operation defined once), the harness helpers, the asv data, the
regression rule, the validation session and its success criteria, the resource monitor, the
reports, the stress runs, the peer comparison and the nightly job. The engine never imports this
package; this package uses the engine's public API.

::

    from perfkit import OrchestrationSession, generate_performance_report

    session = OrchestrationSession(session_id="perf_validation", description="Validation")
    results = await session.execute_performance_tests(VALIDATION_SPECS)
    report = generate_performance_report(results)
    report.write("reports/validation")     # report.html, summary.md, report.json

The names below are imported on first use, so ``import perfkit.workloads`` (which the asv suite
does against old commits of the engine) loads nothing else. psutil and matplotlib
(``pip install taskorch[perf]``) are needed only by the monitor, the memory helpers and the plots.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .reports.report import PerformanceReport, generate_performance_report
    from .validation.monitor import ResourceMonitor, Sample
    from .validation.session import OrchestrationSession, SessionResults, SpecResult
    from .validation.slo import CRITERIA, Verdict, evaluate, gate_passed, load_budgets
    from .validation.spec import VALIDATION_SPECS, InvalidSpecError, Spec, parse_specs

_HOMES = {
    "CRITERIA": "validation.slo",
    "VALIDATION_SPECS": "validation.spec",
    "InvalidSpecError": "validation.spec",
    "OrchestrationSession": "validation.session",
    "PerformanceReport": "reports.report",
    "ResourceMonitor": "validation.monitor",
    "Sample": "validation.monitor",
    "SessionResults": "validation.session",
    "Spec": "validation.spec",
    "SpecResult": "validation.session",
    "Verdict": "validation.slo",
    "evaluate": "validation.slo",
    "gate_passed": "validation.slo",
    "generate_performance_report": "reports.report",
    "load_budgets": "validation.slo",
    "parse_specs": "validation.spec",
}

__all__ = [
    "CRITERIA",
    "VALIDATION_SPECS",
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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'perfkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
