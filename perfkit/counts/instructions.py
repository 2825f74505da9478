"""Instructions per operation, counted by valgrind's callgrind: the deterministic measure the
nightly gate fails on.

Every operation of :data:`OPERATIONS` is one workload of :mod:`perfkit.workloads`. One valgrind
process counts them all: collection is off except inside ``operator.call`` (a C function nothing
else in the engine calls), which wraps exactly the measured loop of steps. Each operation runs
``warmup`` steps uncounted, then a loop of ``n1`` steps and one of ``n2`` steps; the count per
operation is the difference of the two loops divided by ``n2 - n1``, so the loop's own entry and
exit cancel. callgrind dumps its counters when each loop ends, so each dump holds one loop, with
the inclusive count of every C function in it (the evidence of what grew).

The counted interpreter runs with a fixed ``PYTHONHASHSEED``, address randomization off (where
``setarch -R`` works) and ``time.time`` replaced by a clock that ticks per call, and garbage
collection is off inside the loops: with these the counts of identical code repeat from run to run
(measured in docs/benchmarks.md). The engine is whatever ``taskorch`` the given Python
imports, or the checkout named by ``engine``; the workloads always come from this checkout, so an
old commit is measured with today's definition of each operation.

Needs ``valgrind`` (Debian/Ubuntu: ``apt-get install valgrind``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .callgrind import Profile, parse

__all__ = [
    "HASH_SEED",
    "INSTALL_HINT",
    "OPERATIONS",
    "Count",
    "CountError",
    "Operation",
    "count",
    "count_bytecodes",
    "grown",
    "valgrind",
    "valgrind_problem",
]

ROOT = Path(__file__).resolve().parents[2]
HASH_SEED = "0"
INSTALL_HINT = "valgrind is not installed: apt-get install valgrind (Debian/Ubuntu)"
MARKER = "_operator_call"  # the C function behind operator.call


@dataclass(frozen=True, slots=True)
class Operation:
    """One counted operation: a workload with its parameters, and how many steps to run
    uncounted, then in the short and in the long counted loop. What the engine must have for it
    is the workload's own ``requires``: an engine that lacks it has the operation skipped."""

    workload: str
    params: Mapping[str, Any] = field(default_factory=dict)
    # Python 3.11 specializes bytecode as it runs and a process's earlier work leaves code in
    # some state: 50 uncounted steps bring the step's code to a steady state (with 5, the same
    # operation counted after another differed by 2.3 %; with 50-100, by at most 0.6 %).
    warmup: int = 50
    steps: tuple[int, int] = (20, 60)


# Step counts keep each loop clear of the workloads' periodic refills (claim, complete: every
# 1,000 calls) or span whole periods (publish drains its readers every 500 calls).
OPERATIONS: dict[str, Operation] = {
    "plan_1": Operation("plan", {"n": 1}),
    "plan_10": Operation("plan", {"n": 10}),
    "plan_1000": Operation("plan", {"n": 1000}, warmup=1, steps=(1, 3)),
    "plan_graph_10000": Operation("plan", {"n": 10_000}, warmup=0, steps=(0, 1)),
    "claim": Operation("claim", {"pool": 1000}),
    "complete": Operation("complete", {}),
    "context_cached": Operation("context", {"cached": True}, steps=(50, 250)),
    "context_uncached": Operation("context", {"cached": False}),
    "get": Operation("get", {"n": 1000}, steps=(50, 250)),
    "status": Operation("status", {"n": 1000}),
    "ready_query": Operation("ready_query", {"n": 1000}),
    "publish": Operation("publish", {"subscribers": 1}, warmup=500, steps=(500, 1000)),
    "encode": Operation("encode_context", {}, steps=(100, 500)),
    "decode": Operation("decode_context", {}, steps=(100, 500)),
}


class CountError(Exception):
    """valgrind is missing, or the counting process failed."""


