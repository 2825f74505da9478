"""The invariant check every stress run ends with: it reports what went wrong, by kind."""

from __future__ import annotations

import asyncio
from collections import Counter

import taskorch
from perfkit.workloads.demo import DemoHandler, check_invariants, plan_demo
from taskorch.agents import Fleet


def test_the_invariant_check_reports_double_and_missing_completions(
    orch: taskorch.Orchestrator,
) -> None:
    plans = plan_demo(orch, 3)
    asyncio.run(Fleet(orch, DemoHandler()).run())
    a, b, _ = plans[0].task_ids
    report = check_invariants(orch, plans, Counter({a: 2, b: 1, 12345: 1}))
    assert not report.ok
    text = str(report)
    assert "more than once" in text and "missing" in text and "outside the plans" in text
    assert (report.duplicated, report.lost) == (1, 2)  # a twice; the third missing, 12345 foreign
