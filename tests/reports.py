"""Small, fixed inputs for the performance report: a results folder in asv's format, a
validation run, leak verdicts and monitor samples, with hostile text in every stored string."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfkit import SessionResults, SpecResult, generate_performance_report
from perfkit.history import load_history
from perfkit.monitor import Sample
from perfkit.sources import LeakEntry

EVIL = "<script>alert('x')</script><img src=http://example.com/x.png>"
#: What a hostile string must never be seen as, anywhere in a page: markup that would run.
MARKUP = ("<script>alert", "<img src=http", "</script><img")
#: An operation's timings over eight commits: its level rises by half at the fifth.
STEP = [40e-6, 41e-6, 39e-6, 40e-6, 60e-6, 61e-6, 59e-6, 60e-6]


def write_asv(results: Path, values: list[float], raw: list[float], hostile: bool = False) -> None:
    """A tiny asv 0.6 results folder: one machine, one commit per value (``hostile``: plus a
    benchmark whose name and unit are :data:`EVIL`)."""
    machine = results / "box"
    machine.mkdir(parents=True)
    (machine / "machine.json").write_text('{"machine": "box", "version": 1}')
    (results / "benchmarks.json").write_text(json.dumps({
        "core.Plan.time_plan": {"unit": "seconds"},
        "raw.RawInsert.time_raw_insert": {"unit": "seconds"},
        "version": 2,
    }))  # fmt: skip
    columns = ["result", "params", "version", "started_at", "duration"]
    for i, (ours, theirs) in enumerate(zip(values, raw, strict=True)):
        data = {
            "commit_hash": f"{i:040x}", "env_name": "venv", "date": 1_700_000_000_000 + i,
            "params": {"machine": "box"}, "python": "3.11", "requirements": {}, "env_vars": {},
            "result_columns": columns, "durations": {}, "version": 2,
            "results": {
                "core.Plan.time_plan": [[ours, ours * 9], [["1", "10"]], "v", 0, 1.0],
                "raw.RawInsert.time_raw_insert": [[theirs, None], [["1", "10"]], "v", 0, 1.0],
            },
        }  # fmt: skip
        if hostile:
            data["results"][f"core.Evil.time_{EVIL}"] = [[ours], [["1"]], EVIL, 0, 1.0]
        (machine / f"{i:08x}-venv.json").write_text(json.dumps(data))
    if hostile:
        described = json.loads((results / "benchmarks.json").read_text())
        described[f"core.Evil.time_{EVIL}"] = {"unit": EVIL}
        (results / "benchmarks.json").write_text(json.dumps(described))


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
