"""The nightly regression job: benchmark what is new on main against the previous baseline in the
same run, run the leak checks, publish the site, and say what regressed.

Steps:
1. the repository is the git work tree of the working directory (or ``--repo``); the target is
   ``main`` (or ``--target``); the baseline is the newest first-parent ancestor of the target that
   has results for this machine (or ``--baseline``);
2. ``asv run`` records the target (and the baseline, when it has no results yet) for the
   history; the saved values that do not depend on load are judged pair by pair by the
   regression rule (:mod:`perfkit.regression`): instruction counts by a tight threshold, memory
   sizes and statement counts by the factor;
3. the timings (``time_`` benchmarks) are weighed on fresh processes of both commits,
   alternated benchmark by benchmark (:mod:`perfkit.trials`, :mod:`perfkit.timings`), with each
   benchmark's threshold from the A/A calibration (``calibration/<machine>.json``,
   :mod:`perfkit.calibration`). A timing that moved together with its raw sqlite3 reference,
   or a raw reference itself, is the machine, not the code. What a commit of the range declared
   (an ``Expected-Change:`` trailer, :mod:`perfkit.expected`) is expected, not regressed;
   timings of the agent runtime and the import are watched in the history (change points),
   not here;
   for each regression, the first commit of the range that shows it: bisection on the counts,
   or on new trials for a timing; and for counts the functions that grew most
   (:mod:`perfkit.culprit`);
4. commits between the two are backfilled for the history (``asv run --skip-existing-commits``);
5. ``python -m leakcheck suite`` when the leakcheck package exists (a leak counts as a
   regression), unless ``--no-leakcheck``;
6. ``asv publish``, and the site's libraries vendored so that it renders offline
   (:mod:`perfkit.site`).

Exit status (a bit set, so both can be told apart at once):
  0  nothing regressed, nothing broke
  1  a benchmark regressed (slower, larger, more statements...) or leakcheck found a leak
  2  a benchmark broke: it fails on the target
  3  both
  4  the job could not run (bad arguments, no repository, a commit that does not build)

A summary is printed and written as JSON to ``.asv/nightly.json`` in the repository, and as
Markdown beside it (``.asv/nightly.md``) and to ``$GITHUB_STEP_SUMMARY`` when that is set.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from taskorch.errors import ConfigurationError

from .asvdata import AsvConfig, Measurement, human, load_commit, load_config, scan
from .culprit import Counter, Finding, WorktreeCounter, investigate, safely
from .expected import declared
from .gitrepo import git, toplevel
from .regression import (
    COUNT_THRESHOLD,
    DEFAULT_FACTOR,
    Change,
    Status,
    compare,
    counted,
    expect,
    timed,
)
from .site import make_offline
from .sitedata import write_regressions
from .summary import markdown
from .timings import Weigher, default_weigher, timing_changes, timing_culprits
from .trials import MOST, TrialError

__all__ = ["CANNOT_RUN", "Job", "JobError", "Report", "main", "nightly", "summary"]

OK, REGRESSED, BROKE, CANNOT_RUN = 0, 1, 2, 4

# Runs a command in a folder, its output going to ours, and returns its exit status.
CommandRunner = Callable[[Sequence[str], Path, Mapping[str, str] | None], int]


def run_command(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> int:
    shown = ["python" if command[0] == sys.executable else command[0], *command[1:]]
    print("$ " + shlex.join(shown), flush=True)
    return subprocess.run(list(command), cwd=cwd, env=None if env is None else dict(env)).returncode


class JobError(Exception):
    """The job itself cannot go on (exit status 4)."""


@dataclass(frozen=True, slots=True)
class Job:
    """Where the job runs: the repository, its asv configuration and the machine, plus the way
    commands are run."""

    root: Path
    config: AsvConfig
    machine: str
    run: CommandRunner = run_command
    # Timing trials (default: perfkit.trials in the asv environment, every time_ benchmark that
    # matches --bench).
    weigher: Weigher | None = None
    # Count operations at a commit, for the culprit and the evidence (default: a git worktree of
    # the commit under valgrind, and the same without valgrind for Python bytecodes).
    counter: Counter | None = None
    bytecodes: Counter | None = None

    def asv(self, *args: str) -> int:
        return self.run([sys.executable, "-m", "asv", *args], self.root, None)

    def results(self, commit: str) -> dict[str, Measurement]:
        return load_commit(self.config.results_dir, self.machine, commit)


@dataclass
class Report:
    baseline: str
    target: str
    factor: float
    count_threshold: float = COUNT_THRESHOLD
    commits: int = 0  # in the range after the baseline, up to the target
    regressed: list[Change] = field(default_factory=list)
    improved: list[Change] = field(default_factory=list)
    broke: list[Change] = field(default_factory=list)
    # Timings that moved with their raw sqlite3 reference, and the references that moved.
    machine: list[Change] = field(default_factory=list)
    # Timings still unknown after the most processes a side.
    inconclusive: list[Change] = field(default_factory=list)
    # Every timing trial: the process values of both sides and their weighing.
    trials: list[dict[str, Any]] = field(default_factory=list)
    # Moved, and a commit of the range said it would.
    expected: list[Change] = field(default_factory=list)
    # Culprit and evidence of each counted regression.
    findings: list[Finding] = field(default_factory=list)
    # Whether an instruction count was measured on both sides: without one the count gate
    # judged nothing (valgrind missing, or the counts deselected by -b).
    counts_judged: bool = False
    leakcheck: str = "not run"
    leaked: bool = False
    published: bool = False

    @property
    def status(self) -> int:
        regressed = REGRESSED if self.regressed or self.leaked else OK
        return regressed | (BROKE if self.broke else OK)

    def as_dict(self) -> dict[str, Any]:
        lists = ("regressed", "improved", "broke", "machine", "inconclusive", "expected")
        return {
            "baseline": self.baseline,
            "target": self.target,
            "factor": self.factor,
            "count_threshold": self.count_threshold,
            "commits": self.commits,
            **{name: [c.as_dict() for c in getattr(self, name)] for name in lists},
            "findings": [f.as_dict() for f in self.findings],
            "trials": self.trials,
            "counts_judged": self.counts_judged,
            "leakcheck": self.leakcheck,
            "leaked": self.leaked,
            "published": self.published,
            "status": self.status,
        }


def previous_baseline(job: Job, target: str) -> str:
    """The newest first-parent ancestor of ``target`` that has results for the job's machine;
    the parent on the first night."""
    measured = {run.commit for run in scan(job.config.results_dir, job.machine).runs}
    for commit in git(job.root, "rev-list", "--first-parent", f"{target}~1").splitlines():
        if commit in measured:
            return commit
    return git(job.root, "rev-parse", f"{target}~1")


def judge_commits(
    job: Job, baseline: str, target: str, factor: float, count_threshold: float = COUNT_THRESHOLD
) -> list[Change]:
    """Every benchmark of the two commits' saved results that is no timing, judged by the
    regression rule, with what the commits in between declared marked expected. (A timing is
    one value a side here: the trials weigh them instead.)"""
    before, after = job.results(baseline), job.results(target)
    for commit, found in ((target, after), (baseline, before)):
        if not found:
            raise JobError(f"no results for {commit[:8]}: did it build? (see asv's output above)")
    changes = [c for c in compare(before, after, factor, count_threshold) if not timed(c.unit)]
    return expect(changes, declared(job.root, baseline, target))


def split(changes: Sequence[Change]) -> tuple[list[Change], list[Change], list[Change]]:
    """The regressed, improved and broken changes, in that order."""
    by = {s: [c for c in changes if c.status is s] for s in Status}
    return by[Status.REGRESSED], by[Status.IMPROVED], by[Status.BROKE]


def is_counted(change: Change) -> bool:
    return counted(change.unit)


def run_leakcheck(job: Job) -> tuple[str, bool]:
    """``python -m leakcheck suite`` against the working tree, when the package exists; returns
    what happened and whether it counts as a leak."""
    if importlib.util.find_spec("leakcheck") is None and not (job.root / "leakcheck").is_dir():
        return "skipped: no leakcheck package", False
    out = job.root / ".asv" / "leakcheck"
    # The suite's own budget (180 s a workload): its slowest workloads are sized to fit it.
    args = ["suite", "--json", str(out / "leakcheck.json"),
            "--flamegraph-dir", str(out / "flamegraphs")]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(job.root)}
    status = job.run([sys.executable, "-m", "leakcheck", *args], job.root, env)
    if status == 0:
        return "clean", False
    if status == 1:
        return "leak found", True
    # leakcheck's 2 is a run that failed: not a leak, and not a verdict either.
    raise JobError(f"python -m leakcheck suite failed (exit status {status}); see its output above")


def publish(job: Job) -> bool:
    if job.asv("publish") != 0:
        return False
    write_regressions(job.config.html_dir, job.config.results_dir, job.root)
    problems = make_offline(job.config.html_dir)
    for line in problems:
        print(line, file=sys.stderr)
    return not problems


def nightly(job: Job, options: argparse.Namespace) -> Report:
    if job.asv("machine", "--yes", "--machine", job.machine) != 0:
        raise JobError(f"asv machine failed for {job.machine}")
    target = git(job.root, "rev-parse", options.target)
    baseline = git(job.root, "rev-parse", options.baseline or previous_baseline(job, target))
    report = Report(baseline[:8], target[:8], options.factor, options.count_threshold)
    if baseline == target:
        print("nothing new to benchmark")
    else:
        commits = git(job.root, "rev-list", "--first-parent", "--reverse",
                      f"{baseline}..{target}").split()  # fmt: skip
        report.commits = len(commits)
        bench = ["-b", options.bench] if options.bench else []
        rounds = ["-a", f"rounds={options.rounds}"] if options.rounds else []
        measured = {run.commit for run in scan(job.config.results_dir, job.machine).runs}
        for commit in (baseline, target):
            if commit == target or commit not in measured:
                job.asv("run", "--machine", job.machine, *rounds, *bench, f"{commit}^!")
        changes = judge_commits(job, baseline, target, options.factor, options.count_threshold)
        weigher = job.weigher or default_weigher(
            job.root, job.machine, options.bench, options.processes
        )
        found = weigher(baseline, target, None)
        report.trials = [t.as_dict() for t in found]
        timings, report.machine = timing_changes(found, baseline, target)
        report.inconclusive = [c for c in timings if c.reason.startswith("unknown")]
        changes += expect(timings, declared(job.root, baseline, target))
        report.regressed, report.improved, report.broke = split(changes)
        report.counts_judged = any(
            is_counted(c) and c.status is not Status.INCOMPARABLE for c in changes
        )
        report.expected = [c for c in changes if c.status is Status.EXPECTED]
        counts = [c for c in report.regressed if is_counted(c)]
        slower = [c for c in report.regressed if timed(c.unit)]
        if counts:
            counter = job.counter or safely(WorktreeCounter(job.root))
            bytecodes = job.bytecodes or safely(WorktreeCounter(job.root, bytecodes=True))
            report.findings = investigate(commits, baseline, counts, counter, bytecodes,
                                          options.count_threshold)  # fmt: skip
        if slower:
            report.findings += timing_culprits(weigher, commits, baseline, slower)
        if options.backfill:
            job.asv("run", "--skip-existing-commits", "--machine", job.machine, *bench,
                    f"{baseline}..{target}")  # fmt: skip
    if options.leakcheck:
        report.leakcheck, report.leaked = run_leakcheck(job)
    else:
        report.leakcheck = "not run (--no-leakcheck)"
    if options.publish:
        report.published = publish(job)
    return report


def summary(report: Report) -> str:
    lines = [f"nightly: {report.baseline} -> {report.target} ({report.commits} commits), factor"
             f" {report.factor}, counts {report.count_threshold:.1%}"]  # fmt: skip
    for title, changes in (("REGRESSED", report.regressed), ("BROKE", report.broke),
                           ("the machine", report.machine),
                           ("inconclusive", report.inconclusive),
                           ("expected", report.expected),
                           ("improved", report.improved)):  # fmt: skip
        lines += [f"  {title}: {_describe(c)}" for c in changes]
    for found in report.findings:
        culprit = found.culprit[:8] if found.culprit else f"unknown ({found.reason})"
        lines.append(f"  culprit of {found.benchmark}: {culprit}")
        for fn, before, after in (*found.py_functions, *found.c_functions):
            lines.append(f"    grew: {fn}  {before:,.0f} -> {after:,.0f} per call")
    if not report.counts_judged:
        lines.append("  instruction counts: none measured on both sides, so the count gate judged"
                     " nothing (is valgrind installed? apt-get install valgrind)")  # fmt: skip
    lines.append(f"  leakcheck: {report.leakcheck}; site published: {report.published}")
    verdict = {0: "OK", 1: "REGRESSED", 2: "A BENCHMARK BROKE", 3: "REGRESSED AND BROKE"}
    lines.append(f"verdict: {verdict[report.status]} (exit status {report.status})")
    return "\n".join(lines)


def _describe(change: Change) -> str:
    if change.status is Status.BROKE:
        return f"{change.benchmark}  ({change.reason})"
    before, after = human(change.before, change.unit), human(change.after, change.unit)
    better = "higher" if change.higher_is_better else "lower"
    ratio = "" if change.ratio is None else f"x{change.ratio:.4g}, "
    why = f"; {change.reason}" if change.reason else ""
    return f"{change.benchmark}  {before} -> {after}  ({ratio}{better} is better{why})"


class _Parser(argparse.ArgumentParser):
    """Bad arguments exit 4 (the job could not run), not argparse's 2 (a benchmark broke)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(CANNOT_RUN, f"{self.prog}: error: {message}\n")


