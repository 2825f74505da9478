"""``python -m leakcheck corpus``: score the detectors on the labelled corpus.

Every case runs in its own child process for each detector and each repetition, with the
same iterations, warm-up and threshold: leakcheck through its command line, pytest-memray's
``limit_leaks`` and a tracemalloc snapshot diff through :mod:`leakcheck.baselines`. The
result is a Markdown report: verdicts per case, a confusion table per detector, and what
tracking cost on the typical workloads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from leakcheck.baselines import Verdict, child_environment, run_pytest_memray, run_tracemalloc
from leakcheck.checking import DEFAULT_ITERATIONS, DEFAULT_THRESHOLD, DEFAULT_WARMUP
from leakcheck.corpus import CASES, Case
from leakcheck.errors import UsageError
from leakcheck.overhead import Overhead, run_measure

__all__ = ["DETECTORS", "TYPICAL", "prepare_parser", "run_command"]

DETECTORS = ("leakcheck", "pytest-memray", "tracemalloc")
#: Workloads shaped like real ones, on which the tracking overhead is measured.
TYPICAL = ("json_roundtrip", "sqlite_roundtrip", "object_pipeline", "worker_thread_clean")


def prepare_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--iterations", "-n", type=int, default=DEFAULT_ITERATIONS)
    parser.add_argument("--warmup", "-w", type=int, default=DEFAULT_WARMUP)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--repeat", "-r", type=int, default=3, help="runs per case (default 3)")
    parser.add_argument("--only", action="append", default=[], metavar="CASE")
    parser.add_argument(
        "--detector", action="append", choices=DETECTORS, default=[],
        help="run only this detector (repeatable; default all)",
    )  # fmt: skip
    parser.add_argument("--no-overhead", action="store_true", help="skip the overhead measurements")
    parser.add_argument("--output", type=Path, metavar="OUT.md", help="also write the report")


def run_command(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.only) - set(CASES))
    if unknown:
        raise UsageError(f"unknown case(s): {', '.join(unknown)}")
    cases = [case for name, case in CASES.items() if not args.only or name in args.only]
    detectors = args.detector or list(DETECTORS)
    verdicts: list[Verdict] = []
    for run in range(args.repeat):
        print(f"leakcheck: corpus run {run + 1}/{args.repeat}", file=sys.stderr, flush=True)
        verdicts.extend(_run_detectors(cases, detectors, args))
    lines = [
        f"Corpus: {len(cases)} cases, {args.iterations} iterations after {args.warmup} warm-up, "
        f"threshold {args.threshold} B/iteration, {args.repeat} runs each.",
        "",
        *verdict_table(cases, detectors, verdicts),
        "",
        *confusion_table(cases, detectors, verdicts),
    ]
    if not args.no_overhead:
        typical = [c.name for c in cases if c.name in TYPICAL]
        env = child_environment()
        measured = [
            run_measure(name, args.iterations, args.warmup, env)
            for name in typical
            for _ in range(args.repeat)
        ]
        lines += ["", *overhead_table(measured)]
    text = "\n".join(lines)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


def _run_detectors(
    cases: Sequence[Case], detectors: Sequence[str], args: argparse.Namespace
) -> Iterable[Verdict]:
    n, w, t = args.iterations, args.warmup, args.threshold
    if "pytest-memray" in detectors:
        yield from run_pytest_memray([c.name for c in cases], n, w, t).values()
    for case in cases:
        if "leakcheck" in detectors:
            yield run_leakcheck(case.name, n, w, t)
        if "tracemalloc" in detectors:
            yield run_tracemalloc(case.name, n, w, t)


def run_leakcheck(name: str, iterations: int, warmup: int, threshold: float) -> Verdict:
    """``python -m leakcheck run --session leakcheck.corpus:NAME`` in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [
            sys.executable, "-m", "leakcheck", "run", "--session", f"leakcheck.corpus:{name}",
            "-q", "-n", str(iterations), "-w", str(warmup), "--threshold", str(threshold),
            "--json", str(out),
        ]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, env=child_environment(), check=False
        )
        if result.returncode not in (0, 1) or not out.exists():
            return Verdict(name, "leakcheck", None, error=result.stderr.strip()[-500:])
        report = json.loads(out.read_text(encoding="utf-8"))
    top = report["locations"][0] if report["locations"] else None
    location = f"{top['file']}:{top['line']}" if top and report["leaked"] else None
    return Verdict(name, "leakcheck", report["leaked"], location, report["bytes_per_iteration"])


