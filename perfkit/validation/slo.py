"""The success criteria as a gate: each with its measured value, its margin and a verdict.

The budgets below are the defaults; a TOML file may tighten them, never loosen them::

    [budgets]
    task_creation_ms = 1.0      # mean time to plan a one-subtask goal
    database_query_ms = 0.5     # mean of reads by id, status and ready-list queries
    concurrent_agents = 80      # median of agents working at once, with no double claim
    memory_baseline_mb = 100    # peak RSS (MiB) of a fresh process doing a small plan
    leaks = 0                   # workloads leakcheck flags

"Concurrent agents" is judged on the time-weighted median of the agents working at the same
moment (inside their handler, holding a claim; :mod:`perfkit.workloads.concurrency`), not on the
peak: every agent is in its first handler call together at the start, so the peak reaches the
configured count almost whatever the database does, while the median says how many kept
working together for most of the run. A result without that measurement (a run from before
it) is judged on the agents that did any work, and its note says so.

A criterion whose spec did not run (or leakcheck is missing) is NOT MEASURED, which fails the
gate unless the caller skips it by name: an unmeasured criterion never passes silently. A gate
whose every criterion was skipped judged nothing, and does not pass either.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorch import inputs
from taskorch.errors import ConfigurationError, InvalidArgumentError

from .session import SessionResults

__all__ = ["CRITERIA", "Criterion", "Verdict", "evaluate", "gate_passed", "load_budgets"]

PASS, FAIL, NOT_MEASURED, SKIPPED = "pass", "fail", "not measured", "skipped"


@dataclass(frozen=True, slots=True)
class Criterion:
    """A success criterion: ``measured(results)`` must stay below (or reach) ``budget``."""

    key: str
    title: str
    budget: float
    unit: str
    upper: bool  # True: measured < budget; False: measured >= budget
    target: str  # the spec target that measures it
    measure: Callable[[dict[str, Any]], float | None]
    explain: Callable[[dict[str, Any]], str] | None = None  # the verdict's note


@dataclass(frozen=True, slots=True)
class Verdict:
    """A criterion checked against a run."""

    key: str
    title: str
    budget: float
    unit: str
    upper: bool
    measured: float | None
    status: str
    note: str = ""

    @property
    def comparison(self) -> str:
        """How the measured value must compare with the budget."""
        if not self.upper:
            return ">="
        return "<=" if self.key == "leaks" else "<"

    @property
    def margin(self) -> float | None:
        """How far from the budget, on the good side when positive."""
        if self.measured is None:
            return None
        return self.budget - self.measured if self.upper else self.measured - self.budget

    @property
    def ok(self) -> bool:
        return self.status in (PASS, SKIPPED)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "budget": self.budget,
            "unit": self.unit,
            "comparison": self.comparison,
            "measured": self.measured,
            "margin": self.margin,
            "status": self.status,
            "note": self.note,
        }


def _agents(m: dict[str, Any]) -> float | None:
    field = "working_median" if "working_median" in m else "active_agents"
    if field not in m:
        return None
    sound = m.get("double_claims") == 0 and m.get("lost_tasks") == 0 and m.get("errors") == 0
    agents = m[field]
    return (float(agents) if _is_number(agents) else agents) if sound else 0.0


def _agents_note(m: dict[str, Any]) -> str:
    if "working_median" not in m:
        return "agents that did any work, not agents working at once (not measured in this run)"
    unsound = "" if _agents(m) else "; 0 counted: an invariant broke or an agent saw an error"
    return (
        f"median working at once; peak {m.get('working_peak')},"
        f" {m.get('agent_count')} configured{unsound}"
    )


def _leaks(m: dict[str, Any]) -> float | None:
    if not m.get("measured"):
        return None
    return float(m["leaks"]) if _is_number(m.get("leaks")) else m.get("leaks")


CRITERIA = (
    Criterion("task_creation_ms", "Task creation", 10.0, "ms", True, "task_creation",
              lambda m: m.get("mean_ms")),
    Criterion("database_query_ms", "Database queries (average)", 5.0, "ms", True,
              "database_operations", lambda m: m.get("mean_ms")),
    Criterion("concurrent_agents", "Concurrent agents", 50, "agents", False, "concurrent_agents",
              _agents, _agents_note),
    Criterion("memory_baseline_mb", "Baseline memory", 500.0, "MiB", True, "baseline",
              lambda m: m.get("rss_mb")),
    Criterion("leaks", "Memory leaks", 0, "leaking workloads", True, "leaks", _leaks),
)  # fmt: skip


def load_budgets(path: str | Path) -> dict[str, float]:
    """Read ``[budgets]`` from a TOML file; refuse unknown keys and looser budgets.

    A budget is a finite number above 0 (the leak budget, a count of workloads, is 0 and can only
    stay 0), an integer where the criterion counts; :class:`ConfigurationError` names the file and
    the key of anything else.
    """
    try:
        data = inputs.load(path, tomllib.loads, "TOML")
    except OSError as exc:
        raise ConfigurationError(f"cannot read budgets file {path}: {exc}") from exc
    except InvalidArgumentError as exc:  # not a regular file, too large, not TOML, too deep
        raise ConfigurationError(f"cannot read budgets file {exc}") from exc
    others = sorted(set(data) - {"budgets"})
    if others:
        raise ConfigurationError(f"{path}: unknown key(s) {others}; a budgets file holds [budgets]")
    table = data.get("budgets", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: 'budgets' must be a table ([budgets]), got {table!r}")
    known = {c.key: c for c in CRITERIA}
    out: dict[str, float] = {}
    for key, value in table.items():
        criterion = known.get(key)
        if criterion is None:
            raise ConfigurationError(f"{path}: unknown budget {key!r}; known: {sorted(known)}")
        counted = type(criterion.budget) is int
        if isinstance(value, bool) or not isinstance(value, int if counted else (int, float)):
            what = "an integer" if counted else "a number"
            raise ConfigurationError(f"{path}: budget {key!r} must be {what}, got {value!r}")
        if not math.isfinite(value):  # TOML has nan and inf; nan would compare as tighter
            raise ConfigurationError(f"{path}: budget {key!r} must be finite, got {value!r}")
        # At or below 0 a criterion could never pass; the leak budget is 0 already.
        if value < 0 or (value == 0 and criterion.budget != 0):
            low = "0" if criterion.budget == 0 else "above 0"
            raise ConfigurationError(f"{path}: budget {key!r} must be {low}, got {value!r}")
        looser = value > criterion.budget if criterion.upper else value < criterion.budget
        if looser:
            raise ConfigurationError(
                f"{path}: budget {key!r} = {value} is looser than the success criterion"
                f" ({criterion.budget}); a budgets file may only tighten it"
            )
        out[key] = float(value)
    return out


def evaluate(
    results: SessionResults,
    budgets: Mapping[str, float] | None = None,
    skip: Iterable[str] = (),
) -> list[Verdict]:
    """Check every criterion against ``results``; the leak criterion counts 0 leaks as < 1."""
    budgets = budgets or {}
    skipped = set(skip)
    verdicts = []
    for c in CRITERIA:
        budget = budgets.get(c.key, c.budget)
        if c.key in skipped:
            verdicts.append(_verdict(c, budget, None, SKIPPED, "skipped on request"))
            continue
        found = results.by_target(c.target)
        if found is None:
            note = f"no {c.target!r} spec in this run"
            verdicts.append(_verdict(c, budget, None, NOT_MEASURED, note))
            continue
        if found.error:
            verdicts.append(_verdict(c, budget, None, FAIL, found.error))
            continue
        value = c.measure(found.metrics)
        if value is not None and not _is_number(value):
            note = "the run recorded a value that is not a number"
            verdicts.append(_verdict(c, budget, None, NOT_MEASURED, note))
            continue
        if value is None:
            note = str(found.metrics.get("reason", "the run did not measure it"))
            verdicts.append(_verdict(c, budget, None, NOT_MEASURED, note))
            continue
        # "zero leaks" is the one criterion met at its budget; the others are strict.
        ok = {"<": value < budget, "<=": value <= budget, ">=": value >= budget}[
            _verdict(c, budget, value, "").comparison
        ]
        note = c.explain(found.metrics) if c.explain else ""
        verdicts.append(_verdict(c, budget, value, PASS if ok else FAIL, note))
    return verdicts


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def gate_passed(verdicts: Iterable[Verdict]) -> bool:
    """True when every criterion passed or was skipped on request, and one at least passed: a
    gate that judged nothing (every criterion skipped) does not pass."""
    found = list(verdicts)
    return all(v.ok for v in found) and any(v.status == PASS for v in found)


def _verdict(
    c: Criterion, budget: float, measured: float | None, status: str, note: str = ""
) -> Verdict:
    return Verdict(c.key, c.title, budget, c.unit, c.upper, measured, status, note)
