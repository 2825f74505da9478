"""Reports from small inputs: criteria, asv history, leakcheck, samples; stored text escaped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from perfkit import generate_performance_report
from perfkit.validation.sources import SourceError, load_leaks
from perfkit.verdict.history import load_history

pytest.importorskip("matplotlib")

from tests.reports import EVIL, STEP, commit, full_report, write_asv
from tests.support import ROOT


def test_asv_history_change_points_and_raw_ratios(tmp_path: Path) -> None:
    write_asv(tmp_path / "results", STEP, [30e-6] * len(STEP))
    history = load_history(tmp_path / "results")
    assert history is not None and history.machine == "box"
    assert [p.value for p in history.series["core.Plan.time_plan(1)"]] == STEP
    assert "raw.RawInsert.time_raw_insert(10)" not in history.series  # a failed value is left out
    assert history.groups()["core.Plan.time_plan"] == [
        "core.Plan.time_plan(1)",
        "core.Plan.time_plan(10)",
    ]
    # the level rose at the fifth commit, and the raw reference stayed: two regressions
    regressions = history.regressions()
    assert regressions == history.changes()
    assert [r.benchmark for r in regressions] == [
        "core.Plan.time_plan(1)",
        "core.Plan.time_plan(10)",
    ]
    assert regressions[0].ratio == pytest.approx(60 / 40)
    assert regressions[0].commit == commit(4) and regressions[0].baseline == commit(3)
    assert regressions[0].p is not None and regressions[0].p < 1e-3
    [ratio] = history.raw_ratios()
    assert ratio["reference"] == "raw.RawInsert.time_raw_insert(1)"
    assert ratio["ratio"] == pytest.approx(2)


def test_a_raw_reference_moving_alike_is_reported_as_the_machine(tmp_path: Path) -> None:
    write_asv(tmp_path / "results", STEP, [v * 0.75 for v in STEP])
    report = generate_performance_report(None, history=load_history(tmp_path / "results"))
    data = report.to_dict()
    assert data["regressions"] == [c for c in data["changes"] if c["label"] == "regression"]
    labels = {c["benchmark"]: c["label"] for c in data["changes"]}
    assert labels == {
        "core.Plan.time_plan(1)": "machine",  # its twin moved alike
        "core.Plan.time_plan(10)": "machine",  # the only raw reference moved at this commit
        "raw.RawInsert.time_raw_insert(1)": "machine",
    }
    assert "3 change point(s), 0 regression(s)" in report.to_markdown()


def test_damaged_result_files_are_left_out_of_the_report(tmp_path: Path) -> None:
    write_asv(tmp_path / "results", [40e-6, 60e-6], [30e-6] * 2)
    (tmp_path / "results" / "box" / "ffffffff-venv.json").write_text('{"version": 2, "res')
    history = load_history(tmp_path / "results")
    assert history is not None and len(history.commits) == 2
    assert [s.split(":")[0] for s in history.skipped] == ["ffffffff-venv.json"]
    report = generate_performance_report(None, history=history)
    assert "0 change point(s), 0 regression(s)" in report.to_markdown()


def test_absent_sources_are_tolerated(tmp_path: Path) -> None:
    assert load_history(tmp_path / "nothing") is None
    assert load_leaks(tmp_path / "nothing.json") is None
    report = generate_performance_report(None)
    assert not report.passed and {v.status for v in report.verdicts} == {"not measured"}
    assert "No validation run" in report.to_markdown()
    assert "<h2>Success criteria</h2>" in report.to_html()


@pytest.mark.parametrize(
    "data",
    [
        [{"workload": "plan", "leaked": True, "bytes_per_iteration": 2.0, "iterations": 10}],
        {"reports": [{"workload": "plan", "leaked": True, "bytes_per_iteration": 2.0}]},
        {"workload": "plan", "leaked": True, "bytes_per_iteration": 2.0},
        {"plan": {"leaked": True, "bytes_per_iteration": 2.0}},
    ],
)
def test_leakcheck_results_in_any_of_its_shapes(tmp_path: Path, data: object) -> None:
    path = tmp_path / "leaks.json"
    path.write_text(json.dumps(data))
    [entry] = load_leaks(path) or []
    assert entry.workload == "plan" and entry.leaked and entry.bytes_per_iteration == 2.0


def test_stored_text_is_escaped_in_the_html(tmp_path: Path) -> None:
    page = full_report(tmp_path, title=EVIL).to_html()
    assert "<script>alert" not in page and "<img src=http" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("<script>") == 1  # only the page's own plot counter
    assert "http://" not in page.replace("http://example.com", "")  # nothing to fetch
    assert "img-src data:" in page  # and the CSP forbids fetching anyway


def test_the_html_embeds_every_plot_and_the_markdown_summarizes(tmp_path: Path) -> None:
    report = full_report(tmp_path)
    page = report.to_html()
    # spec bar chart, two asv history plots, the monitor plot
    assert page.count('<img class="plot"') == 4
    assert page.count('src="data:image/png;base64,') == 4
    assert "Change points over the history" in page and "1.5" in page
    assert "<td>core.Plan.time_plan(1)</td><td>00000004</td><td>40 µs → 60 µs</td>" in page
    md = report.to_markdown()
    assert "| Task creation | < 10 ms | 0.06 ms | 9.94 ms | PASS |" in md
    assert "RuntimeError" in md and "2 change point(s), 2 regression(s)" in md
    assert "leaking: &lt;script&gt;" in md and "peak RSS 31.5 MB" in md
    assert "<script>" not in md and "<img" not in md  # what the files held, escaped
    paths = report.write(tmp_path / "out")
    assert json.loads(paths["json"].read_text())["passed"] is False


def test_the_report_script_builds_from_what_exists(tmp_path: Path) -> None:
    write_asv(tmp_path / ".asv" / "results", [1e-5, 1e-5], [5e-6, 5e-6])
    (tmp_path / ".asv" / "results" / "box" / "ffffffff-venv.json").write_text("[]")
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts/generate_performance_report.py"),
         "--repo", str(tmp_path), "--out", str(tmp_path / "r")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "asv history        found" in out.stdout
    assert "asv result file left out: ffffffff-venv.json" in out.stderr
    assert "validation run     absent" in out.stdout
    page = (tmp_path / "r" / "report.html").read_text()
    assert page.count('<img class="plot"') == 2
    assert (tmp_path / "r" / "summary.md").read_text().startswith("# taskorch performance report")


def test_a_validation_report_is_read_back_and_gates_the_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from perfkit.commands import report_cli
    from perfkit.validation.sources import load_results

    written = full_report(tmp_path).write(tmp_path / "validation")
    session = load_results(written["json"])
    assert session is not None and session.by_target("task_creation") is not None
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(SourceError, match=r"broken\.json: is not valid JSON"):
        load_results(tmp_path / "broken.json")
    out = str(tmp_path / "r")
    args = ["--repo", str(tmp_path), "--results", str(written["json"]), "--out", out]
    assert report_cli.main(args) == 0
    assert report_cli.main([*args, "--gate"]) == 1  # the run has a failed criterion
    assert "validation run     found" in capsys.readouterr().out


def test_measured_text_is_escaped_once_in_the_html_and_in_the_markdown() -> None:
    from perfkit import SessionResults, SpecResult

    row = SpecResult({"target": "leaks", "name": "memory:leaks"}, 7,
                     {"leaks": 1, "leaking": ["plan", "a<b"]}, False, 1.0)  # fmt: skip
    report = generate_performance_report(SessionResults("s", "t", 1, "sqlite:///x", (row,), {}))
    html = report.to_html()
    assert "leaking=[plan, a&lt;b]" in html and "&amp;" not in html
    md = report.to_markdown()
    assert "leaking=&#91;plan, a&lt;b&#93;" in md and "&amp;" not in md


def agents_report() -> Any:
    from perfkit import SessionResults, SpecResult

    agents = {
        "agent_count": 100,
        "working_median": 97,
        "working_peak": 100,
        "working_mean": 91.5,
        "active_agents": 100,
        "double_claims": 0,
        "lost_tasks": 0,
        "errors": 0,
    }
    probe = {
        "agents": 200,
        "held": False,
        "sound": True,
        "working_median": 150,
        "working_peak": 200,
        "loops_per_second": 3000.0,
        "claim_p99_ms": 9.5,
        "why": f"median 150 working at once, below 180 {EVIL}",
    }
    capacity = {
        "capacity": 100,
        "broke_at": 200,
        "stopped": "the bounds met",
        "seconds": 7.0,
        "probes": [{**probe, "agents": 100, "held": True, "why": ""}, probe],
        "work_ms": 50.0,
        "min_working": 0.9,
        "probe_seconds": 3.0,
        "passed": None,
    }
    rows = (
        SpecResult({"target": "task_creation", "name": "c"}, 2, {"mean_ms": 0.25}, True, 0.1),
        SpecResult({"target": "baseline", "name": "b"}, 3, {"rss_mb": 25.5}, True, 0.1),
        SpecResult({"target": "concurrent_agents", "name": "a"}, 4, agents, True, 1.0),
        SpecResult({"target": "agent_capacity", "name": "cap"}, 5, capacity, None, 7.0),
    )  # fmt: skip
    return generate_performance_report(SessionResults("s", "t", 1, "sqlite:///x", rows, {}))


def test_every_criterion_column_carries_its_unit() -> None:
    report = agents_report()
    md = report.to_markdown()
    assert "| Task creation | < 10 ms | 0.25 ms | 9.75 ms | PASS |" in md
    assert "| Baseline memory | < 500 MiB | 25.5 MiB | 474 MiB | PASS |" in md
    assert "| Concurrent agents | >= 50 agents | 97 agents | 47 agents | PASS" in md
    html = report.to_html()
    assert "<td>0.25 ms</td><td>9.75 ms</td>" in html
    assert "<td>97 agents</td><td>47 agents</td>" in html
    assert "<td>— </td>" not in html and "— ms" not in md  # no unit on a missing value


def test_concurrency_is_shown_beside_the_configured_count_and_capacity_has_a_section() -> None:
    report = agents_report()
    [agents] = [v for v in report.verdicts if v.key == "concurrent_agents"]
    assert agents.measured == 97 and "peak 100, 100 configured" in agents.note
    md = report.to_markdown()
    assert "agents working at once: median 97, peak 100, mean 91.5 (100 configured)" in md
    assert "active_agents" not in md  # agents that did any work is not concurrency
    assert "Largest count that held: 100 agents; 200 agents broke." in md
    assert "| 200 agents | no | 150 agents | 200 agents | 3,000 loops/s | 9.5 ms |" in md
    html = report.to_html()
    assert "<h2>Agent capacity</h2>" in html and "<td>100 agents</td><td>yes</td>" in html
    assert "&lt;script&gt;alert" in html and "<script>alert" not in html


def test_a_run_without_the_concurrency_measurement_says_what_it_counted() -> None:
    from perfkit import SessionResults, SpecResult

    old = {"active_agents": 50, "double_claims": 0, "lost_tasks": 0, "errors": 0}
    row = SpecResult({"target": "concurrent_agents", "name": "a"}, 4, old, True, 1.0)
    report = generate_performance_report(SessionResults("s", "t", 1, "sqlite:///x", (row,), {}))
    [agents] = [v for v in report.verdicts if v.key == "concurrent_agents"]
    assert agents.measured == 50 and "not agents working at once" in agents.note
    assert "active_agents=50" in report.to_markdown()