def _located(case: Case, verdict: Verdict) -> bool:
    if case.leak_line is None or verdict.location is None:
        return False
    file, _, line = verdict.location.rpartition(":")
    return file.endswith("corpus.py") and int(line) == case.leak_line


def verdict_table(
    cases: Sequence[Case], detectors: Sequence[str], verdicts: Sequence[Verdict]
) -> list[str]:
    """One row per case: how many runs each detector called a leak, and named the line."""
    head = "| case | truth | " + " | ".join(detectors) + " |"
    lines = [head, "|" + " --- |" * (2 + len(detectors))]
    for case in cases:
        truth = "leak" if case.leaks else ("bounded*" if case.beyond_reach else "no leak")
        cells = []
        for detector in detectors:
            mine = [v for v in verdicts if v.case == case.name and v.detector == detector]
            flagged = sum(v.leaked is True for v in mine)
            errors = sum(v.leaked is None for v in mine)
            cell = f"{flagged}/{len(mine)} leak"
            if case.leaks:
                cell += f", line {sum(_located(case, v) for v in mine)}/{len(mine)}"
            if errors:
                cell += f", {errors} failed"
            cells.append(cell)
        lines.append(f"| {case.name} | {truth} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("`line k/n`: the leaking line (marked `# leak`) was the first location named.")
    lines.append("`bounded*`: bounded, but larger than half the window; scored apart below.")
    return lines


def confusion_table(
    cases: Sequence[Case], detectors: Sequence[str], verdicts: Sequence[Verdict]
) -> list[str]:
    """Counts over all runs; cases beyond reach are counted apart."""
    by_name = {case.name: case for case in cases}
    lines = [
        "| detector | true leak | missed leak | false alarm | true clean | failed "
        "| leak line named | beyond reach flagged |",
        "|" + " --- |" * 8,
    ]
    for detector in detectors:
        mine = [v for v in verdicts if v.detector == detector]
        scored = [v for v in mine if not by_name[v.case].beyond_reach]
        tp = sum(v.leaked is True and by_name[v.case].leaks for v in scored)
        fn = sum(v.leaked is False and by_name[v.case].leaks for v in scored)
        fp = sum(v.leaked is True and not by_name[v.case].leaks for v in scored)
        tn = sum(v.leaked is False and not by_name[v.case].leaks for v in scored)
        failed = sum(v.leaked is None for v in scored)
        named = sum(_located(by_name[v.case], v) for v in scored if v.leaked)
        beyond = [v for v in mine if by_name[v.case].beyond_reach]
        lines.append(
            f"| {detector} | {tp} | {fn} | {fp} | {tn} | {failed} | {named}/{tp} "
            f"| {sum(v.leaked is True for v in beyond)}/{len(beyond)} |"
        )
    return lines


def overhead_table(measured: Sequence[Overhead]) -> list[str]:
    """Median over the runs of each case: untracked and tracked loop, ratio, analysis."""
    lines = [
        "| workload | iterations | untracked loop (s) | tracked loop (s) | overhead | "
        "allocation events | analysis (s) |",
        "|" + " --- |" * 7,
    ]
    for name in dict.fromkeys(m.case for m in measured):
        runs = [m for m in measured if m.case == name]
        lines.append(
            f"| {name} | {runs[0].iterations} "
            f"| {statistics.median(m.untracked for m in runs):.3f} "
            f"| {statistics.median(m.tracked for m in runs):.3f} "
            f"| {statistics.median(m.ratio for m in runs):.1f}x "
            f"| {statistics.median(m.allocations for m in runs):,.0f} "
            f"| {statistics.median(m.analysis for m in runs):.2f} |"
        )
    return lines
