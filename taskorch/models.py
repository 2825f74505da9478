"""Immutable value objects returned by the orchestrator."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, NamedTuple


class TaskStatus(enum.StrEnum):
    """The life cycle of a task.

    A subtask is PENDING until its dependencies complete, then READY; an agent's claim makes it
    CLAIMED; it ends COMPLETED, FAILED, BLOCKED (a dependency failed) or CANCELLED. A plan's parent
    task is ACTIVE until every subtask has ended, then COMPLETED (all completed), FAILED or
    CANCELLED.
    """

    PENDING = "pending"
    READY = "ready"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    ACTIVE = "active"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


STATUS_BY_VALUE = {s.value: s for s in TaskStatus}

_TERMINAL = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.CANCELLED}
)


class Task(NamedTuple):
    """A task as stored; immutable. A plan's parent has ``parent_id`` None and its goal as
    ``title``. (A named tuple rather than a frozen dataclass: it is built on every read, and
    building a frozen dataclass of 15 fields costs more than the read itself.)"""

    id: int
    parent_id: int | None
    key: str | None
    title: str
    specialist: str | None
    description: str
    status: TaskStatus
    agent: str | None
    lease_expires: float | None
    attempts: int
    result: Any
    error: str | None
    artifacts: tuple[Any, ...]
    created_at: float
    updated_at: float

    @property
    def is_parent(self) -> bool:
        return self.parent_id is None


@dataclass(frozen=True, slots=True)
class Plan:
    """What :meth:`Orchestrator.plan` wrote: the parent task and the subtasks in given order."""

    parent_id: int
    task_ids: tuple[int, ...]
    keys: tuple[str, ...]

    def id_of(self, key: str) -> int:
        """The task id of the subtask with this key."""
        return self.task_ids[self.keys.index(key)]


@dataclass(frozen=True, slots=True)
class Status:
    """Counts of tasks by state over the whole store (parents counted apart from subtasks)."""

    subtasks: dict[str, int]
    plans: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.subtasks.values())

    def __getitem__(self, status: str) -> int:
        return self.subtasks.get(str(status), 0)

    def as_dict(self) -> dict[str, Any]:
        return {"subtasks": dict(self.subtasks), "plans": dict(self.plans), "total": self.total}
