"""Performance test specs are checked before anything runs, naming the bad field."""

from __future__ import annotations

from typing import Any

import pytest

import taskorch
from perfkit import VALIDATION_SPECS, InvalidSpecError, parse_specs

BENCH = {"type": "benchmark", "target": "task_creation", "iterations": 10}


def test_the_validation_specs_are_accepted_with_defaults_filled_in() -> None:
    specs = parse_specs(VALIDATION_SPECS)
    assert [s.target for s in specs] == [
        "task_creation", "database_operations", "concurrent_agents", "baseline", "leaks"
    ]  # fmt: skip
    assert specs[0].options == {"iterations": 1000, "expected_ms": 10.0, "params": {}}
    assert specs[2].options == {"agent_count": 100, "duration_seconds": 60.0, "work_ms": 50.0}


def test_every_shared_workload_is_a_benchmark_target() -> None:
    spec = parse_specs([{**BENCH, "target": "get", "params": {"n": 100_000}}])[0]
    assert spec.options["params"] == {"n": 100_000}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"type": "benchmrk"}, "type", "expected one of"),
        ({"target": "teleport"}, "target", "targets one of"),
        ({"iterations": -5}, "iterations", "must be between 1 and"),
        ({"iterations": 0}, "iterations", "must be between 1 and"),
        ({"iterations": 10**30}, "iterations", "must be between 1 and"),
        ({"iterations": 2.5}, "iterations", "must be an integer"),
        ({"iterations": True}, "iterations", "must be an integer"),
        ({"expected_ms": -1}, "expected_ms", "finite number above 0"),
        ({"expected_ms": float("nan")}, "expected_ms", "finite number above 0"),
        ({"expected_ms": float("inf")}, "expected_ms", "finite number above 0"),
        ({"expected_ms": "fast"}, "expected_ms", "must be a number"),
        ({"agent_count": 5}, "agent_count", "not a field"),
        ({"params": {"x": 1}}, "params", "not parameters of"),
        ({"name": ""}, "name", "non-empty"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidSpecError) as info:
        parse_specs([{**BENCH, "iterations": 10}, {**BENCH, **change}])
    assert info.value.field == field and info.value.index == 1
    assert f"spec 1: {field!r}" in str(info.value) and words in str(info.value)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"target": "task_creation", "iterations": 1}, "type"),
        ({"type": "benchmark", "iterations": 1}, "target"),
        ({"type": "benchmark", "target": "task_creation"}, "iterations"),
        ({"type": "stress_test", "target": "concurrent_agents", "agent_count": 50},
         "duration_seconds"),
        ({"type": "stress_test", "target": "concurrent_agents", "duration_seconds": 1},
         "agent_count"),
        ({"type": "stress_test", "target": "concurrent_agents", "agent_count": -50,
          "duration_seconds": 1}, "agent_count"),
    ],
)  # fmt: skip
def test_missing_or_negative_fields_are_refused(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSpecError, match=repr(field)) as info:
        parse_specs([spec])
    assert info.value.field == field


def test_spec_errors_belong_to_taskorchs_tree_and_are_value_errors() -> None:
    with pytest.raises(taskorch.TaskorchError):
        parse_specs(["not a mapping"])
    with pytest.raises(ValueError, match="'tasks' must be a list"):
        parse_specs({"type": "benchmark"})  # type: ignore[arg-type]


STRESS = {"type": "stress_test", "target": "concurrent_agents", "agent_count": 2}


@pytest.mark.parametrize(
    "duration", [float("inf"), float("nan"), -1.0, 0, 10**9, "60", True], ids=repr
)
def test_a_stress_run_without_a_finite_bounded_duration_is_refused(duration: object) -> None:
    with pytest.raises(InvalidSpecError, match="'duration_seconds'") as info:
        parse_specs([{**STRESS, "duration_seconds": duration}])
    assert info.value.field == "duration_seconds"


@pytest.mark.parametrize(
    ("target", "params", "words"),
    [
        ("plan", {"n": 10**30}, "between 1 and 1,000,000"),
        ("plan", {"n": -3}, "between 1 and"),
        ("plan", {"n": 0}, "between 1 and"),
        ("get", {"n": 2.5}, "must be an integer"),
        ("get", {"n": "1000"}, "must be an integer"),
        ("get", {"n": True}, "must be an integer"),
        ("publish", {"subscribers": -1}, "between 0 and"),
        ("agent_fleet", {"agents": 10**6}, "between 1 and"),
        ("context", {"cached": "yes"}, "true or false"),
    ],
)
def test_workload_parameters_are_checked_before_anything_runs(
    target: str, params: dict[str, Any], words: str
) -> None:
    name = next(iter(params))
    with pytest.raises(InvalidSpecError, match=f"params.{name}") as info:
        parse_specs([BENCH, {**BENCH, "target": target, "params": params}])
    assert info.value.index == 1 and words in str(info.value)


def test_every_declared_workload_parameter_is_accepted() -> None:
    from perfkit.workloads import WORKLOADS

    for name, workload in WORKLOADS.items():
        for param, values in workload.params.items():
            for value in values:
                parse_specs([{**BENCH, "target": name, "params": {param: value}}])


def test_a_leak_spec_needs_enough_iterations_for_its_segments() -> None:
    with pytest.raises(InvalidSpecError, match="between 16 and"):
        parse_specs([{"type": "memory", "target": "leaks", "iterations": 5}])


CAPACITY = {"type": "stress_test", "target": "agent_capacity"}


def test_a_capacity_search_spec_fills_in_its_defaults() -> None:
    [spec] = parse_specs([CAPACITY])
    assert spec.options == {
        "start_agents": 50, "max_agents": 3200, "probe_seconds": 3.0,
        "budget_seconds": 60.0, "work_ms": 50.0, "min_working": 0.9,
    }  # fmt: skip
    [spec] = parse_specs([{**CAPACITY, "work_ms": 0, "start_agents": 8, "max_agents": 8}])
    assert spec.options["work_ms"] == 0.0 and spec.options["max_agents"] == 8


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"start_agents": 0}, "start_agents", "between 1 and"),
        ({"start_agents": 2.5}, "start_agents", "must be an integer"),
        ({"max_agents": 10**6}, "max_agents", "between 1 and"),
        ({"start_agents": 100, "max_agents": 64}, "max_agents", "below start_agents"),
        ({"probe_seconds": 0}, "probe_seconds", "finite number above 0"),
        ({"budget_seconds": float("inf")}, "budget_seconds", "finite number above 0"),
        ({"budget_seconds": "soon"}, "budget_seconds", "must be a number"),
        ({"work_ms": -1}, "work_ms", "at least 0"),
        ({"work_ms": float("nan")}, "work_ms", "at least 0"),
        ({"min_working": 0}, "min_working", "above 0, at most 1"),
        ({"min_working": 1.5}, "min_working", "above 0, at most 1"),
        ({"min_working": True}, "min_working", "must be a number"),
        ({"agent_count": 5}, "agent_count", "not a field"),
    ],
)
def test_a_bad_capacity_field_is_named(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidSpecError) as info:
        parse_specs([{**CAPACITY, **change}])
    assert info.value.field == field and words in str(info.value)


@pytest.mark.parametrize("work", [-0.5, float("inf"), 60_001, "fast"], ids=repr)
def test_a_bad_work_time_of_the_concurrent_agents_run_is_named(work: object) -> None:
    with pytest.raises(InvalidSpecError, match="'work_ms'") as info:
        parse_specs([{**STRESS, "duration_seconds": 1, "work_ms": work}])
    assert info.value.field == "work_ms"
