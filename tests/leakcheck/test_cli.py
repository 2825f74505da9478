"""``python -m leakcheck``: exit statuses, JSON, messages, the suite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from leakcheck.flamegraph import external_resources
from leakcheck.suite import fit_to_budget

ROOT = Path(__file__).resolve().parents[2]

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the run_python fixture


TARGETS = """\
kept = []

def leaky():
    kept.append(bytes(31))

def clean():
    return [n for n in range(10)]

def boom():
    raise ValueError("no database")

import contextlib

@contextlib.contextmanager
def session(scratch):
    rows = []
    yield lambda: rows.append(str(len(rows)) * 3)

not_callable = 3
"""
FAST = ["-n", "2000", "-w", "200", "-q"]


@pytest.fixture
def targets(tmp_path: Path) -> Path:
    (tmp_path / "targets.py").write_text(TARGETS)
    return tmp_path


def test_leak_exits_1_with_json_and_flamegraph(run_python: Runner, targets: Path) -> None:
    out = targets / "report.json"
    page = targets / "leak.html"
    result = run_python(
        "-m", "leakcheck", "run", "targets:leaky", *FAST, "--json", str(out),
        "--flamegraph", str(page),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "LEAK" in result.stdout and "targets.py:4 in leaky" in result.stdout
    report = json.loads(out.read_text())
    assert report["leaked"] is True
    assert report["iterations"] == 2000
    assert report["bytes_per_iteration"] == pytest.approx(64, rel=0.01)
    first = report["locations"][0]
    assert (Path(first["file"]).name, first["line"], first["function"]) == (
        "targets.py",
        4,
        "leaky",
    )
    assert external_resources(page.read_text()) == []


def test_clean_exits_0(run_python: Runner, targets: Path) -> None:
    result = run_python("-m", "leakcheck", "run", "targets:clean", *FAST)
    assert result.returncode == 0, result.stderr
    assert "no leak" in result.stdout


def test_session_target(run_python: Runner, targets: Path) -> None:
    result = run_python("-m", "leakcheck", "run", "--session", "targets:session", *FAST)
    assert result.returncode == 1, result.stderr
    assert "targets.py:17" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["targets:boom"], "the workload raised ValueError: no database"),
        (["targets:missing"], "has no attribute 'missing'"),
        (["targets:not_callable"], "not a callable"),
        (["no_such_module:f"], "cannot import 'no_such_module'"),
        (["targets"], "expected MODULE:CALLABLE"),
        (["targets:clean", "-n", "3"], "must be between 16 and"),
    ],
)
def test_failures_exit_2_with_a_message(
    run_python: Runner, targets: Path, args: list[str], message: str
) -> None:
    result = run_python("-m", "leakcheck", "run", *args, "-q")
    assert result.returncode == 2
    assert message in result.stderr
    assert "internal error" not in result.stderr


def test_terminated_run_cleans_up_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text("import time\ndef step():\n    time.sleep(0.001)\n")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}", "TMPDIR": str(scratch)}
    child = subprocess.Popen(
        [sys.executable, "-m", "leakcheck", "run", "slow:step", "-n", "100000", "-w", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    # Wait until the capture exists: the run is inside the Tracker.
    while not list(scratch.glob("leakcheck-*/**/capture.bin")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(scratch.glob("leakcheck-*/**/capture.bin")), "the run never started tracking"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 2
    assert "interrupted" in err
    assert list(scratch.iterdir()) == []


def test_broken_target_module_exits_2(run_python: Runner, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import json\nraise RuntimeError('bad config')\n")
    result = run_python("-m", "leakcheck", "run", "broken:f", "-q")
    assert result.returncode == 2
    assert "RuntimeError: bad config" in result.stderr


def test_bad_arguments_exit_2(run_python: Runner) -> None:
    result = run_python("-m", "leakcheck", "run", "x:y", "--iterations", "many")
    assert result.returncode == 2
    assert "--iterations" in result.stderr and "not a number" in result.stderr


def test_help_explains_the_verdict(run_python: Runner) -> None:
    result = run_python("-m", "leakcheck", "run", "--help")
    assert result.returncode == 0
    for words in ("first half", "still alive", "each of the last 4 segments", "THRESHOLD",
                  "exit status: 0 no leak, 1 leak, 2"):  # fmt: skip
        assert words in result.stdout


# --- suite ------------------------------------------------------------------------------

REGISTRY = """\
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    description: str
    session: Callable[[Path], ContextManager[Callable[[], object]]]

