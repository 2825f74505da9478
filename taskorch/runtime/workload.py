"""The fleet workload written once, for every harness: stress scripts, benchmarks, the CLI."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from .. import open as open_orchestrator
from .checks import DemoHandler, InvariantReport, check_invariants, plan_demo
from .fleet import Fleet, FleetReport


def drain_demo(
    url: str,
    *,
    tasks: int,
    agents: int,
    fan_in: int = 0,
    width: int = 1000,
    work_seconds: float = 0.0,
    lease_seconds: float = 60.0,
    faults: bool = False,
    **fleet_options: Any,
) -> tuple[FleetReport, InvariantReport]:
    """Plan ``tasks`` demo subtasks on ``url`` (not timed; layers of ``width``, each subtask
    depending on ``fan_in`` of the layer before), drain them with a fleet of
    ``agents``, and check the invariants (with ``faults``, a subtask may be claimed again after
    its lease expired). ``fleet_options`` go to :class:`Fleet` (``group_commit``,
    ``max_batch``, ``db_thread``, ...).

    The report's ``throughput`` is the claim+complete loops per second; ``loop_lag`` the event
    loop's lag while the fleet ran.
    """
    with open_orchestrator(url, lease_seconds=lease_seconds) as orch:
        plans = plan_demo(orch, tasks, fan_in=fan_in, width=width)
        ledger: Counter[int] = Counter()
        handler = DemoHandler(work_seconds)
        fleet = Fleet(orch, handler, agents=agents, ledger=ledger, **fleet_options)
        report = asyncio.run(fleet.run())
        check = check_invariants(orch, plans, ledger, handler.handled, faults=faults)
    return report, check
