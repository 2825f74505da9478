"""Run one checked :class:`~perfkit.validation.spec.Spec` and return its measurements as plain data.

Every runner is synchronous, takes a scratch directory for its SQLite files and returns a
JSON-serializable dict with a ``passed`` verdict (None when the spec sets no expectation).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import taskorch

from ..harness.memory import READY, run_measured
from ..harness.store import fresh_url
from ..harness.timing import summarize, time_round_robin
from ..workloads import WORKLOADS
from ..workloads.fleets import concurrent_agents, task_graph
from .capacity import agent_capacity
from .spec import ALIASES, Spec

__all__ = ["DEFAULT_LEAK_WORKLOADS", "run_spec"]

DEFAULT_LEAK_WORKLOADS = ("plan", "claim_complete", "context", "get", "publish", "encode_context")


def run_spec(spec: Spec, directory: Path) -> dict[str, Any]:
    """Run ``spec`` with its files under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    if spec.type == "benchmark":
        return run_benchmark(spec, directory)
    options = spec.options
    if spec.target == "concurrent_agents":
        return concurrent_agents(
            directory, options["agent_count"], options["duration_seconds"], options["work_ms"] / 1e3
        )
    if spec.target == "agent_capacity":
        return agent_capacity(directory, dict(options))
    if spec.target == "task_graph":
        return task_graph(directory, options["nodes"], options["agent_count"])
    if spec.target == "baseline":
        result = measure_baseline(directory)
        expected = spec.options["expected_mb"]
        return {**result, "passed": None if expected is None else result["rss_mb"] < expected}
    return check_leaks(spec, directory)


def run_benchmark(spec: Spec, directory: Path) -> dict[str, Any]:
    """Time ``iterations`` single operations, spread round-robin over the target's workloads."""
    parts = ALIASES.get(spec.target) or ((spec.target, _first_params(spec.target)),)
    iterations = spec.options["iterations"]
    with contextlib.ExitStack() as stack:
        steps = {}
        for name, params in parts:
            merged = {**params, **spec.options["params"]}
            label = name + "".join(f" {k}={v}" for k, v in sorted(merged.items()))
            steps[label] = stack.enter_context(WORKLOADS[name].session(directory, **merged))
        # warm-up fills the caches and the page cache
        times = time_round_robin(steps, iterations, warmup=min(20, max(1, iterations // 20)))
    summary = summarize([t for values in times.values() for t in values]).as_ms()
    expected = spec.options["expected_ms"]
    return {
        **summary,
        "iterations": iterations,
        "workloads": {
            label: summarize(values).as_ms()["mean_ms"] for label, values in times.items() if values
        },
        "expected_ms": expected,
        "passed": None if expected is None else summary["mean_ms"] < expected,
    }


def _first_params(name: str) -> dict[str, Any]:
    return {k: v[0] for k, v in WORKLOADS[name].params.items()}


# A fresh interpreter: the import and a small plan worked to its end, then it waits to be
# measured by its parent (it imports nothing for the measuring).
_BASELINE = f"""
import sys, time
started = time.perf_counter()
import taskorch
imported = time.perf_counter() - started
from perfkit.workloads.plans import independent
with taskorch.open(sys.argv[1]) as orch:
    orch.plan("baseline", independent(100))
    while (task := orch.claim("agent")) is not None:
        orch.context(task.id)
        orch.complete(task.id, "agent", result={{"ok": True}})
    orch.status()
    print(imported)
    print({READY!r}, flush=True)
    sys.stdin.readline()
"""


def measure_baseline(directory: Path) -> dict[str, Any]:
    """Peak RSS of a fresh interpreter that imports taskorch, opens a store and works a plan."""
    root = str(Path(taskorch.__file__).resolve().parents[1])  # the engine this process runs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    url = fresh_url(directory, "baseline")
    run = run_measured([sys.executable, "-c", _BASELINE, url], env=env)
    if run.returncode != 0 or run.memory is None:
        raise RuntimeError(f"the baseline process failed: {run.stderr[-2000:]}")
    return {
        "rss_mb": round(run.memory.peak_mib, 1),
        "import_ms": round(float(run.stdout.split()[0]) * 1e3, 1),
        "what": "peak RSS of a fresh process: import, open, plan 100 subtasks and work them",
    }


def check_leaks(spec: Spec, directory: Path) -> dict[str, Any]:
    """Run leakcheck over core-operation workloads; ``measured`` is False when it is missing."""
    try:
        leakcheck: Any = importlib.import_module("leakcheck")
    except ImportError as exc:
        return {
            "measured": False,
            "passed": None,
            "reason": f"leakcheck is not importable ({exc}); it ships in the repository's"
            " leakcheck/ folder and needs memray (pip install 'taskorch[perf]')",
        }
    names = spec.options["workloads"] or list(DEFAULT_LEAK_WORKLOADS)
    reports = {}
    for name in names:
        params = _first_params(name)

        def session(scratch: Path, name: str = name, params: dict[str, Any] = params) -> Any:
            return WORKLOADS[name].session(scratch, **params)

        report = leakcheck.check_session(session, iterations=spec.options["iterations"], name=name)
        reports[name] = {
            "leaked": bool(report.leaked),
            "bytes_per_iteration": float(report.bytes_per_iteration),
        }
    leaking = sorted(name for name, r in reports.items() if r["leaked"])
    return {
        "measured": True,
        "workloads": reports,
        "leaks": len(leaking),
        "leaking": leaking,
        "passed": not leaking,
    }
