"""The taskorch side of the peer comparison, with tiny numbers (the peer is not installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from perfkit import peer
from tests.support import ROOT


def test_the_taskorch_driver_measures_every_row(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare_peer.py"), "--driver", "taskorch",
         "--work", str(tmp_path), "--calls", "5", "--seconds", "0.5"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {key for key, _, _ in peer.ROWS} <= set(figures)
    assert figures["agents_50"] > 0  # the fleet's invariants held, or the driver exits non-zero
    assert "| 50 concurrent agents" in peer.table(figures, {})
