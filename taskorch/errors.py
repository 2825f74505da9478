"""The exception tree of taskorch.

Everything taskorch raises on purpose derives from :class:`TaskorchError`::

    TaskorchError
    ├── InvalidArgumentError         an argument of the wrong type or out of range (a ValueError)
    ├── ConfigurationError           bad URL, unknown scheme, missing optional driver
    ├── StorageError                 the database failed
    │   ├── DatabaseLockedError      still locked after the busy timeout (retryable)
    │   ├── PoolTimeoutError         no connection free within the pool timeout (retryable)
    │   ├── CorruptDatabaseError     not a taskorch/SQLite database, or damaged
    │   └── SchemaVersionError       written by a newer taskorch than this one
    ├── PlanError                    a plan that cannot be written (nothing is written)
    │   ├── CycleError               the dependencies form a cycle
    │   ├── UnknownDependencyError   a dependency names a key not in the plan
    │   └── InvalidSubtaskError      a missing/ill-typed field or a duplicate key
    ├── UnknownTaskError             no task with that id (also a LookupError)
    ├── ClaimError                   the caller does not hold a valid claim
    │   ├── NotClaimedError          the task is not claimed by this agent
    │   └── LeaseExpiredError        the agent's lease ran out
    ├── InvalidTransitionError       the task's state does not allow the operation
    ├── WorkerClosedError            the database worker of an agent fleet is not running
    └── FleetStalledError            an agent fleet saw nothing finish for its stall timeout

Driver exceptions are translated at the store boundary and chained with ``from``. Packages built
on taskorch extend the tree rather than start their own (``perfkit.InvalidSpecError`` is an
:class:`InvalidArgumentError`).
"""

from __future__ import annotations


class TaskorchError(Exception):
    """Base class of every error taskorch raises on purpose."""


class InvalidArgumentError(TaskorchError, ValueError):
    """An argument has the wrong type or a value out of range; ``argument`` names it. Nothing was
    written."""

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        super().__init__(f"{argument}: {message}")


class ConfigurationError(TaskorchError):
    """The orchestrator was configured wrongly (URL, scheme, missing optional driver)."""


class StorageError(TaskorchError):
    """The database failed. ``retryable`` tells whether trying again may succeed."""

    retryable = False


class DatabaseLockedError(StorageError):
    """The database stayed locked by another connection for longer than the busy timeout."""

    retryable = True


class PoolTimeoutError(StorageError):
    """No database connection became free within the pool's timeout."""

    retryable = True


class CorruptDatabaseError(StorageError):
    """The file is not a database taskorch can read, or it is damaged."""


class SchemaVersionError(StorageError):
    """The database was written by a newer taskorch; upgrade taskorch to open it."""


class PlanError(TaskorchError):
    """A plan was refused; nothing was written."""


class CycleError(PlanError):
    """The subtasks' dependencies form a cycle. ``cycle`` lists the keys around it."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        path = " -> ".join([*cycle, cycle[0]]) if cycle else "?"
        super().__init__(f"dependency cycle: {path}; remove one of these dependencies")


class UnknownDependencyError(PlanError):
    """A subtask depends on a key that is not in the same plan."""

    def __init__(self, key: str, dependency: str) -> None:
        self.key = key
        self.dependency = dependency
        super().__init__(
            f"subtask {key!r} depends on {dependency!r}, which is not a key of this plan"
        )


class InvalidSubtaskError(PlanError):
    """A subtask is missing a field, has a field of the wrong type, or repeats a key."""


class UnknownTaskError(TaskorchError, LookupError):
    """No task has this id."""

    def __init__(self, task_id: object) -> None:
        self.task_id = task_id
        super().__init__(f"no task with id {task_id!r}")


class ClaimError(TaskorchError):
    """The caller does not hold a valid claim on the task."""


class NotClaimedError(ClaimError):
    """The task is not claimed by this agent (another agent holds it, or nobody does)."""


class LeaseExpiredError(ClaimError):
    """The agent's lease on the task ran out; the task may already be claimed again."""


class InvalidTransitionError(TaskorchError):
    """The task's current state does not allow this operation (e.g. completing it twice)."""


class WorkerClosedError(TaskorchError):
    """A call was submitted to a :class:`~taskorch.agents.DatabaseWorker` that is not running
    (not started yet, closed, or stopped by an error of its own: see ``__cause__``)."""


class FleetStalledError(TaskorchError):
    """An agent fleet saw nothing finish for ``stall_timeout`` seconds while work was left; the
    message says what it waited on (leases held elsewhere, the database thread, its queue)."""
