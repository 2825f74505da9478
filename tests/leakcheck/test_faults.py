"""``python -m leakcheck run`` when the workload misbehaves or an output cannot be written.

The loop runs in a child process: whatever the workload does to that process (crash, fork,
leave threads running, raise SystemExit), leakcheck reports it in words with its own exit
status and leaves no capture behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leakcheck import UsageError, WorkloadError, check, check_session
from leakcheck.outputs import write_text_whole

ROOT = Path(__file__).resolve().parents[2]

WORKLOADS = """\
import ctypes
import os
import threading

calls = 0
started = threading.Event()
never = threading.Event()

def threaded():
    if not started.is_set():
        started.set()
        threading.Thread(target=never.wait).start()  # not a daemon: joined at exit

def crashes():
    global calls
    calls += 1
    if calls == 20:
        ctypes.string_at(0)  # reads address 0: SIGSEGV

def forks():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)

def exits():
    raise SystemExit(7)

def quits_the_process():
    os._exit(1)

def touches():
    open("called", "w").close()
"""
QUICK = ["-n", "32", "-w", "0", "-q"]


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    (tmp_path / "workloads.py").write_text(WORKLOADS)
    temp = tmp_path / "tmp"
    temp.mkdir()
    return temp


def leakcheck(tmp_path: Path, scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m leakcheck run ARGS`` with its temporary files in ``scratch``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)}
    return subprocess.run(
        [sys.executable, "-m", "leakcheck", "run", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_a_thread_left_running_does_not_keep_leakcheck_alive(tmp_path: Path, scratch: Path) -> None:
    result = leakcheck(tmp_path, scratch, "workloads:threaded", *QUICK)  # hung before
    assert result.returncode == 0, result.stderr
    assert "no leak" in result.stdout
    assert list(scratch.iterdir()) == []


def test_a_crash_is_reported_and_its_capture_removed(tmp_path: Path, scratch: Path) -> None:
    result = leakcheck(tmp_path, scratch, "workloads:crashes", *QUICK)
    assert result.returncode == 2
    assert "the workload crashed (signal 11, SIGSEGV)" in result.stderr
    assert list(scratch.iterdir()) == []


def test_a_fork_is_refused(tmp_path: Path, scratch: Path) -> None:
    result = leakcheck(tmp_path, scratch, "workloads:forks", *QUICK)
    assert result.returncode == 2
    assert "the workload forked: leakcheck measures one process" in result.stderr
    assert "memray" not in result.stderr
    assert list(scratch.iterdir()) == []


def test_system_exit_in_the_workload_is_a_failed_run(tmp_path: Path, scratch: Path) -> None:
    result = leakcheck(tmp_path, scratch, "workloads:exits", *QUICK)
    assert result.returncode == 2
    assert "the workload raised SystemExit(7)" in result.stderr
    assert list(scratch.iterdir()) == []


def test_a_workload_ending_the_process_is_not_a_verdict(tmp_path: Path, scratch: Path) -> None:
    result = leakcheck(tmp_path, scratch, "workloads:quits_the_process", *QUICK)
    assert result.returncode == 2  # not 1, "leak found"
    assert "the workload ended the process with status 1 before a verdict" in result.stderr
    assert list(scratch.iterdir()) == []


def test_ctrl_c_reaches_both_processes_and_is_one_interrupt(tmp_path: Path, scratch: Path) -> None:
    (tmp_path / "slow.py").write_text("import time\ndef step():\n    time.sleep(0.001)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)}
    run = subprocess.Popen(
        [sys.executable, "-m", "leakcheck", "run", "slow:step", "-n", "100000", "-w", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while not list(scratch.glob("**/capture.bin")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends: the CLI and its child alike
    _, err = run.communicate(timeout=20)
    assert run.returncode == 2
    assert err.count("interrupted") == 1, err
    assert "Traceback" not in err
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("option", ["--json", "--flamegraph", "--keep-capture"])
@pytest.mark.parametrize(
    ("place", "reason"),
    [("a_directory", "is a directory"), ("a_file/out", "is not a directory")],
)
def test_an_unwritable_output_is_refused_before_the_loop(
    tmp_path: Path, scratch: Path, option: str, place: str, reason: str
) -> None:
    (tmp_path / "a_directory").mkdir()
    (tmp_path / "a_file").write_text("")
    result = leakcheck(tmp_path, scratch, "workloads:touches", *QUICK, option, place)
    assert result.returncode == 2
    assert f"{option} {place}" in result.stderr and reason in result.stderr
    assert "internal error" not in result.stderr
    assert not (tmp_path / "called").exists()  # refused before the workload ran


def test_an_output_is_replaced_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")

    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_text_whole(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


# --- the Python API: the same rules in-process -------------------------------------------


def test_check_turns_system_exit_into_a_workload_error() -> None:
    def exits() -> None:
        raise SystemExit(7)

    with pytest.raises(WorkloadError, match=r"the workload raised SystemExit\(7\)"):
        check(exits, iterations=16, warmup=0)


def test_check_refuses_an_unwritable_output_before_the_loop(tmp_path: Path) -> None:
    calls: list[int] = []
    with pytest.raises(UsageError, match=r"flamegraph .*: is a directory"):
        check(lambda: calls.append(1), iterations=16, warmup=0, flamegraph=tmp_path)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(UsageError, match=r"keep_capture .*: .* is not a directory"):
        check_session(
            lambda scratch: contextlib.nullcontext(lambda: calls.append(1)),
            iterations=16,
            keep_capture=tmp_path / "a_file" / "capture.bin",
        )
    assert calls == []
