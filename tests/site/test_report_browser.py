"""The HTML report renders in headless Chromium with the network off and shows its plots."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reports import full_report

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         # no network at all: every host resolves nowhere, and no proxy bypass
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
         "--virtual-time-budget=5000"]  # fmt: skip


def chromium(tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    out = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return out.stdout


def test_report_renders_offline_with_all_plots_decoded(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    paths = full_report(tmp_path).write(tmp_path / "out")
    url = paths["html"].as_uri()
    dom = chromium(tmp_path, "--dump-dom", url)
    assert 'data-plots-loaded="4"' in dom  # every <img class="plot"> decoded, none broken
    assert "Success criteria" in dom
    assert "<script>alert" not in dom and "&lt;script&gt;alert" in dom  # shown, never run
    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1000,1400", url)
    assert shot.stat().st_size > 20_000  # a rendered page with charts, not a blank one
