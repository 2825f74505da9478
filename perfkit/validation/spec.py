"""Performance test specs: plain dictionaries, checked up front and turned into values.

A spec names a ``type`` and a ``target``::

    {"type": "benchmark", "target": "task_creation", "iterations": 1000, "expected_ms": 10}
    {"type": "stress_test", "target": "concurrent_agents", "agent_count": 100,
     "duration_seconds": 60}
    {"type": "stress_test", "target": "agent_capacity", "start_agents": 50,
     "budget_seconds": 60}
    {"type": "memory", "target": "baseline"}

Benchmark targets are the validation's own names (``task_creation``, ``database_operations``,
``context_serialization``, ``event_bus``) and the name of every shared workload in
:mod:`perfkit.workloads` (``claim_complete``, ``context``, ``get`` ...). A spec that cannot
run is refused before anything runs, with an :class:`InvalidSpecError` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from taskorch import InvalidArgumentError

from ..workloads import WORKLOADS

__all__ = [
    "ALIASES",
    "MAX_DURATION",
    "PARAM_RANGES",
    "TARGETS",
    "VALIDATION_SPECS",
    "InvalidSpecError",
    "Spec",
    "parse_spec",
    "parse_specs",
]

#: The validation run: task creation, database queries, agents working at once for a minute,
#: and the two memory criteria (baseline and leaks). The criterion asks for 50 agents working
#: at once; 100 are configured so that the measured figure can exceed it and its margin means
#: something.
VALIDATION_SPECS: list[dict[str, object]] = [
    {"type": "benchmark", "target": "task_creation", "iterations": 1000, "expected_ms": 10},
    {"type": "benchmark", "target": "database_operations", "iterations": 5000, "expected_ms": 5},
    {"type": "stress_test", "target": "concurrent_agents", "agent_count": 100,
     "duration_seconds": 60},
    {"type": "memory", "target": "baseline", "expected_mb": 500},
    {"type": "memory", "target": "leaks", "iterations": 20_000},
]  # fmt: skip


class InvalidSpecError(InvalidArgumentError):
    """A performance test spec is malformed; ``field`` names the offending key."""

    def __init__(self, index: int | None, field: str, message: str) -> None:
        self.index = index
        self.field = field
        where = "spec" if index is None else f"spec {index}"
        super().__init__(where, f"{field!r} {message}")


#: The validation's benchmark names, each a list of (workload, params) run in turn and averaged.
ALIASES: dict[str, tuple[tuple[str, dict[str, Any]], ...]] = {
    "task_creation": (("plan", {"n": 1}),),
    "database_operations": (
        ("get", {"n": 1000}),
        ("status", {"n": 1000}),
        ("ready_query", {"n": 1000}),
    ),
    "context_serialization": (("encode_context", {}), ("decode_context", {})),
    "event_bus": (("publish", {"subscribers": 1}),),
}

REQUIRED: Any = ...  # marks a field the spec must give
#: An agent's own work in each handler call, in milliseconds (simulated: an await). Agents
#: overlap only while they await; 50 ms is short for a real agent (a model call takes seconds),
#: which keeps the database's share of each loop, the thing measured, large.
WORK_MS = 50.0

#: For each type: the targets, and for each its fields with their defaults (``REQUIRED``: none).
TARGETS: dict[str, dict[str, dict[str, Any]]] = {
    "benchmark": {
        name: {"iterations": REQUIRED, "expected_ms": None, "params": {}}
        for name in sorted({*ALIASES, *WORKLOADS})
    },
    "stress_test": {
        "concurrent_agents": {
            "agent_count": REQUIRED,
            "duration_seconds": REQUIRED,
            "work_ms": WORK_MS,
        },
        "agent_capacity": {
            "start_agents": 50,
            "max_agents": 3200,
            "probe_seconds": 3.0,
            "budget_seconds": 60.0,
            "work_ms": WORK_MS,
            "min_working": 0.9,
        },
        "task_graph": {"nodes": REQUIRED, "agent_count": 50},
    },
    "memory": {
        "baseline": {"expected_mb": None},
        "leaks": {"iterations": 20_000, "workloads": None},
    },
}

_COMMON = {"type", "target", "name"}

#: The longest stress run a spec may ask for, in seconds (a day).
MAX_DURATION = 86_400.0
#: Upper bounds of the counting fields: far above any useful run, low enough that a typo
#: (an extra digit run, 10**30) is refused rather than run for ever.
_COUNTS = {
    "iterations": 10_000_000,
    "agent_count": 100_000,
    "start_agents": 100_000,
    "max_agents": 100_000,
    "nodes": 10_000_000,
}
#: The positive numbers, and their upper bounds.
_POSITIVE = {
    "expected_ms": 1e9,
    "expected_mb": 1e9,
    "duration_seconds": MAX_DURATION,
    "probe_seconds": MAX_DURATION,
    "budget_seconds": MAX_DURATION,
    "min_working": 1.0,
}
#: The numbers that may be 0 (no simulated work), and their upper bounds.
_NON_NEGATIVE = {"work_ms": 60_000.0}
#: Workload parameters (``params``) by name: the smallest and largest value a spec may set.
#: A parameter not listed here takes the type of the values its workload declares.
PARAM_RANGES: dict[str, tuple[int, int]] = {
    "n": (1, 1_000_000),
    "parents": (1, 100_000),
    "pool": (1, 1_000_000),
    "subscribers": (0, 10_000),
    "agents": (1, 10_000),
}


@dataclass(frozen=True, slots=True)
class Spec:
    """A checked spec. ``options`` holds every field of its target, defaults filled in."""

    type: str
    target: str
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "target": self.target, "name": self.name, **self.options}


def parse_spec(raw: object, index: int | None = None) -> Spec:
    """Check one spec; raise :class:`InvalidSpecError` naming the first bad field."""
    if not isinstance(raw, Mapping):
        raise InvalidSpecError(index, "spec", f"must be a mapping, got {type(raw).__name__}")
    for key in ("type", "target"):
        if key not in raw:
            raise InvalidSpecError(index, key, "is missing")
        if not isinstance(raw[key], str):
            raise InvalidSpecError(index, key, f"must be a string, got {raw[key]!r}")
    kind, target = raw["type"], raw["target"]
    if kind not in TARGETS:
        raise InvalidSpecError(index, "type", f"is {kind!r}; expected one of {sorted(TARGETS)}")
    fields = TARGETS[kind].get(target)
    if fields is None:
        raise InvalidSpecError(
            index, "target", f"is {target!r}; a {kind} targets one of {sorted(TARGETS[kind])}"
        )
    unknown = set(raw) - _COMMON - set(fields)
    if unknown:
        raise InvalidSpecError(
            index,
            sorted(unknown)[0],
            f"is not a field of {kind} {target}; allowed: {sorted(fields)}",
        )
    options: dict[str, Any] = {}
    for key, default in fields.items():
        if default is REQUIRED and key not in raw:
            raise InvalidSpecError(index, key, f"is missing; a {kind} {target} needs it")
        options[key] = _check(index, key, raw.get(key, default), target)
    if options.get("max_agents", 1) < options.get("start_agents", 1):
        raise InvalidSpecError(
            index, "max_agents", f"is {options['max_agents']:,}, below start_agents"
            f" ({options['start_agents']:,}); the search raises the count from the one to the other"
        )  # fmt: skip
    name = raw.get("name", f"{kind}:{target}")
    if not isinstance(name, str) or not name:
        raise InvalidSpecError(index, "name", f"must be a non-empty string, got {name!r}")
    return Spec(kind, target, name, options)


def parse_specs(raw: Sequence[object]) -> list[Spec]:
    """Check every spec before any runs."""
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Sequence):
        raise InvalidSpecError(None, "tasks", "must be a list of spec mappings")
    return [parse_spec(item, i) for i, item in enumerate(raw)]


def _check(index: int | None, key: str, value: Any, target: str) -> Any:
    if value is None:
        return None
    if key in _COUNTS:
        # leakcheck needs two iterations in each of its 8 segments
        _integer(index, key, value, 16 if target == "leaks" else 1, _COUNTS[key])
    elif key in _POSITIVE or key in _NON_NEGATIVE:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidSpecError(index, key, f"must be a number, got {value!r}")
        high = _POSITIVE.get(key) or _NON_NEGATIVE[key]
        low_ok = value > 0 if key in _POSITIVE else value >= 0
        if not (math.isfinite(value) and low_ok and value <= high):
            low = "above 0" if key in _POSITIVE else "at least 0"
            raise InvalidSpecError(
                index, key, f"must be a finite number {low}, at most {high:g}; got {value!r}"
            )
        return float(value)
    elif key == "params":
        if not isinstance(value, Mapping):
            raise InvalidSpecError(index, key, f"must be a mapping, got {value!r}")
        declared = WORKLOADS[target].params if target in WORKLOADS else {}
        bad = set(value) - set(declared)
        if bad:
            raise InvalidSpecError(
                index, key, f"has {sorted(bad)}, not parameters of {target}: {sorted(declared)}"
            )
        for name, param in value.items():
            _param(index, f"params.{name}", param, declared[name])
        return dict(value)
    elif key == "workloads":
        if not isinstance(value, list) or not all(v in WORKLOADS for v in value):
            raise InvalidSpecError(index, key, f"must list workload names from {sorted(WORKLOADS)}")
        return list(value)
    return value


def _integer(index: int | None, key: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSpecError(index, key, f"must be an integer, got {value!r}")
    if not low <= value <= high:
        raise InvalidSpecError(index, key, f"must be between {low:,} and {high:,}, got {value:,}")


def _param(index: int | None, key: str, value: Any, declared: tuple[Any, ...]) -> None:
    name = key.partition(".")[2]
    if name in PARAM_RANGES:
        _integer(index, key, value, *PARAM_RANGES[name])
    elif declared and isinstance(declared[0], bool):
        if not isinstance(value, bool):
            raise InvalidSpecError(index, key, f"must be true or false, got {value!r}")
    elif declared and type(value) is not type(declared[0]):
        raise InvalidSpecError(
            index, key, f"must be of type {type(declared[0]).__name__}, got {value!r}"
        )
