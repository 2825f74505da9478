"""Concurrent agents: claim+complete loops per second with 1, 50 and 1,000 agents in one process.

This is the place for the agent runtime's benchmarks (``taskorch.agents``). Until a commit has the
runtime, and ``taskorch/perf/workloads.py`` registers its workloads, these are skipped. The
contract they expect, so the runtime's owners can plug in without touching this file:

- workload ``agent_loops`` (param ``agents``): its step runs the agents over a fixed amount of work
  and returns how many claim+complete loops were done;
- workload ``agent_loop_lag`` (param ``agents``): its step runs the agents for a while and returns
  the worst event-loop lag seen, in seconds.
"""

from __future__ import annotations

import importlib.util
import time

from ._support import session, workloads

AGENTS = [1, 50, 1000]


def _require_runtime(workload: str) -> None:
    if importlib.util.find_spec("taskorch.agents") is None:
        raise NotImplementedError("this commit has no agent runtime (taskorch.agents)")
    if workload not in workloads().WORKLOADS:
        raise NotImplementedError(f"no {workload!r} workload registered yet")


class ConcurrentAgents:
    """Throughput of the agent runtime (target: ≥ 5,000 loops/s with 1,000 agents on 2 cores)."""

    param_names = ["agents"]
    params = [AGENTS]
    unit = "loops/s"
    timeout = 300
    version = "1"

    def setup(self, agents: int) -> None:
        _require_runtime("agent_loops")
        self.step = session("agent_loops", None, agents=agents)

    def track_loops_per_second(self, agents: int) -> float:
        start = time.perf_counter()
        loops = self.step()
        assert isinstance(loops, int)
        return loops / (time.perf_counter() - start)


class LoopLag:
    """The worst asyncio event-loop lag while the agents work: how late a timer fires."""

    param_names = ["agents"]
    params = [AGENTS]
    unit = "ms"
    timeout = 300
    version = "1"

    def setup(self, agents: int) -> None:
        _require_runtime("agent_loop_lag")
        self.step = session("agent_loop_lag", None, agents=agents)

    def track_loop_lag(self, agents: int) -> float:
        lag = self.step()
        assert isinstance(lag, float)
        return lag * 1000.0
