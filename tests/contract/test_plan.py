"""Planning: what is written, and what is refused with nothing written."""

from __future__ import annotations

from typing import Any

import pytest

import taskorch
from taskorch import TaskStatus
from tests.support import chain


def test_plan_writes_parent_and_subtasks_in_given_order(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "goal",
        [
            {"key": "b", "title": "B", "specialist": "s", "depends_on": ["a"]},
            {"key": "a", "title": "A", "specialist": "t", "description": "first"},
        ],
        context={"repo": "x"},
    )
    assert plan.keys == ("b", "a")
    b, a = (orch.get(i) for i in plan.task_ids)
    assert (b.key, b.status, b.parent_id) == ("b", TaskStatus.PENDING, plan.parent_id)
    assert (a.key, a.status, a.description) == ("a", TaskStatus.READY, "first")
    parent = orch.get(plan.parent_id)
    assert parent.is_parent and parent.title == "goal" and parent.status is TaskStatus.ACTIVE
    assert [t.id for t in orch.subtasks(plan.parent_id)] == list(plan.task_ids)
    assert plan.id_of("a") == a.id


def test_empty_plan_is_complete_at_once(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("nothing to do", [])
    assert orch.get(plan.parent_id).status is TaskStatus.COMPLETED
    assert orch.synthesize(plan.parent_id)["results"] == []


def _nothing_written(orch: taskorch.Orchestrator) -> None:
    assert orch.status().total == 0
    assert orch.tasks() == []


@pytest.mark.parametrize(
    ("subtasks", "error", "message"),
    [
        (
            [
                {"key": "a", "title": "A", "specialist": "s", "depends_on": ["c"]},
                {"key": "b", "title": "B", "specialist": "s", "depends_on": ["a"]},
                {"key": "c", "title": "C", "specialist": "s", "depends_on": ["b"]},
            ],
            taskorch.CycleError,
            "cycle",
        ),
        (
            [{"key": "a", "title": "A", "specialist": "s", "depends_on": ["a"]}],
            taskorch.CycleError,
            "a -> a",
        ),
        (
            [{"key": "a", "title": "A", "specialist": "s", "depends_on": ["nope"]}],
            taskorch.UnknownDependencyError,
            "'nope'",
        ),
        ([{"key": "a", "specialist": "s"}], taskorch.InvalidSubtaskError, "'title'"),
        ([{"title": "A", "specialist": "s"}], taskorch.InvalidSubtaskError, "'key'"),
        ([{"key": "a", "title": "A"}], taskorch.InvalidSubtaskError, "'specialist'"),
        ([{"key": "a", "title": "", "specialist": "s"}], taskorch.InvalidSubtaskError, "title"),
        ([{"key": "a", "title": 3, "specialist": "s"}], taskorch.InvalidSubtaskError, "title"),
        (
            [{"key": "a", "title": "A", "specialist": "s", "depends": ["x"]}],
            taskorch.InvalidSubtaskError,
            "unknown field",
        ),
        (
            [{"key": "a", "title": "A", "specialist": "s", "depends_on": "b"}],
            taskorch.InvalidSubtaskError,
            "list of keys",
        ),
        (
            [
                {"key": "a", "title": "A", "specialist": "s"},
                {"key": "a", "title": "A again", "specialist": "s"},
            ],
            taskorch.InvalidSubtaskError,
            "more than once",
        ),
        (["not a mapping"], taskorch.InvalidSubtaskError, "expected a mapping"),
        ("abc", taskorch.InvalidSubtaskError, "list of mappings"),
    ],
)
def test_bad_plans_are_refused_and_write_nothing(
    orch: taskorch.Orchestrator, subtasks: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        orch.plan("goal", subtasks)
    assert issubclass(error, taskorch.PlanError)
    _nothing_written(orch)


@pytest.mark.parametrize("depends_on", [0, False, "", {"a"}, {"a": 1}, 1.5])
def test_depends_on_that_is_not_a_list_is_refused_naming_the_subtask(
    orch: taskorch.Orchestrator, depends_on: Any
) -> None:
    subtasks = [
        {"key": "a", "title": "A", "specialist": "s"},
        {"key": "b", "title": "B", "specialist": "s", "depends_on": depends_on},
    ]
    with pytest.raises(taskorch.InvalidSubtaskError, match=r"^subtask 1: 'depends_on' must be a"):
        orch.plan("goal", subtasks)
    _nothing_written(orch)


def test_depends_on_may_be_a_tuple_or_none(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "goal",
        [
            {"key": "a", "title": "A", "specialist": "s", "depends_on": None},
            {"key": "b", "title": "B", "specialist": "s", "depends_on": ("a",)},
        ],
    )
    assert [t.status for t in orch.subtasks(plan.parent_id)] == [
        TaskStatus.READY,
        TaskStatus.PENDING,
    ]


def test_unserializable_context_is_refused(orch: taskorch.Orchestrator) -> None:
    with pytest.raises(taskorch.InvalidArgumentError, match=r"^context: .*JSON") as caught:
        orch.plan("goal", chain(2), context={"x": object()})
    assert caught.value.argument == "context"
    _nothing_written(orch)


def test_empty_goal_is_refused(orch: taskorch.Orchestrator) -> None:
    for goal in ("", None, 5):
        with pytest.raises(taskorch.InvalidArgumentError, match=r"^goal: ") as caught:
            orch.plan(goal, chain(1))  # type: ignore[arg-type]
        assert caught.value.argument == "goal"
    _nothing_written(orch)


def test_cycle_error_names_the_cycle(orch: taskorch.Orchestrator) -> None:
    subtasks = chain(5)
    subtasks[1]["depends_on"] = ["k0", "k3"]
    with pytest.raises(taskorch.CycleError) as info:
        orch.plan("goal", subtasks)
    assert set(info.value.cycle) == {"k1", "k2", "k3"}


def test_plans_get_independent_id_ranges(orch: taskorch.Orchestrator) -> None:
    first = orch.plan("one", chain(3))
    second = orch.plan("two", chain(2))
    assert set(first.task_ids).isdisjoint(second.task_ids)
    assert [t.key for t in orch.subtasks(second.parent_id)] == ["k0", "k1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("key", 5), ("description", None), ("specialist", "a\x00"),
     ("depends_on", "k0"), ("depends_on", ["k0", 1]), ("depends", ["k0"])],
)  # fmt: skip
def test_a_bad_field_in_a_large_plan_is_refused_and_writes_nothing(
    orch: taskorch.Orchestrator, field: str, value: Any
) -> None:
    subtasks = chain(50)
    subtasks[37][field] = value
    with pytest.raises(taskorch.InvalidSubtaskError, match=r"^subtask 37: ") as info:
        orch.plan("goal", subtasks)
    assert repr(field) in str(info.value)
    _nothing_written(orch)


def test_a_large_tree_is_drained_in_dependency_order(orch: taskorch.Orchestrator) -> None:
    n = 300
    subtasks: list[dict[str, Any]] = [
        {"key": f"k{i}", "title": f"t{i}", "specialist": "s",
         "depends_on": [f"k{(i - 1) // 2}"] if i else []}
        for i in range(n)
    ]  # fmt: skip
    plan = orch.plan("goal", subtasks)
    assert plan.keys == tuple(s["key"] for s in subtasks)
    done: set[str] = set()
    while (task := orch.claim("agent")) is not None:
        dependencies = orch.context(task.id)["dependencies"]
        assert [d["key"] for d in dependencies] == subtasks[plan.task_ids.index(task.id)][
            "depends_on"
        ]
        assert all(d["key"] in done for d in dependencies)
        orch.complete(task.id, "agent", result=task.key)
        done.add(str(task.key))
    assert len(done) == n
    assert orch.get(plan.parent_id).status is TaskStatus.COMPLETED
