"""The taskorch command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskorch", *args], cwd=cwd, capture_output=True, text=True,
        timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_help_lists_the_commands(tmp_path: Path) -> None:
    out = run("--help", cwd=tmp_path)
    assert out.returncode == 0
    for command in ("init", "plan", "status", "show", "demo"):
        assert command in out.stdout


def test_init_plan_status_show(tmp_path: Path) -> None:
    assert run("init", cwd=tmp_path).returncode == 0
    assert (tmp_path / ".taskorch" / "taskorch.db").is_file()
    spec = {
        "goal": "g",
        "context": {"k": 1},
        "subtasks": [
            {"key": "a", "title": "A", "specialist": "s"},
            {"key": "b", "title": "B", "specialist": "s", "depends_on": ["a"]},
        ],
    }
    (tmp_path / "plan.json").write_text(json.dumps(spec))
    out = run("plan", "plan.json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    assert list(written["task_ids"]) == ["a", "b"]
    status = json.loads(run("status", "--json", cwd=tmp_path).stdout)
    assert status["subtasks"] == {"ready": 1, "pending": 1}
    shown = json.loads(run("show", str(written["task_ids"]["b"]), cwd=tmp_path).stdout)
    assert shown["goal"] == "g" and shown["status"] == "pending"


def test_bad_plan_file_exits_nonzero_with_message(tmp_path: Path) -> None:
    (tmp_path / "cyclic.json").write_text(
        json.dumps({"goal": "g", "subtasks": [
            {"key": "a", "title": "A", "specialist": "s", "depends_on": ["a"]}]})
    )  # fmt: skip
    out = run("plan", "cyclic.json", cwd=tmp_path)
    assert out.returncode == 1 and "CycleError" in out.stderr
    (tmp_path / "broken.json").write_text("{not json")
    out = run("plan", "broken.json", cwd=tmp_path)
    assert out.returncode == 2 and "cannot read plan file" in out.stderr
    assert run("show", "12345", cwd=tmp_path).returncode == 1


def test_demo_runs_a_plan_to_completion(tmp_path: Path) -> None:
    out = run("demo", "--db", f"sqlite:///{tmp_path}/demo.db", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "plan 1 completed" in out.stdout
    assert out.stdout.count("-> completed") == 5
