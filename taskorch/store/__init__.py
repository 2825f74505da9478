"""The storage contract and the backends that fulfil it, picked by URL scheme.

The engine talks to a :class:`Store` only. Each backend module is imported when its scheme is first
used, so an optional driver is needed only by those who use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

from ..errors import ConfigurationError, InvalidArgumentError
from ..models import Task

BACKENDS = {
    "sqlite": ("taskorch.store.sqlite", "SQLiteStore", None),
    "postgresql": ("taskorch.store.postgres", "PostgresStore", "taskorch[postgres]"),
    "postgres": ("taskorch.store.postgres", "PostgresStore", "taskorch[postgres]"),
}


class NewSubtasks(NamedTuple):
    """A plan's subtasks as the engine hands them to a store, checked, field by field: entry ``i``
    of each sequence belongs to subtask ``i`` (columns, not a row object per subtask: plans of
    100k subtasks go through here). Dependencies are indices into the plan's subtasks, written
    as JSON lists (``[]`` for none), the form the SQLite backend stores. (A named tuple: a frozen
    dataclass costs more to build than planning one subtask.)"""

    keys: Sequence[str]
    titles: Sequence[str]
    specialists: Sequence[str]
    descriptions: Sequence[str]
    waiting: Sequence[int]  # how many subtasks each depends on
    deps: Sequence[str]  # the indices of those subtasks, as a JSON list
    dependents: Sequence[str]  # the indices of the subtasks that depend on each, likewise


@dataclass(frozen=True, slots=True)
class Finished:
    """What a store reports after completing or failing a task."""

    parent_id: int
    plan_status: str  # the parent's status afterwards: "active" while subtasks remain


@runtime_checkable
class Store(Protocol):
    """What a backend provides. Every write is one transaction; ``now`` comes from the engine's
    clock so that leases can be tested without sleeping.

    Methods that act on a claim return None when the task is not claimed by ``agent`` with a live
    lease; the engine then reads the task to say precisely why.
    """

    url: str
    #: Whether threads may share the store without the engine's lock: true for a store that gives
    #: each thread a connection of its own; false where one connection serves every call.
    thread_safe: bool

    def describe(self) -> str:
        """Where the data lives, for error messages: a file, or a server and schema (never a
        password)."""
        ...

    def transaction(self, write: bool = True) -> AbstractContextManager[None]:
        """Group the operations run inside into one transaction (nested use is allowed)."""
        ...

    def insert_plan(
        self, goal: str, context: str | None, subtasks: NewSubtasks, now: float
    ) -> tuple[int, list[int]]: ...

    def claim(
        self, agent: str, specialist: str | None, now: float, lease_until: float
    ) -> Task | None: ...

    def reclaim_expired(self, now: float) -> int:
        """Make claimed tasks whose lease ran out ready again; returns how many."""
        ...

    def complete(
        self, task_id: int, agent: str, result: str | None, artifacts: str | None, now: float
    ) -> Finished | None: ...

    def fail(self, task_id: int, agent: str, error: str, now: float) -> Finished | None: ...

    def retry(self, task_id: int, agent: str, error: str, now: float) -> bool: ...

    def renew(self, task_id: int, agent: str, now: float, lease_until: float) -> bool: ...

    def release(self, task_id: int, agent: str, now: float) -> bool: ...

    def cancel(self, parent_id: int, now: float) -> int: ...

    def get(self, task_id: int) -> Task | None: ...

    def get_many(self, task_ids: Sequence[int]) -> list[Task]: ...

    def dependencies(self, task_id: int) -> list[Task]: ...

    def plan_context(self, parent_id: int) -> Any: ...

    def subtasks(self, parent_id: int) -> list[Task]: ...

    def list_tasks(self, status: str | None, after_id: int, limit: int) -> list[Task]: ...

    def counts(self) -> tuple[dict[str, int], dict[str, int]]: ...

    def close(self) -> None: ...


def open_store(url: str, **options: Any) -> Store:
    """The store for ``url`` (``sqlite:///path``, ``postgresql://…``). Each backend lists the
    keyword options it takes in ``OPTIONS``; their values are checked by :mod:`taskorch.checks`."""
    if not isinstance(url, str) or not url:
        raise InvalidArgumentError("url", f"must be a database URL (a string), got {url!r:.60}")
    scheme, sep, _ = url.partition("://")
    scheme = scheme.split("+", 1)[0].lower()
    if not sep or scheme not in BACKENDS:
        known = ", ".join(sorted(f"{s}://" for s in BACKENDS))
        raise ConfigurationError(f"unsupported database URL {url!r}; use one of: {known}")
    module_name, class_name, extra = BACKENDS[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"; install it with: pip install '{extra}'" if extra else ""
        raise ConfigurationError(f"the {scheme} backend is not available ({exc}){hint}") from exc
    backend = getattr(module, class_name)
    unknown = set(options) - backend.OPTIONS
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {sorted(unknown)} for {scheme}; use: {sorted(backend.OPTIONS)}"
        )
    store: Store = backend(url, **options)
    return store
