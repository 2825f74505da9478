"""Read what the other harnesses left behind: validation runs, leakcheck reports and monitor
samples.

Every loader returns None when its file does not exist, so a report can be made from whatever
exists, and raises :class:`SourceError` naming the file when it exists but cannot be used
(unreadable, not UTF-8, not JSON, or not of the shape written by the tool it comes from). The
fields are checked for their types here, so the renderers only ever see numbers where they
expect numbers. Formats read: ``perf validate``'s ``report.json`` (or a bare session dump),
``python -m leakcheck suite --json`` output (one report, a list, or a mapping holding them) and
the monitor's JSON samples. asv's data is read by :mod:`perfkit.data.asvdata`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from taskorch import inputs
from taskorch.errors import InvalidArgumentError

from .monitor import Sample
from .session import SessionResults

__all__ = ["LeakEntry", "SourceError", "load_leaks", "load_results", "load_samples", "read_json"]

#: The measurements that the success criteria and the plots compute with.
NUMERIC_METRICS = ("mean_ms", "expected_ms", "rss_mb", "active_agents", "leaks",
                   "double_claims", "lost_tasks", "errors")  # fmt: skip


class SourceError(ValueError):
    """A results file exists but cannot be used; the message names the file and why."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = path
        super().__init__(f"{path}: {why}")


@dataclass(frozen=True, slots=True)
class LeakEntry:
    """One workload's leak verdict."""

    workload: str
    leaked: bool
    bytes_per_iteration: float
    iterations: int
    flamegraph: str | None = None


def read_json(path: Path) -> Any | None:
    """The JSON document in ``path``; None when there is no such file."""
    try:
        return inputs.load(path, json.loads)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except InvalidArgumentError as exc:  # its message already starts with the file's name
        raise SourceError(path, str(exc).removeprefix(f"{exc.argument}: ")) from exc


def load_results(path: Path) -> SessionResults | None:
    """A validation run from ``perf validate``'s report.json (or a bare session dump)."""
    data = read_json(path)
    if data is None:
        return None
    session = data.get("session", data) if isinstance(data, dict) else None
    if not isinstance(session, dict):
        raise SourceError(path, "is not a validation run (no JSON object)")
    _expect(path, session, {"session_id": str, "results": list})
    for i, row in enumerate(session["results"]):
        where = f"results[{i}]"
        if not isinstance(row, dict):
            raise SourceError(path, f"{where} is not a JSON object")
        _expect(path, row, {"spec": dict, "task_id": int}, where)
        _optional(path, row, {"metrics": dict, "error": str, "seconds": float}, where)
        metrics = row.get("metrics") or {}
        _optional(path, metrics, dict.fromkeys(NUMERIC_METRICS, float), f"{where}.metrics")
        if row.get("passed") not in (True, False, None):
            raise SourceError(path, f"{where}.passed must be true, false or null")
    _optional(path, session, {"description": str, "database": str, "plan_id": int,
                              "environment": dict, "started_at": float})  # fmt: skip
    try:
        return SessionResults.from_dict(session)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(path, f"is not a validation session ({exc!r})") from exc


def load_leaks(path: Path) -> list[LeakEntry] | None:
    """leakcheck's JSON output: one report, a list of them, or a mapping that holds them.
    Entries without a verdict (a workload the suite could not run) are left out."""
    data = read_json(path)
    if data is None:
        return None
    if isinstance(data, dict):
        for key in ("reports", "results", "workloads"):
            if key in data:
                data = data[key]
                break
    if isinstance(data, dict):
        if "leaked" in data:
            data = [data]
        elif all(isinstance(v, dict) for v in data.values()):
            data = [{"workload": k, **v} for k, v in data.items()]
    if not isinstance(data, list):
        raise SourceError(path, "is not leakcheck output (a report, a list or a mapping of them)")
    entries = []
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise SourceError(path, f"entry {i} is not a JSON object")
        if "leaked" not in row:
            continue
        where = f"entry {i}"
        _expect(path, row, {"leaked": bool}, where)
        _optional(path, row, {"workload": str, "bytes_per_iteration": float,
                              "iterations": int, "flamegraph": str}, where)  # fmt: skip
        entries.append(
            LeakEntry(
                row.get("workload", "?"),
                row["leaked"],
                float(row.get("bytes_per_iteration", 0.0)),
                row.get("iterations", 0),
                row.get("flamegraph"),
            )
        )
    return entries


def load_samples(path: Path) -> list[Sample] | None:
    """Samples written by :func:`perfkit.validation.monitor.write_samples`."""
    data = read_json(path)
    if data is None:
        return None
    rows = data.get("samples") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SourceError(path, 'is not monitor output ({"samples": [...]})')
    kinds: dict[str, type] = {f.name: float if f.type == "float" else int for f in fields(Sample)}
    samples = []
    for i, row in enumerate(rows):
        where = f"samples[{i}]"
        if not isinstance(row, dict) or set(row) != set(kinds):
            raise SourceError(path, f"{where} must be an object with exactly {sorted(kinds)}")
        _expect(path, row, kinds, where)
        converted: dict[str, Any] = {k: kinds[k](v) for k, v in row.items()}
        samples.append(Sample(**converted))
    return samples


def _expect(path: Path, row: dict[str, Any], kinds: dict[str, type], where: str = "") -> None:
    for key in kinds:
        if row.get(key) is None:
            raise SourceError(path, f"{_field(where, key)} is missing")
    _optional(path, row, kinds, where)


def _optional(path: Path, row: dict[str, Any], kinds: dict[str, type], where: str = "") -> None:
    """Check the type of each of ``kinds`` that ``row`` has (null stands for absent); a float
    field takes any finite JSON number, an int field only a whole one."""
    for key, kind in kinds.items():
        value = row.get(key)
        if value is None:
            continue
        if kind is float:
            ok = not isinstance(value, bool) and isinstance(value, (int, float))
            ok = ok and math.isfinite(value)
        elif kind is int:
            ok = not isinstance(value, bool) and isinstance(value, int)
        else:
            ok = isinstance(value, kind)
        if not ok:
            name = {float: "a finite number", int: "a whole number", str: "a string",
                    bool: "true or false", dict: "an object", list: "a list"}[kind]  # fmt: skip
            raise SourceError(path, f"{_field(where, key)} must be {name}, got {value!r:.60}")


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
