"""Render a performance report (:class:`~perfkit.reports.report.PerformanceReport`) as HTML and as
Markdown. What the renderers read of it is :class:`Report`, so this module needs nothing of
:mod:`perfkit.reports.report`, which calls it.

The HTML page is self-contained: inline CSS, plots as base64 PNG, a Content-Security-Policy
that forbids every fetch, and one inline script that only counts the plots that decoded (the
``data-plots-loaded`` attribute of ``<body>``, read by the headless-browser test). Everything
that came from outside this module (titles, names, errors, numbers, ids: a results file can
put any JSON value where a number belongs) goes through ``escape``, :func:`_num` or
:func:`_text`.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import fields
from html import escape
from typing import TYPE_CHECKING, Any, Protocol

from ..kit.numbers import amount
from . import plots
from .render_agents import CAPACITY_HEAD, capacity_rows, capacity_summary, working_text
from .summary import cell

if TYPE_CHECKING:
    from ..validation.monitor import Sample
    from ..validation.session import SessionResults
    from ..validation.slo import Verdict
    from ..validation.sources import LeakEntry
    from ..verdict.changepoints import Shift
    from ..verdict.history import History

__all__ = ["Report", "html_page", "markdown"]


class Report(Protocol):
    """What the renderers read of a performance report."""

    @property
    def title(self) -> str: ...
    @property
    def generated_at(self) -> float: ...
    @property
    def passed(self) -> bool: ...
    @property
    def verdicts(self) -> Sequence[Verdict]: ...
    @property
    def session(self) -> SessionResults | None: ...
    @property
    def history(self) -> History | None: ...
    @property
    def changes(self) -> Sequence[Shift] | None: ...
    @property
    def leaks(self) -> Sequence[LeakEntry] | None: ...
    @property
    def samples(self) -> Sequence[Sample] | None: ...
    @property
    def notes(self) -> Sequence[str]: ...


CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f2f2f2}.pass{color:#17803d;font-weight:600}
.fail,.notmeasured{color:#b3261e;font-weight:600}.skipped{color:#777}img{max-width:100%}
code{background:#f4f4f4;padding:0 3px}"""
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
COUNT_PLOTS = """<script>addEventListener('load',function(){var n=0;
document.querySelectorAll('img.plot').forEach(function(i){if(i.complete&&i.naturalWidth>0)n++;});
document.body.setAttribute('data-plots-loaded',String(n));});</script>"""
MAX_HISTORY_PLOTS = 8


def _md(value: Any) -> str:
    """A value for Markdown, escaped: it may be any value read back from a file."""
    return cell(amount(value))


def _num(value: Any) -> str:
    """A number for the page (escaped: it may be any value read back from a file)."""
    return escape(amount(value))


