"""Run one checked :class:`~perfkit.spec.Spec` and return its measurements as plain data.

Every runner is synchronous, takes a scratch directory for its SQLite files and returns a
JSON-serializable dict with a ``passed`` verdict (None when the spec sets no expectation).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import taskorch

from .fleets import concurrent_agents, task_graph
from .spec import ALIASES, Spec
from .workloads import WORKLOADS

__all__ = ["DEFAULT_LEAK_WORKLOADS", "run_spec"]

DEFAULT_LEAK_WORKLOADS = ("plan", "claim_complete", "context", "get", "publish", "encode_context")


def run_spec(spec: Spec, directory: Path) -> dict[str, Any]:
    """Run ``spec`` with its files under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    if spec.type == "benchmark":
        return run_benchmark(spec, directory)
    options = spec.options
    if spec.target == "concurrent_agents":
        return concurrent_agents(directory, options["agent_count"], options["duration_seconds"])
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
    samples: dict[str, list[int]] = {}
    with contextlib.ExitStack() as stack:
        steps = []
        for name, params in parts:
            merged = {**params, **spec.options["params"]}
            label = name + "".join(f" {k}={v}" for k, v in sorted(merged.items()))
            step = stack.enter_context(WORKLOADS[name].session(directory, **merged))
            for _ in range(min(20, max(1, iterations // 20))):  # warm caches and the page cache
                step()
            steps.append((label, step))
            samples[label] = []
        clock = time.perf_counter_ns
        for i in range(iterations):
            label, step = steps[i % len(steps)]
            start = clock()
            step()
            samples[label].append(clock() - start)
    every = [ns for values in samples.values() for ns in values]
    summary = _summary(every)
    expected = spec.options["expected_ms"]
    return {
        **summary,
        "iterations": iterations,
        "workloads": {label: _summary(values)["mean_ms"] for label, values in samples.items()},
        "expected_ms": expected,
        "passed": None if expected is None else summary["mean_ms"] < expected,
    }


def _first_params(name: str) -> dict[str, Any]:
    return {k: v[0] for k, v in WORKLOADS[name].params.items()}


def _summary(ns: list[int]) -> dict[str, float]:
    ordered = sorted(ns)
    mean = statistics.fmean(ordered)
    return {
        "mean_ms": mean / 1e6,
        "median_ms": statistics.median(ordered) / 1e6,
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] / 1e6,
        "min_ms": ordered[0] / 1e6,
        "max_ms": ordered[-1] / 1e6,
        "ops_per_second": 1e9 / mean if mean else 0.0,
    }


_BASELINE = """
import json, resource, sys, time
started = time.perf_counter()
import taskorch
imported = time.perf_counter() - started
from perfkit.workloads import independent
with taskorch.open(sys.argv[1]) as orch:
    orch.plan("baseline", independent(100))
    while (task := orch.claim("agent")) is not None:
        orch.context(task.id)
        orch.complete(task.id, "agent", result={"ok": True})
    orch.status()
try:  # this process's own high-water mark (ru_maxrss may carry the parent's over exec)
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = peak if sys.platform != "darwin" else peak / 1024
print(json.dumps({"peak_kb": peak, "import_seconds": imported}))
"""


def measure_baseline(directory: Path) -> dict[str, Any]:
    """Peak RSS of a fresh interpreter that imports taskorch, opens a store and works a plan."""
    root = str(Path(taskorch.__file__).resolve().parents[1])  # the engine this process runs
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    url = f"sqlite:///{directory / 'baseline.db'}"
    out = subprocess.run(
        [sys.executable, "-c", _BASELINE, url], capture_output=True, text=True, env=env, check=True
    )
    data = json.loads(out.stdout)
    return {
        "rss_mb": round(data["peak_kb"] / 1024, 1),
        "import_ms": round(data["import_seconds"] * 1e3, 1),
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
