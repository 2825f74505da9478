"""The nightly job's timings: each ``time_`` benchmark weighed on fresh processes of two commits
(:mod:`perfkit.timing.trials`), the raw sqlite3 references as controls, and the first commit of a
range that a slower timing shows at.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..counts.culprit import Finding, first_moved
from ..verdict.calibration_data import history_only, load_thresholds
from ..verdict.controls import machine_reason, raw_twins
from ..verdict.history import calibration_file
from ..verdict.regression import Change, Status, higher_is_better, weighed
from .trials import (
    FIRST,
    Benchmark,
    Course,
    Runner,
    Trial,
    environment_python,
    sides,
    timed_benchmarks,
)

__all__ = [
    "BUDGET",
    "TRIALS",
    "Weigher",
    "cost_order",
    "default_weigher",
    "nightly_benchmarks",
    "timing_changes",
    "timing_culprits",
    "weigh_all",
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


# The night's time for weighing timings (minutes) when none is given: what is left of a night
# of 30 minutes once asv has recorded the target (2-3 min; the baseline's counts and sizes,
# when it has none, about 1 more) and before the leak check (7-8 min) and the site (under a
# minute), with a few minutes to spare (docs/benchmarks.md, "The night's length").
BUDGET = 15.0


def cost_order(benchmarks: Sequence[Benchmark]) -> list[Benchmark]:
    """The cheap families first: the SQLite timings, whose processes take about a second and a
    half, before the PostgreSQL ones and their psycopg twins, whose processes also connect and
    set up schemas on the server. A night whose time runs out leaves the costly ones
    unsettled, and says so."""
    return sorted(benchmarks, key=lambda b: bool(re.match(r"postgres\.|raw\.RawPg", b.name)))


def default_weigher(
    root: Path,
    machine: str,
    pattern: str | None,
    most: int,
    env: Mapping[str, str] | None = None,
    budget: float | None = BUDGET,
    clock: Callable[[], float] = time.monotonic,
) -> Weigher:
    """Trials in the asv environment of every ``time_`` benchmark matching :data:`TRIALS` and
    ``pattern``, with the machine's calibrated thresholds; ``env`` is added to every process's
    environment (the night's PostgreSQL server). A benchmark the calibration found the night
    cannot judge at 10 % is left to the history (:func:`history_only`); ``budget`` is the
    minutes the trials of one call may take (None: no limit): see :func:`weigh_all`."""
    calibration = calibration_file(root, machine)
    thresholds = load_thresholds(calibration)
    left = history_only(calibration)

    def weigh(baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
        runner = Runner(root, environment_python(root), env=env)
        benchmarks = [b for b in nightly_benchmarks(root, pattern)
                      if (names is None or b.name in names) and b.name not in left]  # fmt: skip
        with sides(root, baseline, target) as (before, after):
            courses = [Course(runner, b, before, after, thresholds, min(FIRST, most), most)
                       for b in cost_order(benchmarks)]  # fmt: skip
            return weigh_all(courses, budget, clock)

    return weigh


def weigh_all(
    courses: Sequence[Course],
    budget: float | None = BUDGET,
    clock: Callable[[], float] = time.monotonic,
) -> list[Trial]:
    """Every course run a weighing at a time, breadth first: each benchmark's first weighing
    before any benchmark measures more, so that the processes spent on the few that stay
    unknown come last. Once ``budget`` minutes have passed, what is still under way ends with
    its last weighing, and what was never weighed is reported so: both inconclusive, never the
    same."""
    deadline = None if budget is None else clock() + budget * 60
    total = len(courses)
    while not all(c.done for c in courses):
        for i, course in enumerate(courses, 1):
            if course.done:
                continue
            if deadline is not None and clock() >= deadline:
                course.stop(f"the night's {budget:g} min for timings ran out")
            else:
                course.step()
            if course.result is not None:
                _said(i, total, course.result)
    return [c.result for c in courses if c.result is not None]


def _said(i: int, total: int, found: Trial) -> None:
    w = found.weighing
    said = found.skipped if w is None else f"{w.answer} x{w.ratio:.3f}"
    if w is not None:
        said += f" ({w.n_before}+{w.n_after} processes)"
    note = f"; {found.note}" if found.note else ""
    print(f"[{i}/{total}] {found.benchmark.name}: {said or 'not weighed'}{note}", flush=True)


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
        change = weighed(t.benchmark.name, t.benchmark.unit, t.weighing, values,
                         (baseline, target))  # fmt: skip
        if t.note:
            change = replace(change, reason=f"{change.reason}; {t.note}")
        changes[t.benchmark.name] = change
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
    if not (t.skipped or t.failed):  # never weighed (the night's time ran out): inconclusive
        return Change(
            name,
            Status.UNCHANGED,
            None,
            higher_is_better(unit),
            None,
            None,
            baseline,
            target,
            unit,
            f"unknown: not weighed: {t.note or 'no processes'}",
        )
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
