"""ResourceMonitor samples memory, CPU, database connections and threads at an interval."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

import taskorch

pytest.importorskip("psutil")

from perfkit.validation.monitor import ResourceMonitor, write_samples
from perfkit.validation.sources import load_samples
from tests.support import ROOT


def test_samples_while_a_workload_runs_as_an_async_context_manager(tmp_path: Path) -> None:
    async def workload() -> None:
        with (
            taskorch.open(f"sqlite:///{tmp_path}/a.db") as a,
            taskorch.open(f"sqlite:///{tmp_path}/b.db"),
        ):
            a.plan("goal", [{"key": "k", "title": "t", "specialist": "s"}])
            await asyncio.sleep(0.35)

    async def main() -> ResourceMonitor:
        async with ResourceMonitor(interval=0.05) as monitor:
            await workload()
        return monitor

    monitor = asyncio.run(main())
    samples = monitor.samples
    assert len(samples) >= 4  # first at once, then every 50 ms, and a last one at the end
    assert [s.seconds for s in samples] == sorted(s.seconds for s in samples)
    assert max(s.database_connections for s in samples) == 2  # two files, each counted once
    assert samples[-1].database_connections == 0  # both closed by the end
    assert all(s.memory_mb > 1 and s.active_threads >= 1 for s in samples)
    assert max(s.active_threads for s in samples) >= 2  # the sampler is a thread of its own
    assert monitor.peak_memory_mb == max(s.memory_mb for s in samples)


def test_the_metrics_dictionary_of_one_sample() -> None:
    metrics = asyncio.run(ResourceMonitor().track_orchestrator_resources())
    assert set(metrics) == {"memory_usage_mb", "cpu_percentage", "database_connections",
                            "active_threads"}  # fmt: skip
    assert metrics["memory_usage_mb"] > 1


def test_as_a_plain_context_manager_and_written_as_csv_and_json(tmp_path: Path) -> None:
    with ResourceMonitor(interval=0.02) as monitor:
        time.sleep(0.1)
    paths = write_samples(monitor.samples, tmp_path)
    assert [p.name for p in paths] == ["samples.csv", "samples.json"]
    lines = paths[0].read_text().splitlines()
    assert lines[0] == "seconds,memory_mb,cpu_percent,database_connections,active_threads"
    assert len(lines) == len(monitor.samples) + 1
    assert load_samples(paths[1]) == monitor.samples


def test_a_bad_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        ResourceMonitor(interval=0)


def test_the_monitor_tool_samples_a_fleet_and_writes_its_files(tmp_path: Path) -> None:
    import subprocess
    import sys

    tool = ROOT / "tools" / "diagnostics" / "performance_monitor.py"
    out = tmp_path / "monitor"
    proc = subprocess.run(
        [sys.executable, str(tool), "--duration", "1", "--interval", "0.2", "--every", "0.5",
         "--agents", "8", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 agents (8 did work)" in proc.stdout and "left claimed 0" in proc.stdout
    samples = load_samples(out / "samples.json")
    assert samples and all(s.database_connections == 1 for s in samples)
    assert (out / "samples.csv").exists()
