#!/usr/bin/env python3
"""The nightly regression job: benchmark what is new on main, compare it with the previous
baseline in the same run, run the leak checks, publish the site, and say what regressed.

Steps:
1. the baseline is the newest commit before the target that already has results for this machine
   (or ``--baseline``); the target is ``main`` (or ``--target``);
2. ``asv continuous --factor F BASELINE TARGET`` runs both commits, rounds interleaved, so machine
   drift hits both sides alike; ``asv compare`` of the two result sets is then read row by row
   (asv has no command that lists regressions); what it flags as slower is measured again in new
   processes, and only what is flagged twice counts as regressed;
3. commits between the two are backfilled for the history (``asv run --skip-existing-commits``);
4. ``python -m leakcheck suite`` when the leakcheck package exists;
5. ``asv publish`` and the offline libraries (scripts/asv_assets.py).

Exit status (a bit set, so both can be told apart at once):
  0  nothing regressed, nothing broke
  1  a benchmark regressed (slower, larger, more statements...) or leakcheck found a leak
  2  a benchmark broke: it fails on the target
  3  both
  4  the job could not run (bad arguments, a commit that does not build, asv itself failed)

A summary is printed and written as JSON to ``.asv/nightly.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OK, REGRESSED, BROKE, CANNOT_RUN = 0, 1, 2, 4
# Chosen from the measured noise (docs/benchmarks.md): identical code compared with itself stays
# under this ratio in the large majority of runs; a 20 % slowdown is above it.
DEFAULT_FACTOR = 1.15
# For these, a larger number is better: asv flags them the other way round.
HIGHER_IS_BETTER = re.compile(r"track_loops_per_second")


@dataclass
class Change:
    benchmark: str
    before: str
    after: str
    ratio: str


@dataclass
class Report:
    baseline: str
    target: str
    factor: float
    regressed: list[Change] = field(default_factory=list)
    improved: list[Change] = field(default_factory=list)
    broke: list[Change] = field(default_factory=list)
    unconfirmed: list[Change] = field(default_factory=list)  # flagged once, not when re-measured
    leakcheck: str = "not run"
    published: bool = False

    @property
    def status(self) -> int:
        return (REGRESSED if self.regressed else OK) | (BROKE if self.broke else OK)


def asv(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run asv from the repository root with this Python; output is echoed and returned."""
    command = [sys.executable, "-m", "asv", *args]
    print("$ asv " + " ".join(args), flush=True)
    lines = []
    with subprocess.Popen(
        command, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:  # echoed as it comes: a nightly run takes a while
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
    done = subprocess.CompletedProcess(command, process.returncode, "".join(lines), "")
    if check and done.returncode != 0:
        raise JobError(f"asv {args[0]} failed with exit status {done.returncode}")
    return done


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


class JobError(Exception):
    """The job itself cannot go on (exit status 4)."""


def results_dir() -> Path:
    text = (ROOT / "asv.conf.json").read_text()
    match = re.search(r'"results_dir"\s*:\s*"([^"]+)"', text)
    return ROOT / (match.group(1) if match else ".asv/results")


def has_results(machine: str, commit: str) -> bool:
    return any((results_dir() / machine).glob(f"{commit[:8]}-*.json"))


def previous_baseline(machine: str, target: str) -> str:
    """The newest first-parent ancestor of ``target`` that has results for ``machine``."""
    for commit in git("rev-list", "--first-parent", f"{target}~1").splitlines():
        if has_results(machine, commit):
            return commit
    return git("rev-parse", f"{target}~1")  # first night: compare with the parent


def read_compare(output: str) -> tuple[list[Change], list[Change], list[Change]]:
    """Regressed, improved and broken rows of an ``asv compare`` table."""
    regressed: list[Change] = []
    improved: list[Change] = []
    broke: list[Change] = []
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] not in {"+", "-", "!", ""} or cells[4].startswith("-"):
            continue
        mark, before, after, ratio, name = cells
        change = Change(name, before, after, ratio)
        if mark == "!" or after == "failed":  # fails on the target, newly or still
            broke.append(change)
        elif mark in "+-" and mark:
            worse = (mark == "+") != bool(HIGHER_IS_BETTER.search(name))
            (regressed if worse else improved).append(change)
    return regressed, improved, broke


def confirm(
    flagged: list[Change],
    baseline: str,
    target: str,
    machine_args: list[str],
    rounds: list[str],
    factor: float,
) -> tuple[list[Change], list[Change]]:
    """Measure the flagged benchmarks again, in new processes: a real slowdown shows again, a
    false alarm (on a shared machine, mostly a process that ran slow throughout) rarely does."""
    names = sorted({c.benchmark.split("(")[0] for c in flagged})
    # asv matches -b against names with their parameters, e.g. "database.Get.time_get(1000)"
    pattern = "^(" + "|".join(re.escape(n) for n in names) + r")(\(.*\))?$"
    asv("continuous", "--factor", str(factor), *machine_args, *rounds, "-b", pattern,
        baseline, target)  # fmt: skip
    again = asv("compare", "--factor", str(factor), *machine_args, baseline, target)
    still = {c.benchmark for c in read_compare(again.stdout)[0]}
    return [c for c in flagged if c.benchmark in still], [
        c for c in flagged if c.benchmark not in still
    ]


