"""The benchmark history of one machine, for the report: series to plot, the regressions of the
newest commit, and each operation's ratio to its raw sqlite3 reference.

Read through :mod:`perfkit.asvdata`; the regressions come from :mod:`perfkit.regression`, the
rule the nightly job applies to the same two commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .asvdata import Measurement, Run, machines, scan
from .regression import DEFAULT_FACTOR, Change, compare
from .workloads import references

__all__ = ["History", "load_history", "operation", "raw_twins"]


@dataclass(frozen=True, slots=True)
class History:
    """The result files of one machine, oldest commit first."""

    machine: str
    runs: tuple[Run, ...]
    # Each benchmark's numbers over the commits, as the published site draws them: failed and
    # skipped values left out, and only the points of the newest benchmark version.
    series: Mapping[str, tuple[Measurement, ...]]
    skipped: tuple[str, ...] = ()  # result files that could not be read, with why

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

    def regressions(self, factor: float = DEFAULT_FACTOR) -> list[Change]:
        """What regressed at the newest commit against the one before it."""
        commits = self.commits
        if len(commits) < 2:
            return []
        changes = compare(self.at(commits[-2]), self.at(commits[-1]), factor)
        return [c for c in changes if c.regressed]

    def raw_ratios(self) -> list[dict[str, Any]]:
        """At the newest commit: each operation over its raw sqlite3 reference."""
        latest = {key: points[-1].value for key, points in self.series.items()}
        return [
            {"benchmark": ours, "reference": raw, "ratio": latest[ours] / latest[raw]}
            for ours, raw in sorted(raw_twins(latest).items())
            if latest[raw] > 0
        ]


def load_history(results: Path, machine: str | None = None) -> History | None:
    """The history of ``machine`` (by default the one with most result files) in ``results``;
    None when there is none."""
    names = [n for n in machines(results) if machine is None or n == machine]
    if not names:
        return None
    found = max((scan(results, n) for n in names), key=lambda s: len(s.runs))
    return History(found.machine, found.runs, _series(found.runs), found.skipped)


def _series(runs: Iterable[Run]) -> dict[str, tuple[Measurement, ...]]:
    found: dict[str, list[Measurement]] = {}
    for run in runs:
        for m in run.measurements:
            if m.usable:
                found.setdefault(m.benchmark, []).append(m)
    return {
        key: tuple(p for p in points if p.version == points[-1].version)
        for key, points in sorted(found.items())
    }


def operation(benchmark: str) -> str | None:
    """The workload a ``time_`` benchmark times: its method's name without the prefix
    (``lifecycle.Plan.time_plan(10)`` times ``plan``)."""
    method = benchmark.split("(", 1)[0].rsplit(".", 1)[-1]
    kind, _, name = method.partition("_")
    return name if kind == "time" and name else None


def raw_twins(benchmarks: Iterable[str]) -> dict[str, str]:
    """Each benchmark timing an operation that has a raw sqlite3 reference
    (:func:`perfkit.workloads.references`), mapped to the benchmark timing that reference with
    the same parameters, where both are among ``benchmarks``."""
    names = list(benchmarks)
    by_operation = {(operation(n), _params(n)): n for n in names}
    refs: Mapping[str, str] = references()
    twins = {}
    for name in names:
        reference = refs.get(operation(name) or "")
        twin = by_operation.get((reference, _params(name))) if reference else None
        if twin is not None:
            twins[name] = twin
    return twins


def _params(benchmark: str) -> str:
    return benchmark.partition("(")[2]