def _text(value: Any) -> str:
    return escape(str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number_or_none(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _when(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _metrics(metrics: dict[str, Any]) -> str:
    keep = (
        "mean_ms",
        "median_ms",
        "p95_ms",
        "ops_per_second",
        "loops_per_second",
        "double_claims",
        "lost_tasks",
        "errors",
        "nodes",
        "seconds",
        "rss_mb",
        "import_ms",
        "leaks",
        "leaking",
        "reason",
    )
    pairs = [f"{k}={amount(metrics[k])}" for k in keep if k in metrics]
    # Agents that did any work is not concurrency: shown only when concurrency was not measured.
    working = working_text(metrics)
    if working is None and "active_agents" in metrics:
        working = f"active_agents={amount(metrics['active_agents'])}"
    return ", ".join(([working] if working else []) + pairs)


def _capacity(report: Report) -> dict[str, Any] | None:
    """The capacity search's measurements, when the run made one."""
    found = None if report.session is None else report.session.by_target("agent_capacity")
    if found is None or not isinstance(found.metrics, dict) or "capacity" not in found.metrics:
        return None
    return found.metrics


def _spec_status(result: Any) -> str:
    if result.metrics.get("measured") is False:
        return "not measured"
    return {True: "pass", False: "fail", None: "no budget"}[result.passed]


def _rows(head: list[str], rows: list[list[str]]) -> str:
    """An HTML table; cells must already be escaped."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    return f'<img class="plot" alt="{escape(alt)}" src="{plots.data_uri(png)}">'


def _status(status: str) -> str:
    return f'<span class="{escape(status.replace(" ", ""))}">{escape(status.upper())}</span>'


def html_page(report: Report) -> str:
    """The whole report as one HTML document."""
    gate = _status("pass" if report.passed else "fail")
    parts = [
        f"<h1>{escape(report.title)}</h1>",
        f"<p>Generated {_when(report.generated_at)}. Gate: {gate}</p>",
    ]
    parts += [f"<p>{escape(note)}</p>" for note in report.notes]
    parts.append("<h2>Success criteria</h2>")
    parts.append(
        _rows(
            ["criterion", "budget", "measured", "margin", "status", "note"],
            [
                [
                    escape(v.title),
                    f"{escape(v.comparison)} {_num(v.budget)} {escape(v.unit)}",
                    _num(amount(v.measured, v.unit)),
                    _num(amount(v.margin, v.unit)),
                    _status(v.status),
                    escape(v.note),
                ]
                for v in report.verdicts
            ],
        )
    )
    session = report.session
    if session is not None:
        env = ", ".join(f"{k} {v}" for k, v in session.environment.items())
        parts.append(
            f"<h2>Validation run</h2><p>Session <code>{escape(session.session_id)}</code>"
            f" recorded as plan {_num(session.plan_id)} in"
            f" <code>{escape(session.database)}</code>"
            f"; {escape(env)}.</p>"
        )
        parts.append(
            _rows(
                ["spec", "task", "result", "seconds", "measurements"],
                [
                    [
                        _text(r.spec.get("name")),
                        _num(r.task_id),
                        _status(_spec_status(r)),
                        _num(r.seconds),
                        escape(r.error or _metrics(r.metrics)),
                    ]
                    for r in session.results
                ],
            )
        )
        bench = [r for r in session.results if _is_number(r.metrics.get("mean_ms"))]
        if bench:
            png = plots.spec_plot(
                [str(r.spec.get("name")) for r in bench],
                [r.metrics["mean_ms"] for r in bench],
                [_number_or_none(r.metrics.get("expected_ms")) for r in bench],
            )
            parts.append(_img(png, "mean time per benchmark spec"))
        capacity = _capacity(report)
        if capacity is not None:
            parts.append(f"<h2>Agent capacity</h2><p>{escape(capacity_summary(capacity))}</p>")
            rows = [[escape(c) for c in row] for row in capacity_rows(capacity)]
            parts.append(_rows(CAPACITY_HEAD, rows))
    parts.extend(_history_html(report))
    if report.leaks is not None:
        parts.append("<h2>Leak checks</h2>")
        parts.append(
            _rows(
                ["workload", "verdict", "B/iteration", "iterations", "flamegraph"],
                [
                    [
                        escape(e.workload),
                        _status("fail" if e.leaked else "pass"),
                        _num(e.bytes_per_iteration),
                        _num(e.iterations),
                        escape(e.flamegraph or "—"),
                    ]
                    for e in report.leaks
                ],
            )
        )
    if report.samples:
        parts.append("<h2>Resource monitor</h2>")
        parts.extend(_monitor_html(report.samples))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(parts)}{COUNT_PLOTS}</body></html>\n"
    )


def _monitor_html(samples: Sequence[Sample]) -> list[str]:
    # Samples built in Python skip the loader's checks; one that is not all numbers is left out
    # of the peaks and the plot rather than written into the page.
    s = [x for x in samples if all(_is_number(getattr(x, f.name)) for f in fields(x))]
    dropped = f" ({len(samples) - len(s)} not numeric, left out)" if len(s) < len(samples) else ""
    if not s:
        return [f"<p>{len(samples)} samples, none usable{dropped}.</p>"]
    return [
        f"<p>{len(s)} samples{dropped} over {_num(s[-1].seconds)} s; peak RSS"
        f" {_num(max(x.memory_mb for x in s))} MB, peak DB connections"
        f" {_num(max(x.database_connections for x in s))}, peak threads"
        f" {_num(max(x.active_threads for x in s))}.</p>",
        _img(plots.samples_plot(s), "resource usage over time"),
    ]


def _history_html(report: Report) -> list[str]:
    history, changes = report.history, report.changes
    if history is None or changes is None:
        return []
    parts = [f"<h2>Benchmark history (asv, machine {escape(history.machine)})</h2>"]
    groups = history.groups()
    for name, keys in list(groups.items())[:MAX_HISTORY_PLOTS]:
        parts.append(_img(plots.history_plot(history, keys[:6], name), f"history of {name}"))
    if len(groups) > MAX_HISTORY_PLOTS:
        parts.append(f"<p>{len(groups) - MAX_HISTORY_PLOTS} more benchmarks not plotted.</p>")
    ratios = history.raw_ratios()
    parts.append("<h3>Ratio to the raw sqlite3 baseline (newest commit)</h3>")
    rows = [[_text(r["benchmark"]), _text(r["reference"]), f"{r['ratio']:.2f}"] for r in ratios]
    parts.append(
        _rows(["benchmark", "raw reference", "ratio"], rows)
        if ratios
        else "<p>No raw sqlite3 pairs found.</p>"
    )
    regressions = sum(1 for c in changes if c.regressed)
    parts.append("<h3>Change points over the history</h3>")
    parts.append(
        f"<p>{len(changes)} change point(s), {regressions} regression(s); those labelled"
        " machine moved with the raw sqlite3 references, those labelled transient came back to"
        " their old level, and neither is a regression.</p>"
    )
    if changes:
        parts.append(
            _rows(
                ["benchmark", "level changed at", "before → after", "ratio", "p", "label"],
                [[_text(c.benchmark), _text(c.commit[:8]), _text(_levels(c)), _num(c.ratio),
                  _text(_p(c.p)), _text(_label(c))] for c in changes],
            )
        )  # fmt: skip
    return parts


def _levels(change: Shift) -> str:
    return f"{amount(change.before, change.unit)} → {amount(change.after, change.unit)}"


def _p(p: float | None) -> str:
    return "—" if p is None else f"{p:.2g}"


def _label(change: Shift) -> str:
    back = f"back at {change.returned[:8]}" if change.returned else ""
    notes = "; ".join(n for n in (change.reason, back) if n)
    return f"{change.label} ({notes})" if notes else str(change.label)


def markdown(report: Report) -> str:
    """A Markdown summary: the criteria table, then one line per other section."""
    lines = [
        f"# {_md(report.title)}",
        "",
        f"Generated {_when(report.generated_at)}. Gate: **{'PASS' if report.passed else 'FAIL'}**",
        "",
    ]
    lines += [*map(_md, report.notes), ""] if report.notes else []
    lines += ["| criterion | budget | measured | margin | status |", "|---|---|---|---|---|"]
    for v in report.verdicts:
        note = f" — {_md(v.note)}" if v.note else ""
        budget = f"{v.comparison} {_md(v.budget)} {v.unit}"
        lines.append(
            f"| {v.title} | {budget} | {_md(amount(v.measured, v.unit))}"
            f" | {_md(amount(v.margin, v.unit))}"
            f" | {v.status.upper()}{note} |"
        )
    if report.session is not None:
        lines += ["", "| spec | result | measurements |", "|---|---|---|"]
        for r in report.session.results:
            verdict = _spec_status(r)
            detail = _md(r.error or _metrics(r.metrics))
            lines.append(f"| {_md(r.spec.get('name'))} | {verdict} | {detail} |")
    capacity = _capacity(report)
    if capacity is not None:
        lines += ["", _md(capacity_summary(capacity)), ""]
        lines += ["| " + " | ".join(CAPACITY_HEAD) + " |", "|---" * len(CAPACITY_HEAD) + "|"]
        lines += ["| " + " | ".join(map(_md, row)) + " |" for row in capacity_rows(capacity)]
    if report.history is not None and report.changes is not None:
        changes = report.changes
        regressions = sum(1 for c in changes if c.regressed)
        n = len(report.history.series)
        lines += [
            "",
            f"asv history: {n} series on machine {report.history.machine};"
            f" {len(changes)} change point(s), {regressions} regression(s).",
        ]
        lines += [
            f"- {_md(c.benchmark)} at {c.commit[:8]}: {_md(_levels(c))} ({c.ratio:.2f}x,"
            f" p {_p(c.p)}), {_md(_label(c))}"
            for c in changes
        ]
    if report.leaks is not None:
        leaking = [e.workload for e in report.leaks if e.leaked]
        named = _md(", ".join(map(str, leaking))) if leaking else "none"
        lines += ["", f"leakcheck: {len(report.leaks)} workloads, leaking: {named}."]
    if report.samples:
        memory = [s.memory_mb for s in report.samples if _is_number(s.memory_mb)]
        peak = f"{max(memory):.1f} MB" if memory else "not known"
        lines += ["", f"monitor: {len(report.samples)} samples, peak RSS {peak}."]
    return "\n".join(lines) + "\n"
