"""The ``leakcheck`` marker, in a child pytest and in this very suite."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import pytest

Runner = Callable[..., subprocess.CompletedProcess[str]]  # the run_python fixture


TESTS = """\
import pytest

HISTORY = []

@pytest.fixture
def registry():
    return {}

@pytest.mark.leakcheck(iterations=2000, warmup=200)
def test_leaks(registry):
    registry[len(registry)] = object()

@pytest.mark.leakcheck(iterations=2000, warmup=200)
def test_clean(registry):
    registry["x"] = [1, 2, 3]

@pytest.mark.leakcheck(iterations=2000, warmup=200)
def test_assertion_fails():
    assert len(HISTORY) < 100
    HISTORY.append(1)

@pytest.mark.leakcheck(iterations=2000, warmup=200)
class TestInClass:
    def test_method(self, registry):
        registry.setdefault("k", "v")

@pytest.mark.leakcheck("2000")
def test_bad_marker():
    pass

@pytest.mark.leakcheck(iterations=2000, threshold=float("nan"))
def test_bad_threshold():
    HISTORY.append(2)
"""


def _load_plugin() -> list[str]:
    # Installed, the project loads the plugin through its entry point; loading it a second
    # time under its module name would be an error.
    installed = any(ep.name == "leakcheck" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "leakcheck.pytest_plugin"]


@pytest.fixture(scope="module")
def child(run_python_in_module: Runner, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where a child pytest ran TESTS with the plugin; its output in out.txt."""
    root = tmp_path_factory.mktemp("marked")
    (root / "test_marked.py").write_text(TESTS)
    (root / "pytest.ini").write_text("[pytest]\n")
    result = run_python_in_module(
        "-m", "pytest", *_load_plugin(), "-p", "no:cacheprovider", "-rA",
        "--strict-markers", "--leakcheck-flamegraph-dir", "pages", "test_marked.py",
        cwd=root,
    )  # fmt: skip
    (root / "out.txt").write_text(result.stdout + result.stderr)
    return root


@pytest.fixture
def outcome(child: Path) -> str:
    return (child / "out.txt").read_text()


def test_leaking_body_fails_with_its_line(outcome: str, child: Path) -> None:
    assert "FAILED test_marked.py::test_leaks" in outcome
    assert "LEAK" in outcome and "test_marked.py:11 in test_leaks" in outcome
    assert [p.name for p in (child / "pages").iterdir()] == ["test_marked.py__test_leaks.html"]


def test_clean_bodies_pass(outcome: str) -> None:
    assert "PASSED test_marked.py::test_clean" in outcome
    assert "PASSED test_marked.py::TestInClass::test_method" in outcome


def test_body_failure_is_reported_as_usual(outcome: str) -> None:
    assert "FAILED test_marked.py::test_assertion_fails - assert 100 < 100" in outcome


def test_misused_marker_fails_clearly(outcome: str) -> None:
    assert "FAILED test_marked.py::test_bad_marker" in outcome
    assert "takes only keyword arguments" in outcome


# The marker used for real on a body that must not leak.
@pytest.mark.leakcheck(iterations=2000, warmup=200)
def test_marker_in_this_suite(tmp_path: Path) -> None:
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == []


def test_marker_numbers_are_checked_before_the_body_runs(outcome: str) -> None:
    assert "FAILED test_marked.py::test_bad_threshold" in outcome
    assert "leakcheck could not run: threshold must be a finite number" in outcome
