"""The generated plans: their shapes, and that the engine accepts them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import taskorch
from perfkit.workloads.plans import demo_subtasks, independent, subtasks


def test_subtasks_form_a_tree_of_dependencies_on_earlier_keys() -> None:
    spec = subtasks(7, prefix="p")
    assert [s["key"] for s in spec] == [f"p{i}" for i in range(7)]
    assert [s["depends_on"] for s in spec] == [[], ["p0"], ["p0"], ["p1"], ["p1"], ["p2"], ["p2"]]
    assert {s["specialist"] for s in spec} == {"researcher", "implementer", "tester"}
    assert [len(s["depends_on"]) for s in subtasks(5, fan_in=2)] == [0, 1, 1, 2, 1]


def test_independent_subtasks_are_all_ready_at_once() -> None:
    with taskorch.open("sqlite:///:memory:") as orch:
        orch.plan("g", independent(25))
        assert orch.status()["ready"] == 25


def test_demo_subtasks_depend_on_the_layer_before() -> None:
    spec = demo_subtasks(30, fan_in=2, width=10)
    layer = {s["key"]: int(s["key"][1:]) // 10 for s in spec}
    assert all(not s["depends_on"] for s in spec[:10])
    for s in spec[10:]:
        assert len(s["depends_on"]) == 2
        assert {layer[d] for d in s["depends_on"]} == {layer[s["key"]] - 1}
    assert all(not s["depends_on"] for s in demo_subtasks(30))


Spec = Callable[[], list[dict[str, Any]]]


@pytest.mark.parametrize(
    "make", [lambda: subtasks(200, fan_in=3), lambda: demo_subtasks(200, 3, 20)]
)
def test_the_engine_plans_them_and_drains_them_in_order(make: Spec) -> None:
    with taskorch.open("sqlite:///:memory:") as orch:
        plan = orch.plan("g", make())
        done = 0
        while (task := orch.claim("a")) is not None:
            orch.complete(task.id, "a")
            done += 1
        assert done == len(plan.task_ids) == 200


@pytest.mark.parametrize(
    "call",
    [lambda: subtasks(-1), lambda: independent(True), lambda: demo_subtasks(3, width=0),
     lambda: subtasks(3, fan_in=-2)],
)  # fmt: skip
def test_bad_sizes_are_refused(call: Spec) -> None:
    with pytest.raises(ValueError, match="must be"):
        call()
