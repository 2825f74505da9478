"""The taskorch command line, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from taskorch.cli import main
from tests.hostile import hostile_files
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


def assert_no_traceback(out: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert out.returncode == code, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr
    for word in words:
        assert word in out.stderr, out.stderr


def test_a_plan_file_that_is_not_utf8_is_bad_usage(tmp_path: Path) -> None:
    (tmp_path / "latin1.json").write_bytes('{"goal": "caf\xe9", "subtasks": []}'.encode("latin-1"))
    out = run("plan", "latin1.json", cwd=tmp_path)
    assert_no_traceback(out, 2, "cannot read plan file latin1.json", "utf-8")
    out = run("plan", "missing.json", cwd=tmp_path)
    assert_no_traceback(out, 2, "cannot read plan file missing.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert_no_traceback(run("plan", "list.json", cwd=tmp_path), 2, "a plan file is a JSON object")


def test_show_of_an_id_out_of_range_is_bad_usage(tmp_path: Path) -> None:
    for bad in (str(2**70), "0", "-3", "seven"):
        assert_no_traceback(run("show", bad, cwd=tmp_path), 2, "usage:")
    assert not (tmp_path / ".taskorch").exists()  # nothing opened, nothing written


def test_a_bad_busy_timeout_in_the_url_is_a_clear_error(tmp_path: Path) -> None:
    for value in ("abc", "nan", "-1"):
        out = run("status", "--db", f"sqlite:///{tmp_path}/t.db?busy_timeout={value}", cwd=tmp_path)
        assert_no_traceback(out, 1, "InvalidArgumentError", "busy_timeout")
    assert not (tmp_path / "t.db").exists()


def test_a_database_under_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    out = run("init", "--db", f"sqlite:///{tmp_path}/afile/t.db", cwd=tmp_path)
    assert_no_traceback(out, 1, "StorageError", "afile")
    assert (tmp_path / "afile").read_text() == "not a folder"


def test_main_maps_errors_to_exit_statuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/t.db"
    assert main(["init", "--db", url]) == 0
    assert main(["show", "--db", url, "5"]) == 1
    assert "UnknownTaskError" in capsys.readouterr().err
    (tmp_path / "p.json").write_bytes(b"\xff\xfe")
    assert main(["plan", "--db", url, str(tmp_path / "p.json")]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["show", "--db", url, "x"])
    assert usage.value.code == 2


def test_a_broken_plugin_is_a_warning_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from importlib.metadata import EntryPoint

    import taskorch.cli

    broken = EntryPoint("broken", "taskorch_no_such_plugin:register", taskorch.cli.COMMANDS_GROUP)
    monkeypatch.setattr(taskorch.cli, "entry_points", lambda group: [broken])
    assert main(["init", "--db", f"sqlite:///{tmp_path}/t.db"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "'broken'" in err[0] and "taskorch_no_such_plugin" in err[0], err


def test_a_fifo_a_device_or_a_deeply_nested_plan_file_is_bad_usage(tmp_path: Path) -> None:
    with hostile_files(tmp_path) as files:
        for path, words in files.values():
            out = run("plan", str(path), cwd=tmp_path)
            assert_no_traceback(out, 2, f"cannot read plan file {path}", words)
    assert not (tmp_path / ".taskorch").exists()  # refused before the database is opened


def test_a_lone_surrogate_in_a_plan_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "goal.json").write_text('{"goal": "\\ud800", "subtasks": []}')
    out = run("plan", "goal.json", cwd=tmp_path)
    assert_no_traceback(out, 1, "InvalidArgumentError: goal: must be valid Unicode text")
    (tmp_path / "title.json").write_text(
        '{"goal": "g", "subtasks": [{"key": "a", "title": "\\udcff", "specialist": "s"}]}'
    )
    out = run("plan", "title.json", cwd=tmp_path)
    assert_no_traceback(out, 1, "InvalidSubtaskError: subtask 0: 'title' must be valid Unicode")
    out = run("show", "1", cwd=tmp_path)
    assert_no_traceback(out, 1, "UnknownTaskError")  # nothing was written
