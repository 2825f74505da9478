"""generate_performance_report: one report from a validation run and whatever else exists.

The report holds the success-criteria verdicts, the spec results, and optionally the asv
history, leakcheck verdicts and monitor samples. It renders to one self-contained HTML page
(plots embedded, every stored string escaped) and to a Markdown summary; ``write`` puts both,
with the raw results as JSON, in a folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.files import write_text_atomic
from ..validation.monitor import Sample
from ..validation.session import SessionResults
from ..validation.slo import Verdict, evaluate, gate_passed
from ..validation.sources import LeakEntry
from ..verdict.changepoints import Shift
from ..verdict.history import History

__all__ = ["PerformanceReport", "generate_performance_report"]


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """What a run measured, judged against the success criteria."""

    title: str
    generated_at: float
    verdicts: tuple[Verdict, ...]
    session: SessionResults | None = None
    history: History | None = None
    # The history's change points, found once for every form of the report.
    changes: tuple[Shift, ...] | None = None
    leaks: tuple[LeakEntry, ...] | None = None
    samples: tuple[Sample, ...] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True when every success criterion passed (or was skipped on request)."""
        return gate_passed(self.verdicts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": 2,
            "title": self.title,
            "generated_at": self.generated_at,
            "passed": self.passed,
            "criteria": [v.as_dict() for v in self.verdicts],
            "session": None if self.session is None else self.session.as_dict(),
            "leaks": None if self.leaks is None else [vars_of(e) for e in self.leaks],
            "changes": None if self.changes is None else [c.as_dict() for c in self.changes],
            "regressions": None
            if self.changes is None
            else [c.as_dict() for c in self.changes if c.regressed],
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        from .render import markdown

        return markdown(self)

    def to_html(self) -> str:
        from .render import html_page

        return html_page(self)

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write ``report.html``, ``summary.md`` and ``report.json`` in ``directory``."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = {
            "html": out / "report.html",
            "markdown": out / "summary.md",
            "json": out / "report.json",
        }
        write_text_atomic(paths["html"], self.to_html())
        write_text_atomic(paths["markdown"], self.to_markdown())
        write_text_atomic(paths["json"], json.dumps(self.to_dict(), indent=1))
        return paths

    def __str__(self) -> str:
        return self.to_markdown()


def vars_of(entry: LeakEntry) -> dict[str, Any]:
    return {
        "workload": entry.workload,
        "leaked": entry.leaked,
        "bytes_per_iteration": entry.bytes_per_iteration,
        "iterations": entry.iterations,
        "flamegraph": entry.flamegraph,
    }


def generate_performance_report(
    results: SessionResults | None,
    *,
    title: str | None = None,
    budgets: Mapping[str, float] | None = None,
    skip: Iterable[str] = (),
    history: History | None = None,
    leaks: Sequence[LeakEntry] | None = None,
    samples: Sequence[Sample] | None = None,
) -> PerformanceReport:
    """Judge ``results`` against the success criteria and gather the other sources.

    Leak verdicts from a leakcheck run (``leaks``) stand in for a session that did not check
    leaks itself, so a nightly leakcheck run counts toward the gate.
    """
    empty = SessionResults("none", "no validation run", 0, "", ())
    verdicts = evaluate(results or empty, budgets, skip)
    notes = []
    if leaks is not None:
        verdicts = [_leak_verdict(v, leaks) if v.key == "leaks" else v for v in verdicts]
    if results is None:
        notes.append("No validation run was given: the criteria are not measured.")
    elif verdicts and all(v.status == "skipped" for v in verdicts):
        notes.append("Every criterion was skipped: nothing was judged, so the gate does not pass.")
    return PerformanceReport(
        title=title or (results.description if results else "taskorch performance report"),
        generated_at=time.time(),
        verdicts=tuple(verdicts),
        session=results,
        history=history,
        changes=None if history is None else tuple(history.changes()),
        leaks=None if leaks is None else tuple(leaks),
        samples=None if samples is None else tuple(samples),
        notes=tuple(notes),
    )


def _leak_verdict(verdict: Verdict, leaks: Sequence[LeakEntry]) -> Verdict:
    if verdict.measured is not None or verdict.status == "skipped" or not leaks:
        return verdict
    count = sum(1 for e in leaks if e.leaked)
    status = "pass" if count <= verdict.budget else "fail"
    note = f"from leakcheck: {len(leaks)} workloads checked"
    return Verdict(
        verdict.key,
        verdict.title,
        verdict.budget,
        verdict.unit,
        verdict.upper,
        float(count),
        status,
        note,
    )
