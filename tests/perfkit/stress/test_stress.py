"""Short versions of the stress scripts (scripts/stress/): invariants, never timings.

Each runs the documented script with small numbers in a subprocess and checks its verdict.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from taskorch import cli
from tests.support import ROOT

STRESS = ROOT / "scripts" / "stress"


def run_script(name: str, *args: str, tmp_path: Path) -> dict[str, object]:
    out = tmp_path / "result.json"
    proc = subprocess.run(
        [sys.executable, str(STRESS / name), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_concurrent_agents_for_a_fixed_time(tmp_path: Path) -> None:
    result = run_script(
        "agents.py", "--agents", "5", "40", "--duration", "1", "--tasks", "3000", tmp_path=tmp_path
    )
    runs = result["runs"]
    assert isinstance(runs, list) and [r["agents"] for r in runs] == [5, 40]
    for r in runs:
        assert r["invariants_ok"] and r["errors"] == 0 and r["completed"] > 0
        assert r["rss_mib"]["samples"]


def test_a_large_graph_is_drained(tmp_path: Path) -> None:
    result = run_script(
        "large_graph.py", "--tasks", "3000", "--agents", "50", "--width", "100",
        "--fan-in", "3", tmp_path=tmp_path,
    )  # fmt: skip
    assert result["invariants"] == "invariants over 3000 subtasks (3000 completed): ok"


def test_a_killed_agent_process_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    result = run_script(
        "crash.py", "--tasks", "300", "--agents", "10", "--lease", "0.5", "--work-ms", "20",
        "--kill-after", "40", "--dir", str(tmp_path / "crash"), tmp_path=tmp_path,
    )  # fmt: skip
    assert result["ok"] and result["integrity_check"] == "ok", result["problems"]
    assert isinstance(result["held_at_kill"], int) and result["held_at_kill"] > 0
    assert result["reclaimed"] == result["held_at_kill"]


def test_processes_share_one_file_from_a_cold_start(tmp_path: Path) -> None:
    result = run_script(
        "multiprocess.py", "--processes", "3", "--agents", "20", "--tasks", "1500",
        "--busy-timeout", "0.3", tmp_path=tmp_path,
    )  # fmt: skip
    cold, locked = result["cold_start"], result["locked"]
    assert isinstance(cold, dict) and isinstance(locked, dict)
    assert cold["ok"] and sum(cold["completed_per_process"]) == 1500
    assert locked["ok"] and locked["error"].startswith("DatabaseLockedError")


@pytest.mark.parametrize("extra", [[], ["--fan-in", "2", "--per-call"], ["--duration", "0.5"]])
def test_the_fleet_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    db = f"sqlite:///{tmp_path}/f.db"
    code = cli.main(["fleet", "--db", db, "--agents", "20", "--tasks", "400", *extra])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "planned 400 subtasks" in out and ": ok" in out and "loops/s" in out


def test_the_fleet_command_works_a_plan_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "goal": "g",
                "subtasks": [
                    {"key": "a", "title": "A", "specialist": "s"},
                    {"key": "b", "title": "B", "specialist": "s", "depends_on": ["a"]},
                ],
            }
        )
    )
    db = f"sqlite:///{tmp_path}/f.db"
    assert cli.main(["fleet", "--db", db, "--plan", str(plan), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["completed"] == 2 and report["invariants"].endswith(": ok")