@dataclass(frozen=True, slots=True)
class Count:
    """What one operation costs: instructions per step (None when the engine lacks what the
    operation needs; ``skipped`` says why) and the inclusive instructions per step of each C
    function seen."""

    operation: str
    instructions: float | None
    functions: Mapping[str, float] = field(default_factory=dict)
    skipped: str = ""
    seconds: float = 0.0  # wall time of the operation in the counting process, set-up included

    def as_dict(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "instructions": self.instructions,
            "functions": dict(self.functions),
            "skipped": self.skipped,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Count:
        value = data.get("instructions")
        return cls(
            operation=str(data["operation"]),
            instructions=None if value is None else float(value),
            functions={str(k): float(v) for k, v in dict(data.get("functions") or {}).items()},
            skipped=str(data.get("skipped") or ""),
            seconds=float(data.get("seconds") or 0.0),
        )


def valgrind() -> str | None:
    """The valgrind executable, or None."""
    return shutil.which("valgrind")


def valgrind_problem(python: str | None = None, timeout: float = 120.0) -> str | None:
    """Why no count can be taken here, or None when valgrind's callgrind runs ``python`` (this
    interpreter by default) to the end: not installed, or failing, with the end of what it
    said."""
    binary = valgrind()
    if binary is None:
        return INSTALL_HINT
    argv = [binary, "--tool=callgrind", "--callgrind-out-file=/dev/null",
            python or sys.executable, "-c", "pass"]  # fmt: skip
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"valgrind failed: {exc}"
    if done.returncode == 0:
        return None
    said = (done.stderr or done.stdout).strip().splitlines()
    return f"valgrind failed (exit status {done.returncode}): {said[-1] if said else 'no output'}"


Operations = Iterable[str] | Mapping[str, Operation]


def count(
    operations: Operations,
    *,
    python: str | None = None,
    engine: Path | None = None,
    keep_functions: int | None = None,
    hash_seed: str = HASH_SEED,
    quick: bool = False,
) -> dict[str, Count]:
    """Count ``operations`` (names of :data:`OPERATIONS`, or operations by name) in one valgrind
    process, with
    ``python`` (default: this interpreter) importing ``taskorch`` from ``engine`` when given.

    Only the ``keep_functions`` functions with the largest inclusive counts of each operation are
    kept (all of them by default); ``hash_seed`` is there to measure how much the counts depend
    on it. ``quick`` runs each operation's set-up and one step without valgrind and counts
    nothing (every count is skipped, saying so): a check that everything runs, in seconds rather
    than a minute. Raises :class:`CountError` when valgrind is missing or the process fails.
    """
    if quick:
        return _dry(operations, python, engine)
    binary = valgrind()
    if binary is None:
        raise CountError(INSTALL_HINT)
    tool = [*_no_aslr(), binary, "--tool=callgrind", "--collect-atstart=no",
            f"--toggle-collect={MARKER}", f"--dump-after={MARKER}",
            "--callgrind-out-file=cg.out"]  # fmt: skip
    defined = _defined(operations)
    names = list(defined)
    with tempfile.TemporaryDirectory(prefix="taskorch-count-") as tmp:
        work = Path(tmp)
        ran = _run(work, defined, "instructions", tool, python, engine, hash_seed)
        # The dumps are numbered in the order the loops ran: two per operation that ran.
        dumps = sorted(work.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        profiles = iter([parse(p.read_text()) for p in dumps])
        out = {}
        for name in names:
            why = ran.get(name, {}).get("skipped", "not run")
            if why:
                out[name] = Count(name, None, skipped=why)
                continue
            short, long = next(profiles), next(profiles)
            found = _per_step(name, short, long, defined[name].steps, keep_functions)
            out[name] = replace(found, seconds=float(ran[name].get("seconds", 0.0)))
        return out


def count_bytecodes(
    operations: Operations, *, python: str | None = None, engine: Path | None = None
) -> dict[str, Count]:
    """Like :func:`count`, without valgrind: the Python bytecodes each operation executes per
    step, and the inclusive bytecodes of each Python function (``qualname (file:line)``), which
    callgrind cannot name."""
    defined = _defined(operations)
    names = list(defined)
    with tempfile.TemporaryDirectory(prefix="taskorch-count-") as tmp:
        ran = _run(Path(tmp), defined, "bytecodes", [], python, engine, HASH_SEED)
    out = {}
    for name in names:
        entry = ran.get(name, {})
        if entry.get("skipped", "not run"):
            out[name] = Count(name, None, skipped=entry.get("skipped", "not run"))
            continue
        short, long = (Profile(int(d["total"]), dict(d["inclusive"])) for d in entry["loops"])
        found = _per_step(name, short, long, defined[name].steps, None)
        out[name] = replace(found, seconds=float(entry.get("seconds", 0.0)))
    return out


def _no_aslr() -> list[str]:
    """A prefix that turns address randomization off for the counted process, when possible:
    dicts keyed by object addresses (json's cycle check, for one) probe differently at different
    addresses, which moved counts by up to 1 % between runs of identical code."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    probe = [setarch, platform.machine(), "-R", "true"]
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        return []
    return probe[:3]


def _dry(operations: Operations, python: str | None, engine: Path | None) -> dict[str, Count]:
    defined = {n: replace(op, warmup=0, steps=(0, 1)) for n, op in _defined(operations).items()}
    with tempfile.TemporaryDirectory(prefix="taskorch-count-") as tmp:
        ran = _run(Path(tmp), defined, "dry", [], python, engine, HASH_SEED)
    quick = "a quick run: set up and run once without valgrind, not counted"
    return {
        n: Count(n, None, skipped=ran.get(n, {}).get("skipped") or quick,
                 seconds=float(ran.get(n, {}).get("seconds", 0.0)))
        for n in defined
    }  # fmt: skip


def _defined(operations: Operations) -> dict[str, Operation]:
    if isinstance(operations, Mapping):
        return dict(operations)
    names = list(operations)
    unknown = [n for n in names if n not in OPERATIONS]
    if unknown:
        raise CountError(f"unknown operations {unknown}; known: {', '.join(OPERATIONS)}")
    return {n: OPERATIONS[n] for n in names}


def _run(
    work: Path,
    operations: Mapping[str, Operation],
    mode: str,
    tool: Sequence[str],
    python: str | None,
    engine: Path | None,
    hash_seed: str,
) -> dict[str, Any]:
    plan = work / "plan.json"
    described = {
        name: {"workload": op.workload, "params": dict(op.params), "warmup": op.warmup,
               "steps": list(op.steps)}
        for name, op in operations.items()
    }  # fmt: skip
    plan.write_text(
        json.dumps({"operations": described, "mode": mode, "engine": str(engine or "")})
    )
    command = [*tool, python or sys.executable, "-c", _BOOT, str(ROOT), str(plan)]
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env.pop("PYTHONPATH", None)  # the engine comes from ``python`` or ``engine`` only
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CountError(f"the counting process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    ran: dict[str, Any] = json.loads((work / "ran.json").read_text())
    return ran


def _per_step(
    name: str, short: Profile, long: Profile, steps_run: tuple[int, int], keep: int | None
) -> Count:
    n1, n2 = steps_run
    steps = n2 - n1
    per = {
        fn: (long.inclusive.get(fn, 0) - short.inclusive.get(fn, 0)) / steps
        for fn in long.inclusive
    }
    top = sorted(per.items(), key=lambda kv: -kv[1])[:keep]
    return Count(name, (long.total - short.total) / steps, dict(top))


def grown(
    before: Count, after: Count, top: int = 8, root_share: float = 0.9
) -> list[tuple[str, float, float]]:
    """The functions whose inclusive instructions per step grew most from ``before`` to
    ``after``: ``(function, before, after)``, largest growth first.

    Functions that hold nearly the whole operation (``root_share`` of it, at both commits: the
    interpreter loop, the marker) are left out; they grow by the total whatever changed.
    """
    old, new = before.instructions, after.instructions
    if old is None or new is None:
        return []

    def root(fn: str) -> bool:
        return (
            before.functions.get(fn, 0) >= root_share * old
            and after.functions.get(fn, 0) >= root_share * new
        )

    names = set(before.functions) | set(after.functions)
    rows = [(fn, before.functions.get(fn, 0.0), after.functions.get(fn, 0.0)) for fn in names]
    rows = [r for r in rows if r[2] > r[1] and not root(r[0])]
    rows.sort(key=lambda r: (r[1] - r[2], r[0]))
    return rows[:top]


# Run by the counted interpreter: imports the engine (from ``engine`` if given, else whatever is
# installed), then this checkout's perfkit, and hands over to :func:`perfkit.counts._countrun.main`.
_BOOT = """\
import json, sys, time
# A clock that ticks per call, not with the wall: the engine checks leases once a second of its
# clock, so under valgrind a loaded machine made more checks and moved the counts of claim.
_now = [1.7e9]
def _tick():
    _now[0] += 1e-5
    return _now[0]
time.time = _tick
root, plan = sys.argv[1], sys.argv[2]
engine = json.load(open(plan))["engine"]
if engine:
    sys.path.insert(0, engine)
import taskorch
sys.path.insert(0, root)  # after the engine is imported: perfkit from this checkout
from perfkit.counts import _countrun
_countrun.main(plan)
"""
