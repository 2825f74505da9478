"""The inside of a counting process (see :mod:`perfkit.counts.instructions`).

Under valgrind (``mode`` "instructions") each operation's two loops run inside ``operator.call``,
the only code callgrind counts; each loop ends in a callgrind dump. Without valgrind (``mode``
"bytecodes") the loops run under :func:`sys.settrace` with opcode events, which counts the
bytecodes each Python function executes, callees included: callgrind sees only C functions.
``mode`` "dry" only runs them (a quick check that they run).

It runs under the Python of the commit being measured, so it uses only the standard library, the
workloads and the engine's public API. ``ran.json`` holds, per operation, ``skipped`` ("" when both
loops ran, else why not), ``seconds`` (wall time, set-up included) and, for bytecodes, the totals
and inclusive counts of both loops.
"""

from __future__ import annotations

import gc
import json
import operator
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from ..workloads import WORKLOADS
from .instructions import Operation


def loop(step: Callable[[], object], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            step()

    return run


def where(code: CodeType) -> str:
    # No line number: an edit above a function moves it, and it must still be the same function.
    return f"{code.co_qualname} ({Path(code.co_filename).name})"


HARNESS = str(Path(__file__).resolve().parents[1])  # all of perfkit: the loop and the steps


def bytecodes(run: Callable[[], None]) -> dict[str, Any]:
    """Run ``run`` counting opcodes: the total, and each function's inclusive count (the
    harness's own functions, this package's loop and workload steps, left out)."""
    total = 0
    inclusive: dict[str, int] = {}
    stack: list[tuple[CodeType, int]] = []

    def trace(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal total
        if event == "opcode":
            total += 1
        elif event == "call":
            frame.f_trace_opcodes = True
            stack.append((frame.f_code, total))
        elif event == "return" and stack:
            code, start = stack.pop()
            outermost = all(c is not code for c, _ in stack)  # recursion is counted once
            if outermost and not code.co_filename.startswith(HARNESS):
                key = where(code)
                inclusive[key] = inclusive.get(key, 0) + total - start
        return trace

    sys.settrace(trace)
    try:
        run()
    finally:
        sys.settrace(None)
    return {"total": total, "inclusive": inclusive}


def main(plan_file: str) -> None:
    plan = json.loads(Path(plan_file).read_text())
    mode = plan.get("mode", "instructions")
    ran: dict[str, dict[str, Any]] = {}
    # One directory for all: the stores of n tasks that several workloads read are built once.
    # Under the working directory, which the caller makes and removes.
    directory = Path(tempfile.mkdtemp(prefix="taskorch-count-", dir=Path.cwd()))
    for name, described in plan["operations"].items():
        started = time.perf_counter()
        op = Operation(
            described["workload"],
            described["params"],
            described["warmup"],
            tuple(described["steps"]),
        )
        loops: list[dict[str, Any]] = []
        with ExitStack() as stack:
            try:
                step = stack.enter_context(WORKLOADS[op.workload].session(directory, **op.params))
            except NotImplementedError as exc:  # the engine of this commit lacks what it needs
                ran[name] = {"skipped": str(exc) or "not available in this engine"}
                continue
            for _ in range(op.warmup):
                step()
            # No garbage collection inside the loops: a collection every 700 allocations lands
            # in one loop and not the other, which moved per-step counts by up to 8 %.
            gc.collect()
            gc.disable()
            try:
                for n in op.steps:
                    if mode == "bytecodes":
                        loops.append(bytecodes(loop(step, n)))
                    elif mode == "dry":
                        loop(step, n)()
                    else:
                        operator.call(loop(step, n))  # one callgrind dump each
            finally:
                gc.enable()
        gc.collect()  # what one operation left behind is not collected inside the next
        ran[name] = {"skipped": "", "seconds": time.perf_counter() - started, "loops": loops}
    (Path.cwd() / "ran.json").write_text(json.dumps(ran))
