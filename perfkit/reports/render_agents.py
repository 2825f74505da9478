"""The agent figures of a validation run as plain text, for :mod:`perfkit.reports.render`
to mark up.

Nothing here writes markup or escapes: every string returned may hold what a results file put
there, and the renderer escapes it for HTML or for a Markdown table. Values are formatted by
the toolkit's one formatter (:func:`perfkit.kit.numbers.amount`), as everywhere in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..kit.numbers import amount

__all__ = ["CAPACITY_HEAD", "capacity_rows", "capacity_summary", "working_text"]

CAPACITY_HEAD = ["agents", "held", "median working", "peak working", "loops/s",
                 "claim p99", "why not"]  # fmt: skip


def working_text(metrics: Mapping[str, Any]) -> str | None:
    """The agents working at once, beside the configured count; None when not measured."""
    if "working_median" not in metrics:
        return None
    return (
        f"agents working at once: median {amount(metrics['working_median'])},"
        f" peak {amount(metrics.get('working_peak'))}, mean {amount(metrics.get('working_mean'))}"
        f" ({amount(metrics.get('agent_count'))} configured)"
    )


def capacity_summary(metrics: Mapping[str, Any]) -> str:
    """One sentence: the largest count that held, its bound, the rule and why the search ended."""
    broke = metrics.get("broke_at")
    bound = f"; {amount(broke)} agents broke" if broke is not None else "; no count tried broke"
    probes = metrics.get("probes")
    tried = len(probes) if isinstance(probes, list) else 0
    return (
        f"Largest count that held: {amount(metrics.get('capacity'))} agents{bound}."
        f" A count holds when its invariants hold and the median of agents working at once is"
        f" at least {amount(metrics.get('min_working'))} times the count (each handler call doing"
        f" {amount(metrics.get('work_ms'))} ms of work, {amount(metrics.get('probe_seconds'))} s a"
        f" count). {tried} counts tried in {amount(metrics.get('seconds'))} s; stopped:"
        f" {amount(metrics.get('stopped'))}."
    )


def capacity_rows(metrics: Mapping[str, Any]) -> list[list[str]]:
    """One row a count tried, in the order tried, under :data:`CAPACITY_HEAD`."""
    probes = metrics.get("probes")
    rows = []
    for p in probes if isinstance(probes, list) else ():
        p = p if isinstance(p, Mapping) else {}
        held = "yes" if p.get("held") is True else "no" if p.get("held") is False else "—"
        rows.append([
            f"{amount(p.get('agents'))} agents",
            held,
            f"{amount(p.get('working_median'))} agents",
            f"{amount(p.get('working_peak'))} agents",
            f"{amount(p.get('loops_per_second'))} loops/s",
            f"{amount(p.get('claim_p99_ms'))} ms",
            amount(p.get("why") or "—"),
        ])  # fmt: skip
    return rows
