"""The benchmark history of one machine, for the report, the figures and the site: series to
plot, the change points of every series and which of them are regressions, and each operation's
ratio to its raw sqlite3 reference.

Read through :mod:`perfkit.data.asvdata`. The history is read as a history: each series' change
points (:mod:`perfkit.verdict.changepoints`, kept by the rule the nightly job applies, with the
benchmark's calibrated threshold), those the raw references explain labelled machine
(:mod:`perfkit.verdict.controls`); a regression is a lasting change point in the bad direction (not
a transient that came back) that the machine does not explain.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.asvdata import Measurement, Run, machines, revisions, scan
from ..kit.options import UsageError, named_machine
from .calibration_data import load_thresholds
from .changepoints import Shift, shifts
from .controls import is_raw, label_machine, raw_twins

__all__ = ["CALIBRATION_DIR", "History", "calibration_file", "load_history", "reading_machine"]

# Where the A/A calibration keeps each machine's thresholds, under the repository root.
CALIBRATION_DIR = "calibration"


@dataclass(frozen=True, slots=True)
class History:
    """The result files of one machine, oldest commit first."""

    machine: str
    runs: tuple[Run, ...]
    # Each benchmark's numbers over the commits, as the published site draws them: failed and
    # skipped values left out, and only the points of the newest benchmark version.
    series: Mapping[str, tuple[Measurement, ...]]
    skipped: tuple[str, ...] = ()  # result files that could not be read, with why
    # Each benchmark's calibrated threshold (a relative change); the default for the others.
    thresholds: Mapping[str, float] = field(default_factory=dict)

    @property
    def commits(self) -> list[str]:
        """Commits with results, oldest first."""
        return list(dict.fromkeys(run.commit for run in self.runs))

    def at(self, commit: str) -> dict[str, Measurement]:
        """Every measurement of ``commit``, by benchmark."""
        return {m.benchmark: m for r in self.runs if r.commit == commit for m in r.measurements}

    def groups(self) -> dict[str, list[str]]:
        """The series keys of each benchmark (its parameter sets), by benchmark name."""
        out: dict[str, list[str]] = {}
        for key, points in self.series.items():
            out.setdefault(points[-1].name, []).append(key)
        return out

    def unit(self, key: str) -> str:
        points = self.series.get(key)
        return points[-1].unit if points else ""

    def changes(self, thresholds: Mapping[str, float] | None = None) -> list[Shift]:
        """Every change point over the whole history, labelled, in commit order then by
        benchmark; ``thresholds`` replace the history's own."""
        chosen = self.thresholds if thresholds is None else thresholds
        found = [s for key, points in self.series.items() for s in shifts(key, points, chosen)]
        commits = self.commits
        raw = [key for key in self.series if is_raw(key)]
        labelled = label_machine(found, commits, raw_twins(self.series), raw)
        order = {c: i for i, c in enumerate(commits)}
        return sorted(labelled, key=lambda s: (order.get(s.commit, -1), s.benchmark))

    def regressions(self, thresholds: Mapping[str, float] | None = None) -> list[Shift]:
        """The lasting change points in the bad direction that the machine does not explain."""
        return [s for s in self.changes(thresholds) if s.regressed]

    def raw_ratios(self) -> list[dict[str, Any]]:
        """At the newest commit: each operation over its raw sqlite3 reference."""
        latest = {key: points[-1].value for key, points in self.series.items()}
        return [
            {"benchmark": ours, "reference": raw, "ratio": latest[ours] / latest[raw]}
            for ours, raw in sorted(raw_twins(latest).items())
            if latest[raw] > 0
        ]


def load_history(
    results: Path,
    machine: str | None = None,
    *,
    root: Path | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> History | None:
    """The history of ``machine`` (by default the one with most result files) in ``results``;
    None when there is none. Its thresholds are ``thresholds`` when given, else the machine's
    calibration under ``root`` (:func:`calibration_file`) when there is one, else the defaults."""
    names = [n for n in machines(results) if machine is None or n == machine]
    if not names:
        return None
    found = max((scan(results, n) for n in names), key=lambda s: len(s.runs))
    runs = found.runs
    if root is not None:  # in the repository's order, as the site draws it
        order = revisions(root, {r.commit for r in runs})
        runs = tuple(sorted(runs, key=lambda r: (order.get(r.commit, -1), r.date, r.commit)))
    if thresholds is None:
        thresholds = {} if root is None else load_thresholds(calibration_file(root, found.machine))
    return History(found.machine, runs, _series(runs), found.skipped, thresholds)


def reading_machine(results: Path, given: str | None) -> str | None:
    """The machine whose history a command that reads one reads: ``given`` (its ``--machine``),
    else ``$TASKORCH_ASV_MACHINE``, either of which must have results in ``results``
    (:class:`UsageError` naming the machines that have some otherwise); else this host when it
    has results; else None, which :func:`load_history` reads as the machine with the most
    results (on a fresh clone, the kept reference's)."""
    found = machines(results)
    named = (given, f"--machine {given}") if given else named_machine()
    if named is not None:
        name, said = named
        if name in found:
            return name
        have = f"machines with results: {', '.join(found)}" if found else "no machine has any"
        raise UsageError(f"{said}: no results for this machine in {results} ({have})")
    host = platform.node()
    return host if host in found else None


def calibration_file(root: Path, machine: str) -> Path:
    """The thresholds the A/A calibration measured for ``machine`` in the repository ``root``."""
    return root / CALIBRATION_DIR / f"{machine}.json"


def _series(runs: Iterable[Run]) -> dict[str, tuple[Measurement, ...]]:
    found: dict[str, list[Measurement]] = {}
    for run in runs:
        for m in run.measurements:
            if m.usable and not m.one_sample:  # a quick run's value is no level of the history
                found.setdefault(m.benchmark, []).append(m)
    return {
        key: tuple(p for p in points if p.version == points[-1].version)
        for key, points in sorted(found.items())
    }
