"""Run a representative agent workload while sampling the process's resources.

    python tools/diagnostics/performance_monitor.py --duration 300

N asyncio agents (default 50) claim subtasks, read their specialist context and complete them
on a fresh SQLite file, refilling the work as it runs out, for ``--duration`` seconds. Memory,
CPU, open database connections and threads are sampled every ``--interval`` seconds and printed
as they come; at the end the samples are written as CSV and JSON with a plot (PNG) in ``--out``.
A memory figure that keeps rising over a long run is the thing to look for.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout, uninstalled

from taskorch.perf.monitor import ResourceMonitor, write_samples
from taskorch.perf.stress import run_agents


async def monitored(args: argparse.Namespace, scratch: Path) -> tuple[ResourceMonitor, str]:
    async with ResourceMonitor(interval=args.interval) as monitor:
        deadline = time.perf_counter() + args.duration

        async def report() -> None:
            while (left := deadline - time.perf_counter()) > 0:
                await asyncio.sleep(min(args.every, left))
                s = monitor.samples[-1]
                print(
                    f"{s.seconds:7.1f} s  rss {s.memory_mb:7.1f} MB  cpu {s.cpu_percent:5.1f} %"
                    f"  db connections {s.database_connections}  threads {s.active_threads}",
                    flush=True,
                )

        outcome, _ = await asyncio.gather(run_agents(scratch, args.agents, args.duration), report())
    summary = (
        f"{outcome.agent_count} agents, {outcome.loops} claim+context+complete loops"
        f" ({outcome.loops_per_second:.0f}/s), double claims {outcome.double_claims},"
        f" lost tasks {outcome.lost_tasks}, errors {outcome.errors}"
    )
    return monitor, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--agents", type=int, default=50, help="concurrent agents (default 50)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between progress lines")
    parser.add_argument("--out", type=Path, default=Path("reports/monitor"), help="output folder")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.interval <= 0 or args.agents <= 0 or args.every <= 0:
        parser.error("--duration, --interval, --agents and --every must be positive")
    print(f"monitoring {args.agents} agents for {args.duration:g} s, a sample every"
          f" {args.interval:g} s", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="taskorch-monitor-") as scratch:
        monitor, summary = asyncio.run(monitored(args, Path(scratch)))
    paths = write_samples(monitor.samples, args.out)
    try:
        from taskorch.perf.plots import samples_plot

        png = args.out / "resources.png"
        png.write_bytes(samples_plot(monitor.samples, f"{args.agents} agents"))
        paths.append(png)
    except Exception as exc:  # the samples are still worth having without the plot
        print(f"no plot: {exc}", file=sys.stderr)
    print(summary)
    print(f"peak RSS {monitor.peak_memory_mb:.1f} MB over {len(monitor.samples)} samples")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