def _factor(text: str) -> float:
    value = float(text)
    if not value > 1:
        raise argparse.ArgumentTypeError(f"must be above 1 (a ratio), not {text}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(
            f"must be at least 2 (a weighing needs two a side), not {text}"
        )
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, not {text}")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = _Parser(prog="nightly.py", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repo", type=Path, help="the repository (default: the working one)")
    parser.add_argument(
        "--machine",
        default=os.environ.get("TASKORCH_ASV_MACHINE", platform.node()),
        help="asv machine name: results are kept per machine ($TASKORCH_ASV_MACHINE, else the"
        " host name; the reference results are under ref-2core)",
    )
    parser.add_argument("--target", default="main", help="what to benchmark (default: main)")
    parser.add_argument("--baseline", help="compare with this commit (default: previous results)")
    parser.add_argument(
        "--factor",
        type=_factor,
        default=DEFAULT_FACTOR,
        help=f"the regression rule's factor (default: {DEFAULT_FACTOR})",
    )
    parser.add_argument(
        "--count-threshold",
        type=_fraction,
        default=COUNT_THRESHOLD,
        help=f"relative change of an instruction count that counts (default: {COUNT_THRESHOLD})",
    )
    parser.add_argument(
        "--rounds", type=_positive, help="asv rounds per commit, for the recorded history"
    )
    parser.add_argument("--bench", "-b", help="only benchmarks matching this regex")
    parser.add_argument(
        "--processes",
        type=_at_least_two,
        default=MOST,
        help=f"the most fresh processes a side a timing gets while its answer is unknown"
        f" (default: {MOST})",
    )
    parser.add_argument(
        "--no-backfill",
        dest="backfill",
        action="store_false",
        help="do not record the commits between baseline and target for the history",
    )
    parser.add_argument(
        "--no-leakcheck",
        dest="leakcheck",
        action="store_false",
        help="skip the leak checks (about 6 min: 180 s a workload at most)",
    )
    parser.add_argument(
        "--no-publish",
        dest="publish",
        action="store_false",
        help="do not regenerate the site (.asv/html)",
    )
    return parser.parse_args(list(argv))


def main(
    argv: Sequence[str] | None = None,
    run: CommandRunner = run_command,
    counter: Counter | None = None,
    bytecodes: Counter | None = None,
    weigher: Weigher | None = None,
) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        root = (options.repo or toplevel()).resolve()
        job = Job(root, load_config(root), options.machine, run, weigher, counter, bytecodes)
        report = nightly(job, options)
    except (JobError, ConfigurationError) as exc:
        print(f"nightly: cannot run: {exc}", file=sys.stderr)
        return CANNOT_RUN
    except subprocess.CalledProcessError as exc:
        print(f"nightly: cannot run: {exc}\n{exc.stderr or ''}", file=sys.stderr)
        return CANNOT_RUN
    except TrialError as exc:
        print(f"nightly: cannot weigh the timings: {exc}", file=sys.stderr)
        return CANNOT_RUN
    print("\n" + summary(report))
    out = root / ".asv" / "nightly.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    text = markdown(report.as_dict())
    out.with_suffix(".md").write_text(text)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as f:
            f.write(text)
    return report.status
