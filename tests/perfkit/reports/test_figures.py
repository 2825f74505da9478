"""The figures of one commit: medians, spread, ours over the raw sqlite3 reference, whether the
history's level changed there; on a tiny results folder and on the kept results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from perfkit.reports.figures import figures
from perfkit.verdict.controls import operation, raw_twins
from tests.asvfiles import Value, spread, write_results
from tests.support import ROOT

COMMITS = [str(i) * 40 for i in range(1, 9)]
PARAMS = {"lifecycle.Plan.time_plan": [["1"]], "raw.RawInsert.time_raw_insert": [["1"]]}


def rows(lines: list[str]) -> dict[tuple[str, str], list[str]]:
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return {(c[0].strip("`"), c[1]): c[2:] for c in cells}


def test_a_commits_figures(tmp_path: Path) -> None:
    values: dict[str, list[Value]] = {
        "lifecycle.Plan.time_plan": [spread(3e-5)],
        "raw.RawInsert.time_raw_insert": [spread(1e-5)],
        "memory.M.track_rss": [20.0],
        "codec.E.time_encode": [None],
    }
    units = {"memory.M.track_rss": "MiB"}
    for i, commit in enumerate(COMMITS):
        if i == 4:  # the operation's level rises by half here, its raw reference stays
            values["lifecycle.Plan.time_plan"] = [spread(4.5e-5)]
        write_results(tmp_path, "box", commit, values, date=i + 1, params=PARAMS, units=units)
    step, after = COMMITS[4], COMMITS[5]
    lines = figures(tmp_path, "box", step[:8]) or []
    assert lines[0].endswith("| level change here |")
    table = rows(lines)
    median, spread_, ratio, change = table[("lifecycle.Plan.time_plan", "1")]
    assert median == "45 µs" and spread_.endswith(" %") and float(spread_[:-2]) < 2
    assert ratio == "4.5x" and change.startswith("1.50x regression, p ")
    assert table[("raw.RawInsert.time_raw_insert", "1")][2:] == ["—", "—"]
    assert table[("memory.M.track_rss", "—")] == ["20 MiB", "—", "—", "—"]
    assert table[("codec.E.time_encode", "—")][0] == "failed"
    later = rows(figures(tmp_path, "box", after) or [])
    assert later[("lifecycle.Plan.time_plan", "1")][3] == "—"  # the level changed before it
    # a calibrated threshold above the step: no change point
    calm = rows(figures(tmp_path, "box", step, thresholds={"lifecycle.Plan.time_plan(1)": 0.6})
                or [])  # fmt: skip
    assert calm[("lifecycle.Plan.time_plan", "1")][3] == "—"
    assert figures(tmp_path, "box", "9" * 40) is None
    assert figures(tmp_path, "elsewhere", step) is None


def test_only_operations_with_a_raw_reference_are_paired() -> None:
    assert operation("lifecycle.Plan.time_plan(10)") == "plan"
    assert operation("graph.PlanGraph.time_plan_graph(1000)") == "plan_graph"
    assert operation("memory.PeakMemPlan.peakmem_plan_graph(1000)") is None
    names = [
        "lifecycle.Plan.time_plan(1000)",
        "graph.PlanGraph.time_plan_graph(1000)",
        "memory.PeakMemPlan.peakmem_plan_graph(1000)",
        "raw.RawInsert.time_raw_insert(1000)",
        "database.Get.time_get(1000)",
        "raw.RawGet.time_raw_get(100000)",
    ]
    assert raw_twins(names) == {
        "lifecycle.Plan.time_plan(1000)": "raw.RawInsert.time_raw_insert(1000)"
    }


def test_the_kept_results_figures() -> None:
    script = ROOT / "scripts" / "asv_figures.py"
    done = subprocess.run(
        [sys.executable, str(script), "9295de9", "--machine", "ref-2core"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    table = rows(done.stdout.splitlines())
    paired = sorted(key for key, cells in table.items() if cells[2] != "—")
    assert paired == [
        ("database.Get.time_get", "1000"),
        ("database.Get.time_get", "100000"),
        ("lifecycle.Plan.time_plan", "1"),
        ("lifecycle.Plan.time_plan", "10"),
        ("lifecycle.Plan.time_plan", "1000"),
    ]
    # The kept history as re-recorded on ref-2core (docs/benchmarks.md, "History").
    assert table[("lifecycle.Plan.time_plan", "1")][:1] == ["46.1 µs"]
    assert table[("lifecycle.Plan.time_plan", "1")][2] == "3.2x"
    unknown = subprocess.run([sys.executable, str(script), "no-such-rev"], cwd=ROOT)
    assert unknown.returncode == 4  # could not run: no such revision
