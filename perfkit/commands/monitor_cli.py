"""Run a representative agent workload while sampling the process's resources.

    python tools/diagnostics/performance_monitor.py --duration 300

A fleet of asyncio agents (``taskorch.agents.Fleet``, default 50) claims subtasks with their
specialist context and completes them on a fresh SQLite file for ``--duration`` seconds; their
handler plans a new goal of 100 subtasks after every 100 it handled, so the work never runs out
(``perfkit.workloads.fleets.timed_fleet``, the workload of the ``concurrent_agents`` target, run
without its per-subtask bookkeeping so that the workload itself keeps no growing state). Memory,
CPU, open database connections and threads are sampled every ``--interval`` seconds, with a
progress line every ``--every`` seconds; the samples are written as CSV and JSON with a plot
(PNG) in ``--out``. A memory figure that keeps rising over a long run is the thing to look for.
Exit status 1 when an agent saw an error or a subtask was left claimed, 64 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import taskorch
from taskorch.agents import FleetCounters

from ..harness.store import scratch_url
from ..kit.exits import Exit
from ..kit.options import Parser, integer, number, output_folder
from ..validation.monitor import ResourceMonitor, write_samples
from ..workloads.fleets import FleetOutcome, timed_fleet

__all__ = ["main", "monitored"]


async def monitored(
    args: argparse.Namespace, url: str
) -> tuple[ResourceMonitor, FleetOutcome, int]:
    """Run the fleet on ``url`` under a monitor; the monitor, the outcome and the subtasks left
    claimed."""
    with taskorch.open(url) as orch:
        async with ResourceMonitor(interval=args.interval) as monitor:

            def progress(counters: FleetCounters, elapsed: float) -> None:
                s = monitor.samples[-1]
                print(
                    f"{elapsed:7.1f} s  completed {counters.completed:>9}"
                    f"  rss {s.memory_mb:7.1f} MB  cpu {s.cpu_percent:5.1f} %"
                    f"  db connections {s.database_connections}  threads {s.active_threads}",
                    flush=True,
                )

            outcome = await timed_fleet(
                orch,
                args.agents,
                args.duration,
                check=False,
                on_progress=progress,
                progress_interval=args.every,
            )
        left_claimed = orch.status()["claimed"]
    return monitor, outcome, left_claimed


def main(argv: list[str] | None = None) -> int:
    seconds = number(0, above=True)
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=seconds, default=300.0, help="seconds (default 300)")
    parser.add_argument("--interval", type=seconds, default=1.0, help="seconds between samples")
    parser.add_argument("--agents", type=integer(1), default=50,
                        help="concurrent agents (default 50)")  # fmt: skip
    parser.add_argument("--every", type=seconds, default=5.0, help="seconds between progress lines")
    parser.add_argument(
        "--out", type=output_folder, default="reports/monitor", help="output folder"
    )
    args = parser.parse_args(argv)
    print(f"monitoring {args.agents} agents for {args.duration:g} s, a sample every"
          f" {args.interval:g} s", flush=True)  # fmt: skip
    with scratch_url("monitor", prefix="taskorch-monitor-") as url:
        monitor, outcome, left_claimed = asyncio.run(monitored(args, url))
    paths = write_samples(monitor.samples, args.out)
    try:
        from ..reports.plots import samples_plot

        png = args.out / "resources.png"
        png.write_bytes(samples_plot(monitor.samples, f"{args.agents} agents"))
        paths.append(png)
    except Exception as exc:  # the samples are still worth having without the plot
        print(f"no plot: {exc}", file=sys.stderr)
    m = outcome.metrics()
    print(
        f"{m['agent_count']} agents ({m['active_agents']} did work), {m['loops']} claim+context"
        f"+complete loops ({m['loops_per_second']:,.0f}/s), errors {m['errors']},"
        f" subtasks left claimed {left_claimed}"
    )
    print(f"peak RSS {monitor.peak_memory_mb:.1f} MB over {len(monitor.samples)} samples")
    print("wrote " + ", ".join(str(p) for p in paths))
    return Exit.OK if outcome.sound and left_claimed == 0 else Exit.FAILED
