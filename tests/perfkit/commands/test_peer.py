"""The peer comparison: the taskorch side with tiny numbers (the peer is not installed), and the
peer's input built from the same plans."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from perfkit.commands import peer
from perfkit.kit.exits import Exit
from perfkit.workloads.plans import subtasks


def test_the_taskorch_driver_measures_every_row_with_its_raw_references() -> None:
    figures = peer.run_driver(Path(sys.executable), "taskorch", calls=5, seconds=0.5)
    assert {key for key, _, _ in peer.ROWS} <= set(figures)
    assert 5 < figures["rss_mb"] < 500  # read from outside the driver while it waited
    assert figures["agents_50"] > 0  # the fleet's invariants held, or the driver exits non-zero
    # every row whose workload has a bare-sqlite3 reference carries it, and no other row does
    assert {k for k in figures if k.startswith("raw_")} == {"raw_plan_1", "raw_plan_10", "raw_get"}
    table = peer.table(figures, {})
    assert "| 50 concurrent agents" in table
    plan_row = next(line for line in table.splitlines() if "1 subtask (durable)" in line)
    assert plan_row.rstrip(" |").endswith(" µs")  # the raw column is filled


def test_the_peer_plans_the_same_tree_as_the_plan_workload() -> None:
    ours = subtasks(10)
    theirs = json.loads(peer.peer_subtasks(10, "t"))
    assert [t["task_id"] for t in theirs] == [f"t_{i}" for i in range(10)]
    assert [len(t["dependencies"]) for t in theirs] == [len(s["depends_on"]) for s in ours]
    assert theirs[5]["dependencies"] == ["t_2"] and ours[5]["depends_on"] == ["k2"]


def test_a_peer_that_cannot_be_installed_says_what_to_do_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []

    def offline(command: list[str], check: bool = False) -> None:
        calls.append(command)
        if "pip" in command:
            raise subprocess.CalledProcessError(1, command)

    monkeypatch.setattr(peer.subprocess, "run", offline)
    monkeypatch.setattr(peer, "run_driver", lambda *a: pytest.fail("a side was run"))
    venv = tmp_path / "peer-venv"
    assert peer.main(["--quick", "--venv", str(venv)]) == Exit.CANNOT_RUN
    err = capsys.readouterr().err
    assert f"cannot install {peer.PEER} into {venv}" in err and "--venv" in err
    assert "Traceback" not in err and not (venv / ".installed").exists()
    assert [c[2] for c in calls] == ["venv", "pip"]
