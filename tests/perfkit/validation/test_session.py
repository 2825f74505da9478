"""Specs run as the subtasks of a plan in the orchestrator itself, results stored."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import taskorch
from perfkit import InvalidSpecError, OrchestrationSession, SessionResults
from perfkit.harness.store import fresh_url
from perfkit.validation.runners import run_spec
from perfkit.validation.spec import Spec, parse_spec
from perfkit.workloads.fleets import timed_fleet
from tests.support import ROOT


def run(session: OrchestrationSession, specs: list[dict[str, object]]) -> SessionResults:
    return asyncio.run(session.execute_performance_tests(specs))


def test_each_spec_is_a_completed_subtask_holding_its_measurements(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/record.db"
    lines: list[str] = []
    session = OrchestrationSession(
        session_id="t", description="unit run", db=url, progress=lines.append
    )
    results = run(session, [
        {"type": "benchmark", "target": "task_creation", "iterations": 20, "expected_ms": 1000},
        {"type": "benchmark", "target": "database_operations", "iterations": 30},
        {"type": "stress_test", "target": "task_graph", "nodes": 50},
    ])  # fmt: skip
    assert [r.passed for r in results.results] == [True, None, True]
    creation = results.by_target("task_creation")
    assert creation is not None and creation.metrics["iterations"] == 20
    assert 0 < creation.metrics["min_ms"] <= creation.metrics["mean_ms"]
    assert set(results.results[1].metrics["workloads"]) == {
        "get n=1000", "status n=1000", "ready_query n=1000"
    }  # fmt: skip
    with taskorch.open(url) as orch:
        summary = orch.synthesize(results.plan_id)
    assert summary["goal"] == "unit run" and summary["status"] == "completed"
    assert [r["result"]["passed"] for r in summary["results"]] == [True, None, True]
    assert summary["context"]["session_id"] == "t"
    assert len(lines) == 6
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("taskorch-perf-")]


def test_a_malformed_spec_refuses_the_whole_run_before_anything_is_written(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/record.db"
    session = OrchestrationSession(session_id="t", db=url)
    good = {"type": "benchmark", "target": "task_creation", "iterations": 5}
    with pytest.raises(InvalidSpecError, match="'iterations'"):
        run(session, [good, {**good, "iterations": -1}])
    assert not (tmp_path / "record.db").exists()


def test_a_spec_that_raises_is_recorded_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(spec: object, directory: Path) -> dict[str, object]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("perfkit.validation.session.run_spec", broken)
    url = f"sqlite:///{tmp_path}/record.db"
    results = run(OrchestrationSession(session_id="t", db=url), [
        {"type": "benchmark", "target": "task_creation", "iterations": 5}
    ])  # fmt: skip
    [result] = results.results
    assert result.passed is False and result.error == "RuntimeError: disk on fire"
    with taskorch.open(url) as orch:
        assert orch.get(result.task_id).status == "failed"


def test_results_round_trip_through_json(tmp_path: Path) -> None:
    results = run(OrchestrationSession(session_id="t", workdir=tmp_path), [
        {"type": "benchmark", "target": "event_bus", "iterations": 10}
    ])  # fmt: skip
    data = results.as_dict()
    assert SessionResults.from_dict(data).as_dict() == data


def test_fifty_agents_work_concurrently_without_double_claims(tmp_path: Path) -> None:
    spec = parse_spec(
        {"type": "stress_test", "target": "concurrent_agents", "agent_count": 50,
         "duration_seconds": 1}
    )  # fmt: skip
    out = run_spec(spec, tmp_path)
    assert out["passed"] and out["agent_count"] == 50 and out["active_agents"] == 50
    assert (out["double_claims"], out["lost_tasks"], out["errors"]) == (0, 0, 0)
    assert out["loops"] >= 50 and out["invariants"].endswith(": ok")
    # measured inside the handler: never above the configured count, and (each call awaiting
    # its 50 ms of work) more than one at a time
    assert 1 < out["working_peak"] <= 50 and 0 <= out["working_median"] <= out["working_peak"]
    assert 0 < out["working_seconds"] <= 1.0


def test_a_handler_that_never_awaits_is_not_counted_as_many_agents_at_once(
    tmp_path: Path,
) -> None:
    spec = parse_spec({"type": "stress_test", "target": "concurrent_agents", "agent_count": 20,
                       "duration_seconds": 0.5, "work_ms": 0})  # fmt: skip
    out = run_spec(spec, tmp_path)
    assert out["passed"] and out["active_agents"] == 20  # all did work, but in turn:
    assert out["working_median"] <= 1  # only the one planning the next goal ever awaits


def test_a_timed_fleet_plans_as_it_goes_and_checks_every_goal(tmp_path: Path) -> None:
    with taskorch.open(fresh_url(tmp_path, "t")) as orch:
        outcome = asyncio.run(timed_fleet(orch, 4, 0.5, goal_size=1))
        status = orch.status()
    assert outcome.sound, str(outcome.invariants)
    completed = outcome.report.counters.completed
    assert outcome.invariants.tasks == status.total  # the check saw every goal planned
    assert outcome.invariants.completed == completed == status["completed"] > 0
    assert status.total == 4 + 3 + completed  # 7 goals before the start, then one per loop


def test_leak_spec_without_leakcheck_is_not_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    real = importlib.import_module

    def no_leakcheck(name: str, package: str | None = None) -> object:
        if name == "leakcheck":
            raise ImportError("No module named 'leakcheck'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_leakcheck)
    out = run_spec(parse_spec({"type": "memory", "target": "leaks"}), tmp_path)
    assert out["measured"] is False and out["passed"] is None
    assert "leakcheck" in out["reason"]


def test_the_readme_perf_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "perf" in b]
    seen: list[str] = []

    def fake(spec: Spec, directory: Path) -> dict[str, object]:  # the real runs take a minute
        seen.append(spec.target)
        return {"mean_ms": 0.1, "active_agents": 50, "double_claims": 0, "lost_tasks": 0,
                "errors": 0, "passed": True}  # fmt: skip

    monkeypatch.setattr("perfkit.validation.session.run_spec", fake)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    report = asyncio.run(namespace["validate_performance"]())
    assert seen == ["task_creation", "database_operations", "concurrent_agents"]
    assert [v.status for v in report.verdicts][:3] == ["pass", "pass", "pass"]


def test_the_baseline_is_the_fresh_process_own_peak_not_its_parents(tmp_path: Path) -> None:
    from perfkit.validation.runners import measure_baseline

    ballast = b"x" * (300 * 2**20)  # the parent holds 300 MB while the child runs
    result = measure_baseline(tmp_path)
    assert len(ballast) and 0 < result["rss_mb"] < 200