@contextlib.contextmanager
def steady(tmp):
    yield lambda: str(tmp)

@contextlib.contextmanager
def growing(tmp):
    log = []
    yield lambda: log.append(f"line {len(log)}")

@contextlib.contextmanager
def slow(tmp):
    yield lambda: time.sleep(0.002)

@contextlib.contextmanager
def broken(tmp):
    raise FileNotFoundError(tmp / "missing.db")
    yield

WORKLOADS = {w.name: w for w in [
    Workload("steady", "keeps nothing", steady),
    Workload("growing", "appends forever", growing),
    Workload("broken", "cannot open", broken),
    Workload("slow", "2 ms per call", slow),
]}
"""


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    package = tmp_path / "fake"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "workloads.py").write_text(REGISTRY)
    (package / "empty.py").write_text("WORKLOADS = {}\n")
    return tmp_path


def suite(run_python: Runner, *args: str) -> tuple[int, str, str]:
    result = run_python("-m", "leakcheck", "suite", "--registry", "fake.workloads", *FAST, *args)
    return result.returncode, result.stdout, result.stderr


def test_suite_table(run_python: Runner, registry: Path) -> None:
    status, out, _ = suite(run_python, "--only", "steady", "--only", "growing",
                           "--flamegraph-dir", "pages", "--json", "suite.json")  # fmt: skip
    assert status == 1
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:3]}
    assert rows["steady"][2] == "ok" and rows["growing"][2] == "LEAK"
    assert "workloads.py:20 in <lambda>" in out
    assert [p.name for p in (registry / "pages").iterdir()] == ["growing.html"]
    data = json.loads((registry / "suite.json").read_text())
    assert data["workloads"]["growing"]["leaked"] is True
    assert data["workloads"]["steady"]["leaked"] is False


def test_suite_clean_exits_0(run_python: Runner, registry: Path) -> None:
    status, out, _ = suite(run_python, "--only", "steady")
    assert status == 0
    assert out.splitlines()[0].split() == [
        "workload",
        "B/iteration",
        "verdict",
        "iterations",
        "time",
    ]


def test_suite_failure_exits_2_and_keeps_going(run_python: Runner, registry: Path) -> None:
    status, out, _ = suite(run_python, "--only", "broken", "--only", "growing")
    assert status == 2
    assert "ERROR" in out and "missing.db" in out
    assert "LEAK" in out  # the workloads after a broken one still ran


def test_suite_without_workloads_exits_2(run_python: Runner, registry: Path) -> None:
    result = run_python("-m", "leakcheck", "suite", "--registry", "fake.empty", "-q")
    assert result.returncode == 2
    assert "no workloads are registered" in result.stderr
    result = run_python("-m", "leakcheck", "suite", "--registry", "fake.absent", "-q")
    assert result.returncode == 2
    assert "cannot import 'fake.absent'" in result.stderr


def test_suite_unknown_name_exits_2(run_python: Runner, registry: Path) -> None:
    status, _, err = suite(run_python, "--only", "nope")
    assert status == 2
    assert "unknown workload(s) nope; registered: steady, growing, broken, slow" in err


def test_suite_fits_slow_workloads_to_the_budget(run_python: Runner, registry: Path) -> None:
    status, out, _ = suite(run_python, "--only", "slow", "--budget", "2")
    assert status == 0
    row = out.splitlines()[1].split()
    assert row[:4] == ["slow", "0", "ok", "400"]
    assert "ran 400 iterations, not 2000, to fit the 2 s budget" in out


def test_default_registry_is_taskorch(run_python: Runner) -> None:
    result = run_python(
        "-m", "leakcheck", "suite", "-q", "--only", "encode_context", "-n", "2000", "-w", "200"
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split()[:3] == ["encode_context", "0", "ok"]


def test_help_mentions_each_command(run_python: Runner) -> None:
    result = run_python("-m", "leakcheck", "--help")
    assert result.returncode == 0
    assert all(cmd in result.stdout for cmd in ("run", "suite", "corpus"))
    assert "exit status" in result.stdout


@pytest.mark.parametrize(
    ("per_call", "expected"),
    [
        (1e-3, (20_000, 2_000)),  # 102 s: untouched
        (1e-2, (3_529, 352)),  # 1020 s: scaled to 180 s
        (1.0, (400, 40)),  # very slow: never below 400
    ],
)
def test_fit_to_budget(per_call: float, expected: tuple[int, int]) -> None:
    assert fit_to_budget(per_call, 20_000, 2_000, 180.0) == expected
