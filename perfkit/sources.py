"""Read what the other harnesses left behind: leakcheck reports and monitor samples.

Every loader tolerates absence (returns None) so a report can be made from whatever exists.
Formats read: ``python -m leakcheck suite --json`` output (one report, a list, or a mapping
holding them) and the monitor's JSON samples. asv's data is read by :mod:`perfkit.asvdata`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .monitor import Sample

__all__ = ["LeakEntry", "load_leaks", "load_samples"]


@dataclass(frozen=True, slots=True)
class LeakEntry:
    """One workload's leak verdict."""

    workload: str
    leaked: bool
    bytes_per_iteration: float
    iterations: int
    flamegraph: str | None = None


def load_leaks(path: Path) -> list[LeakEntry] | None:
    """leakcheck's JSON output: one report, a list of them, or a mapping that holds them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict):
        for key in ("reports", "results", "workloads"):
            if key in data:
                data = data[key]
                break
    if isinstance(data, dict):
        data = [data] if "leaked" in data else [{"workload": k, **v} for k, v in data.items()]
    if not isinstance(data, list):
        return None
    return [
        LeakEntry(
            str(r.get("workload", "?")),
            bool(r.get("leaked")),
            float(r.get("bytes_per_iteration", 0.0)),
            int(r.get("iterations", 0)),
            r.get("flamegraph"),
        )
        for r in data
        if isinstance(r, dict) and "leaked" in r
    ]


def load_samples(path: Path) -> list[Sample] | None:
    """Samples written by :func:`perfkit.monitor.write_samples`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Sample(**row) for row in data["samples"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
