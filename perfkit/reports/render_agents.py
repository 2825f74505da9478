"""The agent figures of a validation run as plain text, for :mod:`perfkit.reports.render`
to mark up.

Nothing here writes markup or escapes: every string returned may hold what a results file put
there, and the renderer escapes it for HTML or for a Markdown table. Values are formatted with
the renderer's own formatter (``fmt``), so a number reads the same everywhere in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["CAPACITY_HEAD", "capacity_rows", "capacity_summary", "working_text"]

Format = Callable[[Any], str]

CAPACITY_HEAD = ["agents", "held", "median working", "peak working", "loops/s",
                 "claim p99", "why not"]  # fmt: skip


def working_text(metrics: Mapping[str, Any], fmt: Format) -> str | None:
    """The agents working at once, beside the configured count; None when not measured."""
    if "working_median" not in metrics:
        return None
    return (
        f"agents working at once: median {fmt(metrics['working_median'])},"
        f" peak {fmt(metrics.get('working_peak'))}, mean {fmt(metrics.get('working_mean'))}"
        f" ({fmt(metrics.get('agent_count'))} configured)"
    )


def capacity_summary(metrics: Mapping[str, Any], fmt: Format) -> str:
    """One sentence: the largest count that held, its bound, the rule and why the search ended."""
    broke = metrics.get("broke_at")
    bound = f"; {fmt(broke)} agents broke" if broke is not None else "; no count tried broke"
    probes = metrics.get("probes")
    tried = len(probes) if isinstance(probes, list) else 0
    return (
        f"Largest count that held: {fmt(metrics.get('capacity'))} agents{bound}."
        f" A count holds when its invariants hold and the median of agents working at once is"
        f" at least {fmt(metrics.get('min_working'))} times the count (each handler call doing"
        f" {fmt(metrics.get('work_ms'))} ms of work, {fmt(metrics.get('probe_seconds'))} s a"
        f" count). {tried} counts tried in {fmt(metrics.get('seconds'))} s; stopped:"
        f" {fmt(metrics.get('stopped'))}."
    )


def capacity_rows(metrics: Mapping[str, Any], fmt: Format) -> list[list[str]]:
    """One row a count tried, in the order tried, under :data:`CAPACITY_HEAD`."""
    probes = metrics.get("probes")
    rows = []
    for p in probes if isinstance(probes, list) else ():
        p = p if isinstance(p, Mapping) else {}
        held = "yes" if p.get("held") is True else "no" if p.get("held") is False else "—"
        rows.append([
            f"{fmt(p.get('agents'))} agents",
            held,
            f"{fmt(p.get('working_median'))} agents",
            f"{fmt(p.get('working_peak'))} agents",
            f"{fmt(p.get('loops_per_second'))} loops/s",
            f"{fmt(p.get('claim_p99_ms'))} ms",
            fmt(p.get("why") or "—"),
        ])  # fmt: skip
    return rows
