"""Every script and tool is a working entry point: run as a file, as the README shows, it prints
its help and exits 0, and the module it hands over to is named in its docstring."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

ENTRY_POINTS = sorted(
    [*ROOT.glob("scripts/*.py"), *ROOT.glob("scripts/stress/*.py"), *ROOT.glob("tools/**/*.py")]
)


def test_every_script_is_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in ENTRY_POINTS}
    assert {
        "scripts/nightly.py",
        "scripts/generate_performance_report.py",
        "tools/diagnostics/performance_monitor.py",
        "scripts/stress/agents.py",
    } <= names


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_script_prints_its_help(path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(path), "--help"], capture_output=True, text=True, timeout=120,
        cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "usage:" in proc.stdout.lower()


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_script_is_a_thin_entry_point_over_a_perfkit_module(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    targets = [m for m in imported if m.startswith("perfkit")]
    assert targets, f"{path.name} hands over to no perfkit module"
    module = importlib.import_module(targets[0])
    assert callable(getattr(module, "main", None))
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 30
