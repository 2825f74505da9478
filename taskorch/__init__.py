"""taskorch: a fast, embeddable task orchestrator for agent workflows.

>>> import taskorch
>>> with taskorch.open("sqlite:///:memory:") as orch:
...     plan = orch.plan("ship it", [{"key": "a", "title": "write", "specialist": "coder"}])
...     task = orch.claim("agent-1")
...     orch.complete(task.id, "agent-1", result="done")
...     orch.synthesize(plan.parent_id)["status"]
'completed'
"""

from __future__ import annotations

from typing import Any

from .engine import Orchestrator
from .errors import (
    ClaimError,
    ConfigurationError,
    CorruptDatabaseError,
    CycleError,
    DatabaseLockedError,
    FleetStalledError,
    InvalidArgumentError,
    InvalidSubtaskError,
    InvalidTransitionError,
    LeaseExpiredError,
    NotClaimedError,
    PlanError,
    PoolTimeoutError,
    SchemaVersionError,
    StorageError,
    TaskorchError,
    UnknownDependencyError,
    UnknownTaskError,
    WorkerClosedError,
)
from .events import BusStatistics, Event, EventBus, Subscription
from .models import Plan, Status, Task, TaskStatus
from .store import Store, open_store

__version__ = "0.1.0"

DEFAULT_URL = "sqlite:///.taskorch/taskorch.db"

__all__ = [
    "DEFAULT_URL",
    "BusStatistics",
    "ClaimError",
    "ConfigurationError",
    "CorruptDatabaseError",
    "CycleError",
    "DatabaseLockedError",
    "Event",
    "EventBus",
    "FleetStalledError",
    "InvalidArgumentError",
    "InvalidSubtaskError",
    "InvalidTransitionError",
    "LeaseExpiredError",
    "NotClaimedError",
    "Orchestrator",
    "Plan",
    "PlanError",
    "PoolTimeoutError",
    "SchemaVersionError",
    "Status",
    "StorageError",
    "Store",
    "Subscription",
    "Task",
    "TaskStatus",
    "TaskorchError",
    "UnknownDependencyError",
    "UnknownTaskError",
    "WorkerClosedError",
    "__version__",
    "open",
    "open_store",
]


def open(url: str | None = None, **options: Any) -> Orchestrator:
    """Open an orchestrator on ``url`` (default ``sqlite:///.taskorch/taskorch.db``, relative to
    the working directory, parent folders created).

    Store options (``durability``, ``busy_timeout``; on PostgreSQL also ``schema``,
    ``pool_size``, ``pool_timeout``, ``connect_timeout``, ``statement_timeout``) go to the
    backend, and may be given in the URL's query instead; ``clock``, ``lease_seconds``,
    ``lease_check_interval`` and ``context_cache_size`` go to the :class:`Orchestrator`. Every
    option is checked (:class:`InvalidArgumentError` names a bad one) before anything is written.
    """
    engine_options = {
        k: options.pop(k)
        for k in ("clock", "lease_seconds", "lease_check_interval", "context_cache_size")
        if k in options
    }
    store = open_store(DEFAULT_URL if url is None else url, **options)
    try:
        return Orchestrator(store, **engine_options)
    except BaseException:
        store.close()
        raise
