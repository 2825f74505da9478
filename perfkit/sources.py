"""Read what the other harnesses left behind: asv results, leakcheck reports, monitor samples.

Every loader tolerates absence (returns None or an empty value) so a report can be made from
whatever exists. Formats read: asv 0.6 results (api version 2), ``python -m leakcheck suite
--json`` output (one report, a list, or a mapping holding them), and the monitor's JSON samples.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .monitor import Sample
from .workloads import references

__all__ = [
    "History",
    "LeakEntry",
    "Point",
    "asv_results_dir",
    "load_history",
    "load_leaks",
    "load_samples",
]


@dataclass(frozen=True, slots=True)
class Point:
    """One benchmark value (seconds, bytes, ...) at one commit."""

    commit: str
    date: float  # ms since the epoch, as asv stores it
    value: float


@dataclass(frozen=True, slots=True)
class History:
    """Benchmark series keyed by ``name[params]``, each ordered by commit date, plus units."""

    machine: str
    series: dict[str, tuple[Point, ...]]
    units: dict[str, str]

    def regressions(self, threshold: float = 1.2, window: int = 5) -> list[dict[str, Any]]:
        """Series whose newest value exceeds ``threshold`` x the median of the ones before."""
        out = []
        for key, points in sorted(self.series.items()):
            if len(points) < 2:
                continue
            before = [p.value for p in points[-1 - window : -1]]
            ref = statistics.median(before)
            if ref > 0 and points[-1].value / ref > threshold:
                out.append(
                    {
                        "benchmark": key,
                        "commit": points[-1].commit,
                        "ratio": points[-1].value / ref,
                        "reference": ref,
                        "value": points[-1].value,
                    }
                )
        return out

    def raw_ratios(self) -> list[dict[str, Any]]:
        """At the newest commit: each taskorch benchmark over its raw sqlite3 reference."""
        latest = {k: v[-1] for k, v in self.series.items() if v}
        out = []
        for key, point in sorted(latest.items()):
            for ours, raw in references().items():
                if not _names(key, ours) or "raw" in key.lower():
                    continue
                twin = next(
                    (k for k in latest if _names(k, raw) and _params(k) == _params(key)), None
                )
                if twin and latest[twin].value > 0:
                    out.append(
                        {
                            "benchmark": key,
                            "reference": twin,
                            "ratio": point.value / latest[twin].value,
                        }
                    )
        return out


def _names(key: str, workload: str) -> bool:
    """Whether benchmark ``key`` times ``workload`` (``...time_plan``, ``...Plan.time_...``)."""
    head = key.split("[", 1)[0].lower()
    return bool(re.search(rf"(^|[._]){re.escape(workload)}($|[._\[])", head))


def _params(key: str) -> str:
    return key.split("[", 1)[1] if "[" in key else ""


def asv_results_dir(root: Path) -> Path:
    """The results folder named by ``asv.conf.json`` in ``root`` (default ``.asv/results``)."""
    conf = root / "asv.conf.json"
    if conf.exists():
        text = re.sub(r"^\s*//.*$", "", conf.read_text(encoding="utf-8"), flags=re.M)
        text = re.sub(r",(\s*[}\]])", r"\1", text)  # asv accepts trailing commas
        try:
            return root / str(json.loads(text).get("results_dir", ".asv/results"))
        except json.JSONDecodeError:
            pass
    return root / ".asv" / "results"


def load_history(results_dir: Path, machine: str | None = None) -> History | None:
    """Load every asv result file of one machine (the one with most results by default)."""
    if not results_dir.is_dir():
        return None
    machines = [d for d in results_dir.iterdir() if d.is_dir() and (d / "machine.json").exists()]
    if machine is not None:
        machines = [d for d in machines if d.name == machine]
    if not machines:
        return None
    chosen = max(machines, key=lambda d: len(list(d.glob("*.json"))))
    units = _units(results_dir / "benchmarks.json")
    series: dict[str, list[Point]] = {}
    for path in chosen.glob("*.json"):
        if path.name == "machine.json":
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            columns = data["result_columns"]
            commit, date = str(data["commit_hash"]), float(data["date"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged or foreign file must not stop the report
        for name, row in data.get("results", {}).items():
            fields = dict(zip(columns, row, strict=False))
            for label, value in _expand(fields.get("result"), fields.get("params") or []):
                series.setdefault(f"{name}{label}", []).append(Point(commit, date, value))
    ordered = {k: tuple(sorted(v, key=lambda p: p.date)) for k, v in series.items()}
    return History(chosen.name, ordered, units)


def _expand(result: Any, params: list[list[Any]]) -> list[tuple[str, float]]:
    values = result if isinstance(result, list) else [result]
    combos: list[list[str]] = [[]]
    for axis in params:
        combos = [[*c, str(v)] for c in combos for v in axis]
    out = []
    for combo, value in zip(combos, values, strict=False):
        if isinstance(value, (int, float)) and math.isfinite(value):
            out.append(((f"[{', '.join(combo)}]" if combo else ""), float(value)))
    return out


def _units(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: str(v.get("unit", "")) for k, v in data.items() if isinstance(v, dict)}


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
