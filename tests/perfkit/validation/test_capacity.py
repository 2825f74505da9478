"""Agents working at once are measured, not configured; the capacity search stops where a
count breaks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import taskorch
from perfkit.harness.store import fresh_url
from perfkit.validation.capacity import Probe, search
from perfkit.validation.runners import run_spec
from perfkit.validation.spec import parse_spec
from perfkit.workloads.concurrency import WorkGauge
from perfkit.workloads.plans import independent
from taskorch.agents import Fleet


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_gauge_weights_each_count_by_the_time_spent_at_it() -> None:
    clock = FakeClock()
    gauge = WorkGauge(clock)
    gauge.start(duration=10.0)
    with gauge.working():  # 1 working for 2 s
        clock.now = 2.0
        with gauge.working(), gauge.working():  # 3 working for 1 s
            clock.now = 3.0
        clock.now = 9.0  # 1 working for 6 s more
    clock.now = 12.0  # nobody for 1 s, then past the end of the duration
    with gauge.working(), gauge.working(), gauge.working(), gauge.working():
        pass  # after the duration: neither weighted nor a peak
    summary = gauge.summary()
    assert (summary.peak, summary.median, summary.seconds) == (3, 1, 10.0)
    assert summary.mean == pytest.approx((1 * 8 + 3 * 1) / 10)


def test_the_median_is_what_the_agents_kept_up_for_more_than_half_of_the_time() -> None:
    clock = FakeClock()
    gauge = WorkGauge(clock)
    gauge.start()
    with gauge.working(), gauge.working():
        clock.now = 4.0  # 2 working for 4 s of 10: a peak, not what was sustained
    clock.now = 10.0
    assert (gauge.summary().peak, gauge.summary().median) == (2, 0)


def drain(agents: int, handler: Any, tasks: int, tmp_path: Path) -> WorkGauge:
    gauge = WorkGauge()
    with taskorch.open(fresh_url(tmp_path, "gauge")) as orch:
        orch.plan("overlap", independent(tasks))
        gauge.start()
        report = asyncio.run(Fleet(orch, handler(gauge), agents=agents).run())
    assert report.counters.completed == tasks
    return gauge


def test_agents_whose_handlers_await_together_are_counted_together(tmp_path: Path) -> None:
    agents = 8
    barrier = asyncio.Barrier(agents)  # each round, every agent waits inside until all are in

    def handler(gauge: WorkGauge) -> Any:
        async def work(task: taskorch.Task, context: dict[str, Any]) -> None:
            await barrier.wait()

        return gauge.wrap(work)

    summary = drain(agents, handler, 3 * agents, tmp_path).summary()
    assert 2 <= summary.peak <= agents and summary.peak == agents
    assert 0 <= summary.median <= summary.peak


def test_a_handler_that_serializes_is_measured_one_at_a_time(tmp_path: Path) -> None:
    lock = asyncio.Lock()  # held across the await: the fleet's 16 agents work one by one

    def handler(gauge: WorkGauge) -> Any:
        measured = gauge.wrap(lambda task, context: asyncio.sleep(0.002))

        async def serialized(task: taskorch.Task, context: dict[str, Any]) -> None:
            async with lock:
                await measured(task, context)

        return serialized

    summary = drain(16, handler, 48, tmp_path).summary()
    assert summary.peak == 1 and summary.median <= 1


def fake_probe(
    limit: int, unsound_at: int | None = None
) -> tuple[list[int], Callable[[int], Probe]]:
    tried: list[int] = []

    def probe(agents: int) -> Probe:
        tried.append(agents)
        sound = unsound_at is None or agents < unsound_at
        held = sound and agents <= limit
        return Probe(agents, held, sound, "" if held else "broke", {})

    return tried, probe


def test_the_search_doubles_then_bisects_to_the_largest_count_that_holds() -> None:
    tried, probe = fake_probe(limit=300)
    found = search(probe, start=50, high=10_000, budget_seconds=60)
    assert tried[:4] == [50, 100, 200, 400]  # doubling until 400 breaks
    assert found.capacity <= 300 < found.broke_at  # type: ignore[operator]
    assert found.broke_at - found.capacity <= max(1, found.capacity // 10)  # type: ignore[operator]
    assert found.stopped == "the bounds met" and found.capacity >= 270
    assert [p.agents for p in found.probes] == tried


def test_the_search_stops_at_an_injected_break_and_reports_what_held() -> None:
    tried, probe = fake_probe(limit=10**9, unsound_at=7)
    found = search(probe, start=1, high=64, budget_seconds=60)
    assert (found.capacity, found.broke_at) == (6, 7)
    assert tried == [1, 2, 4, 8, 6, 7]
    tried, probe = fake_probe(limit=0)  # even the first count breaks: bisect below it
    found = search(probe, start=16, high=64, budget_seconds=60)
    assert (found.capacity, found.broke_at) == (0, 1) and tried == [16, 8, 4, 2, 1]


def test_the_search_stops_at_the_highest_count_or_when_out_of_time() -> None:
    tried, probe = fake_probe(limit=10**9)
    found = search(probe, start=10, high=50, budget_seconds=60)
    assert tried == [10, 20, 40, 50] and (found.capacity, found.broke_at) == (50, None)
    assert "highest count" in found.stopped
    clock = FakeClock()
    tried, slow = fake_probe(limit=10**9)

    def timed(agents: int) -> Probe:
        clock.now += 10.0  # each probe takes 10 s of a 25 s budget
        return slow(agents)

    found = search(timed, start=10, high=10_000, budget_seconds=25, clock=clock)
    assert tried == [10, 20] and found.capacity == 20 and "time budget" in found.stopped
    with pytest.raises(ValueError, match="start"):
        search(probe, start=0, high=5, budget_seconds=1)


def test_the_capacity_target_runs_real_fleets_and_records_each_count(tmp_path: Path) -> None:
    spec = parse_spec({"type": "stress_test", "target": "agent_capacity", "start_agents": 2,
                       "max_agents": 4, "probe_seconds": 0.3, "budget_seconds": 5,
                       "work_ms": 5})  # fmt: skip
    out = run_spec(spec, tmp_path)
    counts = [p["agents"] for p in out["probes"]]
    assert counts[0] == 2 and set(counts) <= {1, 2, 3, 4}
    assert all(p["sound"] for p in out["probes"]) and out["passed"] is None
    assert out["capacity"] in {0, *[p["agents"] for p in out["probes"] if p["held"]]}
    assert all(1 <= p["working_peak"] <= p["agents"] for p in out["probes"])
