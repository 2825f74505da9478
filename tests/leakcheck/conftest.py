"""Shared fixtures for the leakcheck tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from leakcheck import pytest_plugin

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    # An installed checkout loads the plugin through its entry point; a bare one does not.
    if not config.pluginmanager.has_plugin("leakcheck"):
        config.pluginmanager.register(pytest_plugin, "leakcheck")


Runner = Callable[..., subprocess.CompletedProcess[str]]  # what the run_python fixture returns


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture
def run_python(tmp_path: Path) -> Runner:
    """Run ``python ARGS...`` in ``tmp_path`` (or ``cwd=``) with this checkout importable."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return _run(*args, cwd=cwd or tmp_path)

    return run


@pytest.fixture(scope="module")
def run_python_in_module(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """Like ``run_python``, for module-scoped fixtures; ``cwd=`` is required."""
    return _run
