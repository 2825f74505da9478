"""What both SQL backends share: the table, row decoding, ordering and the count arithmetic."""

from __future__ import annotations

import re

from taskorch import Task, TaskStatus
from taskorch.store import rows


def row(task_id: int, status: str = "ready", result: str | None = None) -> tuple[object, ...]:
    return (task_id, 1, f"k{task_id}", "t", "s", "", status, None, None, 0, result, None, None,
            1.0, 2.0)  # fmt: skip


def test_the_columns_read_are_columns_of_the_table() -> None:
    table = rows.tasks_table(id="INTEGER", id_list="TEXT", time="REAL")
    defined = re.findall(r"^\s+(\w+) [A-Z]", table, re.M)
    read = [c.strip() for c in rows.COLUMNS.split(",")]
    assert len(read) == len(Task._fields) and set(read) <= set(defined)
    assert "{" not in table


def test_a_row_decodes_into_a_task_with_its_json_values() -> None:
    raw = (7, 1, "k", "title", "coder", "d", "completed", "a1", None, 2, '{"n": 1}', None,
           '["x.txt"]', 1.0, 2.0)  # fmt: skip
    task = rows.decode_task(raw)
    assert type(task) is Task
    assert task.status is TaskStatus.COMPLETED and task.result == {"n": 1}
    assert task.artifacts == ("x.txt",) and (task.id, task.attempts, task.updated_at) == (7, 2, 2.0)
    assert rows.decode_task(row(8)).artifacts == () and rows.decode_task(row(8)).result is None


def test_in_order_follows_the_ids_asked_for() -> None:
    found = [row(3), row(1), row(2)]
    assert [t.id for t in rows.in_order([2, 9, 3, 1], found)] == [2, 3, 1]
    assert rows.in_order([], found) == []


def test_a_plans_context_decodes_and_missing_is_none() -> None:
    assert rows.decode_context(('{"repo": "r"}',)) == {"repo": "r"}
    assert rows.decode_context((None,)) is None and rows.decode_context(None) is None


def test_status_counts_from_indexed_states_and_plan_totals() -> None:
    # Plan A (active, 5 subtasks): 2 ready, 1 claimed, 1 pending, 1 completed, so waiting = 4.
    # Plan B (failed, 3): 1 failed, 1 blocked, 1 completed. Plan C (cancelled, 2): 2 cancelled.
    # The index counts parents too: B's parent is failed, C's cancelled.
    states = {"ready": 2, "claimed": 1, "failed": 2, "blocked": 1, "cancelled": 3}
    plans = [("active", 1, 5), ("failed", 1, 3), ("cancelled", 1, 2)]
    subtasks, by_plan = rows.status_counts(states, plans, unfinished=4)
    assert subtasks == {
        "ready": 2, "claimed": 1, "failed": 1, "blocked": 1, "cancelled": 2, "pending": 1,
        "completed": 2,
    }  # fmt: skip
    assert by_plan == {"active": 1, "failed": 1, "cancelled": 1}
    assert rows.status_counts({}, [], 0) == ({}, {})


def test_a_new_plan_without_subtasks_is_complete() -> None:
    assert rows.new_plan_status(0) == "completed" and rows.new_plan_status(3) == "active"