def run_leakcheck() -> tuple[str, bool]:
    """``python -m leakcheck suite`` against the working tree, when the package exists."""
    if importlib.util.find_spec("leakcheck") is None and not (ROOT / "leakcheck").is_dir():
        return "skipped: no leakcheck package", False
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = ROOT / ".asv" / "leakcheck"
    # A budget long enough that slow workloads (the agent fleet, ~0.25 s a call) get ~1,000 calls:
    # with fewer, asyncio's caches still warming up look like a leak (docs/leakcheck.md).
    args = ["suite", "--budget", "1800", "--json", str(out / "leakcheck.json"),
            "--flamegraph-dir", str(out / "flamegraphs")]  # fmt: skip
    print(f"$ python -m leakcheck {' '.join(args)}", flush=True)
    done = subprocess.run([sys.executable, "-m", "leakcheck", *args], cwd=ROOT, env=env)
    if done.returncode == 0:
        return "clean", False
    return f"failed (exit status {done.returncode})", True


def publish() -> bool:
    if asv("publish").returncode != 0:
        return False
    html = ROOT / ".asv" / "html"
    assets = subprocess.run([sys.executable, str(ROOT / "scripts" / "asv_assets.py"), str(html)])
    return assets.returncode == 0


def nightly(options: argparse.Namespace) -> Report:
    machine = options.machine
    machine_args = ["--machine", machine]
    asv("machine", "--yes", *machine_args, check=True)
    target = git("rev-parse", options.target)
    baseline = git("rev-parse", options.baseline or previous_baseline(machine, target))
    report = Report(baseline[:8], target[:8], options.factor)
    if baseline == target:
        print("nothing new to benchmark")
    else:
        extra = ["-b", options.bench] if options.bench else []
        rounds = ["-a", f"rounds={options.rounds}"] if options.rounds else []
        asv("continuous", "--factor", str(options.factor), *machine_args, *rounds, *extra,
            baseline, target)  # fmt: skip
        compare = asv("compare", "--factor", str(options.factor), *machine_args, baseline, target)
        if compare.returncode != 0 or not has_results(machine, target):
            raise JobError(f"no results for {target[:8]}: did it build? (see asv's output above)")
        report.regressed, report.improved, report.broke = read_compare(compare.stdout)
        if report.regressed and options.confirm:
            report.regressed, report.unconfirmed = confirm(
                report.regressed, baseline, target, machine_args, rounds, options.factor
            )
        if options.backfill:
            asv("run", "--skip-existing-commits", *machine_args, *extra, f"{baseline}..{target}")
    report.leakcheck, leaked = run_leakcheck()
    if leaked:
        report.regressed.append(Change("leakcheck suite", "", report.leakcheck, ""))
    if options.publish:
        report.published = publish()
    return report


def summary(report: Report) -> str:
    lines = [f"nightly: {report.baseline} -> {report.target}, factor {report.factor}"]
    for title, changes in (("REGRESSED", report.regressed), ("BROKE", report.broke),
                           ("not confirmed", report.unconfirmed),
                           ("improved", report.improved)):  # fmt: skip
        for c in changes:
            lines.append(f"  {title}: {c.benchmark}  {c.before} -> {c.after}  (x{c.ratio})")
    lines.append(f"  leakcheck: {report.leakcheck}; site published: {report.published}")
    verdict = {0: "OK", 1: "REGRESSED", 2: "A BENCHMARK BROKE", 3: "REGRESSED AND BROKE"}
    lines.append(f"verdict: {verdict[report.status]} (exit status {report.status})")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--machine",
        default=os.environ.get("TASKORCH_ASV_MACHINE", platform.node()),
        help="asv machine name: results are kept per machine ($TASKORCH_ASV_MACHINE, else the"
        " host name; the reference results are under ref-2core)",
    )
    parser.add_argument("--target", default="main", help="what to benchmark (default: main)")
    parser.add_argument("--baseline", help="compare with this commit (default: previous results)")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR)
    parser.add_argument("--rounds", type=int, help="asv rounds per commit (default: each's own)")
    parser.add_argument("--bench", "-b", help="only benchmarks matching this regex")
    parser.add_argument(
        "--no-confirm",
        dest="confirm",
        action="store_false",
        help="report what the first comparison flags, without measuring it again",
    )
    parser.add_argument("--no-backfill", dest="backfill", action="store_false")
    parser.add_argument("--no-publish", dest="publish", action="store_false")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    try:
        report = nightly(options)
    except (JobError, subprocess.CalledProcessError) as exc:
        print(f"nightly: cannot run: {exc}", file=sys.stderr)
        return CANNOT_RUN
    text = summary(report)
    print("\n" + text)
    out = ROOT / ".asv" / "nightly.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({**asdict(report), "status": report.status}, indent=2) + "\n")
    return report.status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
