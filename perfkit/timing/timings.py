"""The nightly job's timings: each ``time_`` benchmark weighed on fresh processes of two commits
(:mod:`perfkit.timing.trials`), the raw sqlite3 references as controls, and the first commit of a
range that a slower timing shows at.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..counts.culprit import Finding, first_moved
from ..verdict.calibration_data import load_thresholds
from ..verdict.controls import machine_reason, raw_twins
from ..verdict.history import calibration_file
from ..verdict.regression import Change, Status, higher_is_better, weighed
from .trials import (
    FIRST,
    Benchmark,
    Runner,
    Trial,
    environment_python,
    sides,
    timed_benchmarks,
)
from .trials import trial as run_trial

__all__ = [
    "TRIALS",
    "Weigher",
    "default_weigher",
    "nightly_benchmarks",
    "timing_changes",
    "timing_culprits",
]

# Weighs timings at two commits: (baseline, target, benchmark names or None for all) -> trials.
Weigher = Callable[[str, str, Sequence[str] | None], Sequence[Trial]]


# The timings weighed each night: all but the large graphs, whose calls take up to a second
# (a process of them takes seconds); their counts (plan_graph_10000) gate them, and their
# change points over the history are watched. Nor the PostgreSQL fleets and their twin: a round
# of two worker processes varied 24-30 % from one benchmark process to the next (32 processes
# at a load average of 4-6), so the A/A calibration set their thresholds at 82.5 % and 103 %: a
# night could catch only a near doubling, and their processes are the slowest of the
# PostgreSQL ones (about 3.5 s each). Their timings and loops/s are watched in the history.
TRIALS = r"^(?!graph\.|postgres\.PgFleet\.|raw\.RawPgFleet\.)"


def nightly_benchmarks(root: Path, pattern: str | None = None) -> list[Benchmark]:
    """The timings the nightly job weighs (:data:`TRIALS`), those matching ``pattern`` when
    given."""
    return [b for b in timed_benchmarks(root, pattern) if re.search(TRIALS, b.name)]


def default_weigher(
    root: Path,
    machine: str,
    pattern: str | None,
    most: int,
    env: Mapping[str, str] | None = None,
) -> Weigher:
    """Trials in the asv environment of every ``time_`` benchmark matching :data:`TRIALS` and
    ``pattern``, with the machine's calibrated thresholds; ``env`` is added to every process's
    environment (the night's PostgreSQL server)."""
    thresholds = load_thresholds(calibration_file(root, machine))

    def weigh(baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
        runner = Runner(root, environment_python(root), env=env)
        benchmarks = [b for b in nightly_benchmarks(root, pattern)
                      if names is None or b.name in names]  # fmt: skip
        out = []
        with sides(root, baseline, target) as (before, after):
            for i, bench in enumerate(benchmarks, 1):
                found = run_trial(runner, bench, before, after, thresholds,
                                  first=min(FIRST, most), most=most)  # fmt: skip
                w = found.weighing
                said = found.skipped if w is None else f"{w.answer} x{w.ratio:.3f}"
                print(f"[{i}/{len(benchmarks)}] {bench.name}: {said}", flush=True)
                out.append(found)
        return out

    return weigh


def timing_changes(
    trials: Sequence[Trial], baseline: str, target: str
) -> tuple[list[Change], list[Change]]:
    """The trials as changes, and the moves the raw sqlite3 references show to be the
    machine's: a raw reference that moved, and a timing that moved the same way as its raw
    twin (the reference runs no engine code, so the code cannot have moved it)."""
    changes = {}
    unweighed = []
    for t in trials:
        if t.weighing is None:
            unweighed.append(_unweighed(t, baseline, target))
            continue
        values = (_typical(t.before), _typical(t.after))
        changes[t.benchmark.name] = weighed(t.benchmark.name, t.benchmark.unit, t.weighing,
                                            values, (baseline, target))  # fmt: skip
    twins = raw_twins(changes)
    moved = (Status.REGRESSED, Status.IMPROVED)
    machine, out = [], []
    for name, change in sorted(changes.items()):
        twin = changes.get(twins.get(name, ""))
        alike = twin is not None and twin.status is change.status
        why = ""
        if change.status in moved:
            why = machine_reason(name, None if twin is None else twin.benchmark, alike)
        if why:
            machine.append(
                replace(change, status=Status.UNCHANGED, reason=f"{why}: {change.reason}")
            )
        else:
            out.append(change)
    return sorted([*out, *unweighed], key=lambda c: c.benchmark), machine


def _unweighed(t: Trial, baseline: str, target: str) -> Change:
    """A trial without a weighing as a change: broken when the target's process failed (or
    timed out), else not comparable (skipped, or failing on the baseline only)."""
    name, unit = t.benchmark.name, t.benchmark.unit
    status = Status.BROKE if t.failed in ("after", "both") else Status.INCOMPARABLE
    reason = t.skipped or "not weighed"
    return Change(name, status, None, higher_is_better(unit), None, None, baseline, target,
                  unit, reason)  # fmt: skip


def _typical(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def timing_culprits(
    weigher: Weigher, commits: Sequence[str], baseline: str, regressed: Sequence[Change]
) -> list[Finding]:
    """For each timing that regressed, the first commit of the range that is slower than the
    baseline by the same rule: bisection, one new trial per commit asked about."""
    findings = []
    for change in regressed:
        if len(commits) == 1:
            findings.append(Finding(change.benchmark, "", commits[0], change.before, change.after))
            continue

        def slower(commit: str, name: str = change.benchmark) -> bool:
            if commit == commits[-1]:
                return True
            found = timing_changes(weigher(baseline, commit, [name]), baseline, commit)[0]
            return any(c.regressed for c in found)

        culprit = first_moved(commits, slower)
        findings.append(Finding(change.benchmark, "", culprit, change.before, change.after))
    return findings
