"""What a fleet says when it gives up waiting: the message of a FleetStalledError.

A fleet is stalled when, for its ``stall_timeout``, none of its handlers ran, none of its calls
finished a subtask and the store's counts did not move (so nobody else finished one either),
while subtasks are left unfinished; or when the database worker does not answer within that
time. What it then waits on is one of: subtasks claimed by agents elsewhere, subtasks ready but
not for its specialist, subtasks pending on those, or the database worker itself.
"""

from __future__ import annotations

from collections.abc import Container, Sequence

from ..models import Status, Task
from .worker import WorkerActivity

SHOWN = 5  # leases listed by name; the rest are counted


def describe_stall(
    idle_for: float,
    status: Status | None,
    claimed: Sequence[Task] | None,
    ours: Container[int],
    specialist: str | None,
    activity: WorkerActivity,
    now: float,
) -> str:
    """The message: how long nothing finished, then each thing the fleet waits on.

    ``status`` and ``claimed`` are None when the database worker did not answer in time;
    ``now`` is the orchestrator's clock, to say when leases end.
    """
    waits: list[str] = []
    if claimed is not None:
        elsewhere = [t for t in claimed if t.id not in ours]
        if elsewhere:
            shown = ", ".join(
                f"#{t.id} by {t.agent!r} (lease ends in {(t.lease_expires or now) - now:.0f}s)"
                for t in elsewhere[:SHOWN]
            )
            more = f" and {len(elsewhere) - SHOWN} more" if len(elsewhere) > SHOWN else ""
            waits.append(f"subtasks held by leases elsewhere: {shown}{more}")
    if status is not None:
        ready, pending = status["ready"], status["pending"]
        if ready:
            who = f" (this fleet claims only {specialist!r} subtasks)" if specialist else ""
            waits.append(f"{ready} ready subtask(s) it could not claim{who}")
        if pending:
            waits.append(f"{pending} pending subtask(s) waiting on their dependencies")
    else:
        waits.append("the database worker, which did not answer")
    waits.append(activity.describe())
    return (
        f"nothing finished for {idle_for:.1f}s with work left; waiting on: {'; '.join(waits)}."
        " Raise stall_timeout= if the work is merely slow, or stall_timeout=None to wait for ever"
    )
