"""Small, fixed inputs for the performance report: a results folder in asv's format, a
validation run, leak verdicts and monitor samples, with hostile text in every stored string."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfkit import SessionResults, SpecResult, generate_performance_report
from perfkit.validation.monitor import Sample
from perfkit.validation.sources import LeakEntry
from perfkit.verdict.history import load_history
from tests.asvfiles import Value, write_results

EVIL = "<script>alert('x')</script><img src=http://example.com/x.png>"
#: What a hostile string must never be seen as, anywhere in a page: markup that would run.
MARKUP = ("<script>alert", "<img src=http", "</script><img")
#: An operation's timings over eight commits: its level rises by half at the fifth.
STEP = [40e-6, 41e-6, 39e-6, 40e-6, 60e-6, 61e-6, 59e-6, 60e-6]


def commit(i: int) -> str:
    """The made-up commit hash of the ``i``-th result set of :func:`write_asv`."""
    return f"{i:08x}".ljust(40, "0")


def write_asv(results: Path, values: list[float], raw: list[float], hostile: bool = False) -> None:
    """A tiny asv results folder, written by asv's own classes: one machine, one commit per
    value (``hostile``: plus a benchmark whose name, unit and version are :data:`EVIL`)."""
    ours, theirs, evil = (
        "core.Plan.time_plan",
        "raw.RawInsert.time_raw_insert",
        f"core.Evil.time_{EVIL}",
    )
    params: dict[str, list[list[str]]] = {ours: [["1", "10"]], theirs: [["1", "10"]]}
    units, versions = {}, {ours: "v", theirs: "v"}
    if hostile:
        params[evil], units[evil], versions[evil] = [["1"]], EVIL, EVIL
    for i, (value, reference) in enumerate(zip(values, raw, strict=True)):
        found: dict[str, list[Value]] = {ours: [value, value * 9], theirs: [reference, None]}
        if hostile:
            found[evil] = [value]
        write_results(results, "box", commit(i), found, date=1_700_000_000_000 + i,
                      params=params, units=units, versions=versions)  # fmt: skip


def session(title: str = "nightly") -> SessionResults:
    rows = (
        SpecResult({"target": "task_creation", "name": EVIL}, 2, {"mean_ms": 0.06,
                   "expected_ms": 10.0, "passed": True}, True, 0.2),
        SpecResult({"target": "database_operations", "name": "db"}, 3, {}, False, 0.1,
                   error=f"RuntimeError: {EVIL}"),
    )  # fmt: skip
    return SessionResults("s", title, 1, "sqlite:///x.db", rows, {"python": "3.11"})


def full_report(tmp_path: Path, title: str = "nightly") -> Any:
    write_asv(tmp_path / "results", STEP, [30e-6] * len(STEP))
    return generate_performance_report(
        session(title),
        history=load_history(tmp_path / "results"),
        leaks=[LeakEntry("plan", False, 0.0, 20_000), LeakEntry(EVIL, True, 8.0, 20_000)],
        samples=[Sample(0.0, 30.0, 5.0, 1, 2), Sample(1.0, 31.5, 50.0, 2, 3)],
    )


def hostile_report(tmp_path: Path) -> Any:
    """A report where every stored field, of every source, holds :data:`EVIL` (where a number
    belongs too: a Python caller or a results file can put any value there)."""
    evil: Any = EVIL
    rows = (
        SpecResult({"target": "task_creation", "name": EVIL, EVIL: EVIL}, evil,
                   {"mean_ms": EVIL, "expected_ms": EVIL, "reason": EVIL, "leaking": [EVIL],
                    "rss_mb": EVIL, "nodes": EVIL, EVIL: EVIL}, None, evil),
        SpecResult({"target": "baseline", "name": EVIL}, 3, {"mean_ms": 0.2,
                   "expected_ms": EVIL}, True, 0.1, error=EVIL),
    )  # fmt: skip
    session = SessionResults(EVIL, EVIL, evil, EVIL, rows, {EVIL: EVIL}, evil)
    write_asv(tmp_path / "results", STEP, [30e-6] * len(STEP), hostile=True)
    return generate_performance_report(
        session,
        title=EVIL,
        history=load_history(tmp_path / "results"),
        leaks=[LeakEntry(EVIL, True, evil, evil, EVIL), LeakEntry("plan", False, 0.0, 20)],
        samples=[Sample(evil, evil, evil, evil, evil), Sample(0.0, 30.0, 5.0, 1, 2),
                 Sample(1.0, 31.0, 9.0, 1, 3)],
    )  # fmt: skip
