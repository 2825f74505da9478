"""Run many asyncio agents against one orchestrator.

>>> import asyncio, taskorch
>>> from taskorch.agents import Fleet
>>> async def handler(task, context):
...     return f"{context['role']} did {task.key}"
>>> with taskorch.open("sqlite:///:memory:") as orch:
...     _ = orch.plan("ship it", [{"key": f"k{i}", "title": "t", "specialist": "coder"}
...                              for i in range(100)])
...     report = asyncio.run(Fleet(orch, handler, agents=10).run())
...     report.counters.completed, orch.status().subtasks
(100, {'completed': 100})

Every database call of every agent goes through one worker that runs the calls queued so far in
one transaction (group commit): on the event loop while that cannot make the loop wait, otherwise
on a thread of its own; see :mod:`taskorch.runtime`.
"""

from __future__ import annotations

from .errors import FleetStalledError, WorkerClosedError
from .runtime.fleet import Fleet, Handler, ProgressCallback
from .runtime.metrics import LoopLagMonitor, Percentiles, Samples
from .runtime.report import FleetCounters, FleetReport, Result
from .runtime.worker import DatabaseWorker, WorkerActivity, WorkerStatistics

__all__ = [
    "DatabaseWorker",
    "Fleet",
    "FleetCounters",
    "FleetReport",
    "FleetStalledError",
    "Handler",
    "LoopLagMonitor",
    "Percentiles",
    "ProgressCallback",
    "Result",
    "Samples",
    "WorkerActivity",
    "WorkerClosedError",
    "WorkerStatistics",
]
