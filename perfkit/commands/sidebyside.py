"""taskorch beside bare sqlite3 in one process: each operation and its raw reference
(:func:`perfkit.workloads.references.references`) interleaved call by call, in rounds.

On a shared machine an absolute time says more about the load than about the code; a ratio of
two steps that took turns in the same seconds does not. Each round times ``calls`` calls of each
step in turn (:func:`~perfkit.harness.timing.time_round_robin`, every call on its own) and keeps
the median of each; the report gives, over the rounds, the median of the per-round medians and
the median and range of the per-round ratios.

``gc=False`` times with the garbage collector off, as asv does (``timeit``'s habit): what a
workload allocates is then not paid for within the call. The default keeps it on, as a caller
runs the engine. ``cpu=True`` times CPU time instead of wall clock: on a loaded machine a call
of milliseconds is preempted within most calls, a call of microseconds within few, so wall-clock
ratios of long calls grow with the load; both steps do the same I/O, which CPU time leaves out.

    python -m perfkit side-by-side                   # every pair, 5 rounds
    python -m perfkit side-by-side plan:n=1000 --rounds 9 --calls 20

The PostgreSQL workloads and their bare-psycopg references (``pg_ready_query:n=10000``, …) are
measured the same way when named, on the server ``$TASKORCH_BENCH_POSTGRES_URL`` (or
``$TASKORCH_TEST_POSTGRES_URL``) names, in schemas dropped afterwards.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..harness.timing import time_round_robin
from ..kit.exits import Exit
from ..kit.options import Parser, UsageError, integer, output_folder
from ..workloads import WORKLOADS
from ..workloads.pg_workloads import WORKLOADS as PG_WORKLOADS

__all__ = ["PAIRS", "Pair", "Result", "main", "measure"]


@dataclass(frozen=True, slots=True)
class Pair:
    """A taskorch workload and its raw reference, with the parameters both take."""

    workload: str
    reference: str
    params: dict[str, Any]
    calls: int  # per step and round

    @property
    def name(self) -> str:
        return self.workload + "".join(f" {k}={v}" for k, v in self.params.items())


PAIRS = (
    Pair("plan", "raw_insert", {"n": 1}, 200),
    Pair("plan", "raw_insert", {"n": 1000}, 15),
    Pair("get", "raw_get", {"n": 1000}, 400),
    Pair("get", "raw_get", {"n": 100_000}, 400),
)


@dataclass(frozen=True, slots=True)
class Result:
    """Seconds per call (medians of the per-round medians) and the per-round ratios."""

    pair: Pair
    engine: float
    raw: float
    ratios: tuple[float, ...]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def line(self) -> str:
        low, high = min(self.ratios), max(self.ratios)
        return (
            f"{self.pair.name:<16} taskorch {self.engine * 1e6:10.1f} µs"
            f"   raw {self.raw * 1e6:10.1f} µs   ratio {self.ratio:5.2f}"
            f" (rounds {low:.2f} to {high:.2f}, n={len(self.ratios)})"
        )


def measure(
    pair: Pair, directory: Path, rounds: int, *, gc_on: bool = True, cpu: bool = False
) -> Result:
    """Open both sessions, then time ``rounds`` rounds of interleaved calls."""
    engine_times: list[float] = []
    raw_times: list[float] = []
    ratios: list[float] = []
    with ExitStack() as stack:
        ours = stack.enter_context(_registry()[pair.workload].session(directory, **pair.params))
        raw = stack.enter_context(_registry()[pair.reference].session(directory, **pair.params))
        was_on = gc.isenabled()
        if not gc_on:
            gc.disable()
        try:
            for r in range(rounds):
                warmup = 10 if r == 0 else 2
                # Which step goes first alternates, so neither always follows the other.
                steps = (
                    {"taskorch": ours, "raw": raw} if r % 2 == 0 else {"raw": raw, "taskorch": ours}
                )
                clock = time.process_time_ns if cpu else time.perf_counter_ns
                times = time_round_robin(steps, 2 * pair.calls, warmup=warmup, clock=clock)
                e, w = statistics.median(times["taskorch"]), statistics.median(times["raw"])
                engine_times.append(e)
                raw_times.append(w)
                ratios.append(e / w)
        finally:
            if was_on:
                gc.enable()
    return Result(
        pair, statistics.median(engine_times), statistics.median(raw_times), tuple(ratios)
    )


def _registry() -> dict[str, Any]:
    """Every workload, the PostgreSQL ones included."""
    return {**WORKLOADS, **PG_WORKLOADS}


def _pair(text: str) -> Pair:
    name, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        k, _, v = item.partition("=")
        try:
            params[k] = int(v)
        except ValueError:
            raise UsageError(f"{text!r}: {k}={v!r} is not a whole number") from None
    for pair in PAIRS:
        if pair.workload == name and pair.params == params:
            return pair
    found = _registry().get(name)
    if found is None or found.reference is None:
        raise UsageError(f"{name!r} is no workload with a raw reference")
    return Pair(name, found.reference, params, 100)


def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("pairs", nargs="*", help="WORKLOAD:k=v (default: every pair)")
    parser.add_argument("--rounds", type=integer(1, 1000), default=5, help="default: 5")
    parser.add_argument("--calls", type=integer(1, 1_000_000), help="calls per step and round")
    parser.add_argument("--no-gc", action="store_true", help="collector off while timing (as asv)")
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of wall clock")
    parser.add_argument(
        "--dir", type=output_folder, help="where the databases go (default: a temporary one)"
    )
    args = parser.parse_args(argv)
    pairs = [_pair(p) for p in args.pairs] or list(PAIRS)
    with tempfile.TemporaryDirectory(prefix="side-by-side-", dir=args.dir) as tmp:
        for pair in pairs:
            if args.calls:
                pair = Pair(pair.workload, pair.reference, pair.params, args.calls)
            result = measure(pair, Path(tmp), args.rounds, gc_on=not args.no_gc, cpu=args.cpu)
            print(result.line(), flush=True)
    return Exit.OK
