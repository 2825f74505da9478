"""The nightly regression job: benchmark what is new on main against the previous baseline in the
same run, run the leak checks, publish the site, and say what regressed, and what was judged.

Steps:
1. the repository is the git work tree of the working directory (or ``--repo``); the target is
   ``main`` (or ``--target``); the baseline is the newest first-parent ancestor of the target that
   has results for this machine (or ``--baseline``);
2. ``asv run`` records the target, then the baseline when it has no results yet, or what its
   saved results lack of the counts and sizes the target has (an earlier ``asv run -b ...``
   leaves a partial file); a target asv could not install, or whose benchmarks did not import
   (every benchmark failed without running), stops the job;
3. the saved values that do not depend on load are judged pair by pair by the regression rule
   (:mod:`perfkit.verdict.regression`): instruction counts by a tight threshold, memory sizes and
   statement counts by the factor. Counts that could not be taken are put down to valgrind
   when valgrind is missing or fails, not to the code;
4. the timings (``time_`` benchmarks) are weighed on fresh processes of both commits,
   alternated benchmark by benchmark (:mod:`perfkit.timing.trials`, :mod:`perfkit.timing.timings`),
   with each benchmark's threshold from the A/A calibration (``calibration/<machine>.json``,
   :mod:`perfkit.timing.calibration`). A timing that moved together with its raw sqlite3 reference,
   or a raw reference itself, is the machine, not the code; one whose process fails or runs
   past its timeout on the target is broken. What a commit of the range declared (an
   ``Expected-Change:`` trailer, :mod:`perfkit.data.expected`) is expected, not regressed; timings
   of the large graphs are watched in the history (change points), not here;
   for each regression, the first commit of the range that shows it: bisection on the counts,
   or on new trials for a timing; and for counts the functions that grew most
   (:mod:`perfkit.counts.culprit`);
   every asv run and trial process of the night measures against one PostgreSQL server
   (:func:`perfkit.harness.pg_server.for_the_night`: the one the environment names, else a
   throw-away server started for the night and stopped after its last measurement), handed to
   them as ``$TASKORCH_BENCH_POSTGRES_URL``; the report says which;
5. the first-parent commits between the two that change the engine get their counts and sizes
   recorded for the history (:func:`backfill`), so that a count's graph steps at the commit
   that moved it; timings are recorded on the nights alone (each costs minutes);
6. ``python -m leakcheck suite`` when the leakcheck package exists (a leak counts as a
   regression), unless ``--no-leakcheck``;
7. ``asv publish``, the regressions page from the history's change points, and the site's
   libraries vendored so that it renders offline (:mod:`perfkit.reports.site`).

Every night gives an account of what it judged (:mod:`perfkit.verdict.account`): for each family of
evidence (instruction counts, sizes and statement counts, timings, the leak check) how many
benchmarks were compared on both sides, skipped and why, inconclusive or broken. A family the
night was asked to judge that compared nothing is never a pass; ``--no-counts``, ``--no-sizes``,
``--no-timings`` and ``--no-leakcheck`` turn a family off, and the account says so.

Exit status (a bit set, so that each part can be told apart at once):
  0  everything asked for was judged; nothing regressed, nothing broke
  1  a benchmark regressed (slower, larger, more statements...) or leakcheck found a leak
  2  a benchmark broke: it fails, or runs past its timeout, on the target
  8  something asked for judged nothing: a ``-b`` that matched no benchmark, valgrind missing
     or failing, a baseline whose results lack the benchmarks, every timing inconclusive
  (1, 2 and 8 combine: 3, 9, 10, 11)
  4  the job could not run, whatever else it found: no repository, a commit that does not
     install or whose benchmarks do not import, a calibration file that cannot be used
  64 bad usage: an unknown option, a value out of range (the statuses of every perfkit command,
     :class:`perfkit.kit.exits.Exit`)

Every run, whatever its outcome, replaces the report of the run before: JSON in
``.asv/nightly.json`` and the same account as Markdown beside it (``.asv/nightly.md``), each
written whole; the Markdown is also printed and appended to ``$GITHUB_STEP_SUMMARY`` when set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from taskorch.errors import ConfigurationError

from ..counts.culprit import Counter, Finding, WorktreeCounter, investigate, safely
from ..counts.instructions import valgrind_problem
from ..data.asvdata import AsvConfig, Measurement, expand, load_commit, load_config, scan
from ..data.expected import declared
from ..data.gitrepo import git, toplevel
from ..data.nightly_file import write_files
from ..harness.pg_server import NightServer, for_the_night
from ..harness.postgres import ENV_URL
from ..kit.exits import Exit
from ..reports.summary import markdown
from ..timing.timings import (
    Weigher,
    default_weigher,
    nightly_benchmarks,
    timing_changes,
    timing_culprits,
)
from ..timing.trials import TrialError
from ..verdict.account import Family, Tally, family_of, not_asked, tally_changes
from ..verdict.calibration_data import history_only
from ..verdict.history import calibration_file
from ..verdict.regression import COUNT_THRESHOLD, DEFAULT_FACTOR, Change, Status, expect
from .night_lock import Running, one_night
from .night_steps import CommandRunner, JobError, publish, run_leakcheck
from .nightly_options import UsageError, parse_args, repo_of
from .saved import judge_saved, lacking, selecting

__all__ = ["BROKE", "CANNOT_RUN", "NOT_JUDGED", "REGRESSED", "USAGE", "CommandRunner", "Job",
           "JobError", "Report", "main", "nightly"]  # fmt: skip

# The night's statuses, by their names in perfkit's one table of exit statuses.
REGRESSED, BROKE, CANNOT_RUN = Exit.FAILED, Exit.BROKE, Exit.CANNOT_RUN
NOT_JUDGED, USAGE = Exit.NOT_JUDGED, Exit.USAGE
DESCRIPTION = (__doc__ or "").split("\n\n")[0]


def run_command(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> int:
    shown = ["python" if command[0] == sys.executable else command[0], *command[1:]]
    print("$ " + shlex.join(shown), flush=True)
    return subprocess.run(list(command), cwd=cwd, env=None if env is None else dict(env)).returncode


@dataclass(frozen=True, slots=True)
class Job:
    """Where the job runs: the repository, its asv configuration and the machine, plus the way
    commands are run."""

    root: Path
    config: AsvConfig
    machine: str
    run: CommandRunner = run_command
    # Timing trials (default: perfkit.timing.trials in the asv environment, every time_ benchmark
    # that
    # matches --bench).
    weigher: Weigher | None = None
    # Count operations at a commit, for the culprit and the evidence (default: a git worktree of
    # the commit under valgrind, and the same without valgrind for Python bytecodes).
    counter: Counter | None = None
    bytecodes: Counter | None = None
    # Why no instruction count can be taken here (None: valgrind works).
    valgrind_problem: Callable[[], str | None] = valgrind_problem
    # The night's one PostgreSQL server (default: perfkit.harness.pg_server.for_the_night).
    postgres: Callable[[], AbstractContextManager[NightServer]] = for_the_night
    # What every asv run and trial process of the night gets besides the environment.
    env: Mapping[str, str] = field(default_factory=dict)

    def asv(self, *args: str) -> int:
        env = {**os.environ, **self.env} if self.env else None
        return self.run([sys.executable, "-m", "asv", *args], self.root, env)

    def results(self, commit: str) -> dict[str, Measurement]:
        return load_commit(self.config.results_dir, self.machine, commit)


@dataclass
class Report:
    baseline: str = ""
    target: str = ""
    factor: float = DEFAULT_FACTOR
    count_threshold: float = COUNT_THRESHOLD
    bench: str | None = None
    commits: int = 0  # in the range after the baseline, up to the target
    regressed: list[Change] = field(default_factory=list)
    improved: list[Change] = field(default_factory=list)
    broke: list[Change] = field(default_factory=list)
    # Timings that moved with their raw sqlite3 reference, and the references that moved.
    machine: list[Change] = field(default_factory=list)
    # Timings still unknown after the most processes a side, or that more could not settle,
    # or that the night's time for timings left unweighed.
    inconclusive: list[Change] = field(default_factory=list)
    # Timings the calibration found a night cannot judge at 10 %, each with why.
    history_only: dict[str, str] = field(default_factory=dict)
    # Every timing trial: the process values of both sides and their weighing.
    trials: list[dict[str, Any]] = field(default_factory=list)
    # Moved, and a commit of the range said it would.
    expected: list[Change] = field(default_factory=list)
    # Culprit and evidence of each counted regression.
    findings: list[Finding] = field(default_factory=list)
    # What each family of evidence judged, by family.
    account: dict[Family, Tally] = field(default_factory=dict)
    # What kept the whole night from judging anything (a -b that matched no benchmark).
    problems: list[str] = field(default_factory=list)
    # Why the job could not run; the status is then CANNOT_RUN whatever else was found (USAGE
    # when the arguments were wrong).
    could_not_run: str = ""
    bad_usage: bool = False
    nothing_new: bool = False
    leakcheck: str = "not run"
    leaked: bool = False
    # Which PostgreSQL server both sides were measured against, or why none.
    postgres: str = "not needed"
    published: bool = False
    title: str = "Nightly benchmarks"  # the Markdown's heading

    @property
    def not_judged(self) -> list[Tally]:
        """The families asked for that judged nothing."""
        return [t for t in self.account.values() if t.judged_nothing]

    @property
    def status(self) -> int:
        if self.could_not_run:
            return USAGE if self.bad_usage else CANNOT_RUN
        status: int = REGRESSED if self.regressed or self.leaked else Exit.OK
        status |= BROKE if self.broke else Exit.OK
        return status | (NOT_JUDGED if self.problems or self.not_judged else Exit.OK)

    def as_dict(self) -> dict[str, Any]:
        lists = ("regressed", "improved", "broke", "machine", "inconclusive", "expected")
        return {
            "baseline": self.baseline,
            "target": self.target,
            "factor": self.factor,
            "count_threshold": self.count_threshold,
            "bench": self.bench,
            "commits": self.commits,
            "nothing_new": self.nothing_new,
            "account": [t.as_dict() for t in self.account.values()],
            "problems": list(self.problems),
            "could_not_run": self.could_not_run,
            **{name: [c.as_dict() for c in getattr(self, name)] for name in lists},
            "findings": [f.as_dict() for f in self.findings],
            "trials": self.trials,
            "leakcheck": self.leakcheck,
            "leaked": self.leaked,
            "postgres": self.postgres,
            "history_only": dict(self.history_only),
            "published": self.published,
            "title": self.title,
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


def record(job: Job, commit: str, bench: str | None, rounds: int | None) -> None:
    """``asv run`` of one commit, ``bench`` selecting the benchmarks."""
    args = ["-b", bench] if bench else []
    args += ["-a", f"rounds={rounds}"] if rounds else []
    job.asv("run", "--machine", job.machine, *args, f"{commit}^!")


# What does not depend on the machine's load: the instruction counts and the sizes and
# statement counts. asv's -b is searched in each benchmark's name with its parameters, and what
# it does not select asv never sets up, so the timings cost nothing where this selects.
# memory.Footprint.track_import_time is in ms: a timing, left out.
UNTIMED = (
    r"^(instructions|counters|leaks|memory\.(ObjectSizes|PeakMemPlan|PeakMemDrain))\."
    r"|^memory\.Footprint\.track_rss_after_open$"
)
ENGINE = "taskorch"


def backfill(job: Job, bench: str | None, baseline: str, target: str) -> list[str]:
    """Record the counts and sizes (:data:`UNTIMED`, narrowed by ``bench``) of every
    first-parent commit after ``baseline`` and before ``target`` that changes the engine and has
    no results yet; returns those commits, oldest first. Commits off the first-parent line are
    left out: asv's site draws only its branches' first-parent history."""
    commits = git(job.root, "rev-list", "--first-parent", "--reverse", f"{baseline}..{target}",
                  "--", ENGINE).split()  # fmt: skip
    measured = {run.commit for run in scan(job.config.results_dir, job.machine).runs}
    wanted = [c for c in commits if c != target and c not in measured]
    if not wanted:
        return []
    pattern = f"^(?=.*(?:{bench}))(?:{UNTIMED})" if bench else UNTIMED
    with tempfile.TemporaryDirectory(prefix="taskorch-backfill-") as folder:
        listed = Path(folder) / "commits"
        listed.write_text("".join(f"{c}\n" for c in wanted))
        job.asv("run", "--skip-existing-commits", "--machine", job.machine, "-b", pattern,
                f"HASHFILE:{listed}")  # fmt: skip
    return wanted


def recorded(job: Job, commit: str, selected: Mapping[str, Any]) -> dict[str, Measurement]:
    """The saved results of ``commit`` for the selected benchmarks; :class:`JobError` when asv
    saved none, or marked every one failed without running it (the commit did not install, or
    the benchmark suite did not import at it)."""
    found = job.results(commit)
    mine = {name: found[name] for name in selected if name in found}
    if not mine:
        raise JobError(f"asv saved no results for {commit[:8]}: did it build? (see asv's"
                       " output above)")  # fmt: skip
    if all(m.failed and not m.ran for m in mine.values()):
        raise JobError(f"{commit[:8]} could not be installed, or its benchmarks could not be"
                       " imported: asv marked every benchmark failed without running it (see"
                       " asv's output above)")  # fmt: skip
    return mine


# Why the account leaves a timing the calibration found a night cannot judge at 10 %.
LEFT_TO_HISTORY = (
    "cannot be judged at 10 % a night on this machine (the calibration): watched in the history"
)


def judge_timings(
    job: Job,
    report: Report,
    weigher: Weigher,
    commits: tuple[str, str],
    selected: Mapping[str, Mapping[str, Any]],
) -> list[Change]:
    """Every selected timing the night weighs, on fresh processes of both commits; the other
    selected timings are left to the history, and the account says so."""
    tally = report.account[Family.TIMINGS]
    left = history_only(calibration_file(job.root, job.machine))
    weighed = {b.name for b in nightly_benchmarks(job.root, report.bench)} - set(left)
    for name, info in selected.items():
        if info.get("type") == "time" and name in left:
            report.history_only[name] = left[name]
            tally.skip(LEFT_TO_HISTORY, name)
        elif info.get("type") == "time" and name not in weighed:
            tally.skip("watched in the history, not weighed a night", name)
    if not weighed:
        return []
    found = weigher(*commits, None)
    report.trials = [t.as_dict() for t in found]
    timings, report.machine = timing_changes(found, *commits)
    tally_changes(tally, [*timings, *report.machine])
    report.inconclusive = [c for c in timings if c.reason.startswith("unknown")]
    return timings


def split(changes: Sequence[Change]) -> tuple[list[Change], list[Change], list[Change]]:
    """The regressed, improved and broken changes, in that order."""
    by = {s: [c for c in changes if c.status is s] for s in Status}
    return by[Status.REGRESSED], by[Status.IMPROVED], by[Status.BROKE]


def families(options: argparse.Namespace) -> dict[Family, Tally]:
    """The account's families, each asked for unless its option turned it off."""
    on = {Family.COUNTS: options.counts, Family.SIZES: options.sizes,
          Family.TIMINGS: options.timings, Family.LEAKS: options.leakcheck}  # fmt: skip
    flag = {Family.COUNTS: "--no-counts", Family.SIZES: "--no-sizes",
            Family.TIMINGS: "--no-timings", Family.LEAKS: "--no-leakcheck"}  # fmt: skip
    return {f: Tally(f) if asked else not_asked(f, f"turned off ({flag[f]})")
            for f, asked in on.items()}  # fmt: skip


def nightly(job: Job, options: argparse.Namespace, report: Report) -> None:
    """The night, filling ``report`` as it goes (so that a night cut short says how far it got)."""
    if job.asv("machine", "--yes", "--machine", job.machine) != 0:
        raise JobError(f"asv machine failed for {job.machine}")
    target = git(job.root, "rev-parse", options.target)
    baseline = git(job.root, "rev-parse", options.baseline or previous_baseline(job, target))
    report.baseline, report.target = baseline[:8], target[:8]
    if baseline == target:
        report.nothing_new = True
        for family in (Family.COUNTS, Family.SIZES, Family.TIMINGS):
            report.account[family] = not_asked(family, "nothing new: the target is the baseline")
    else:
        with job.postgres() as server:
            report.postgres = server.said
            if server.url is not None:
                job = replace(job, env={**job.env, ENV_URL: server.url})
            judge_range(job, options, report, baseline, target)
    if report.account[Family.LEAKS].asked:
        report.leakcheck, report.leaked = run_leakcheck(job.root, job.run,
                                                        report.account[Family.LEAKS])  # fmt: skip
    else:
        report.leakcheck = "not run (--no-leakcheck)"
    if options.publish:
        report.published = publish(job.root, job.asv)


def judge_range(
    job: Job, options: argparse.Namespace, report: Report, baseline: str, target: str
) -> None:
    commits = git(job.root, "rev-list", "--first-parent", "--reverse",
                  f"{baseline}..{target}").split()  # fmt: skip
    report.commits = len(commits)
    measured = {run.commit for run in scan(job.config.results_dir, job.machine).runs}
    record(job, target, options.bench, options.rounds)
    selected = expand(job.root, options.bench)
    if not selected:
        report.problems.append(f"-b {options.bench!r} matched no benchmark" if options.bench
                               else "asv discovered no benchmark")  # fmt: skip
        return
    for family in (Family.COUNTS, Family.SIZES, Family.TIMINGS):
        present = any(family_of(str(i.get("unit") or ""), str(i.get("type"))) is family
                      for i in selected.values())  # fmt: skip
        if report.account[family].asked and not present and options.bench:
            report.account[family] = not_asked(family, f"-b {options.bench!r} matched none")
    after = recorded(job, target, selected)
    if baseline not in measured:
        record(job, baseline, options.bench, options.rounds)
    elif missing := lacking(job.results(baseline), after, selected):
        print(f"the baseline's saved results lack {len(missing)} of the benchmarks asked for:"
              f" measuring them at {baseline[:8]}", flush=True)  # fmt: skip
        record(job, baseline, selecting(missing), options.rounds)
    before = recorded(job, baseline, selected)
    for name in lacking(before, after, selected):
        before.pop(name, None)
        kind = family_of(after.pop(name).unit, str(selected[name].get("type", "")))
        if kind is not None and report.account[kind].asked:
            report.account[kind].skip("the baseline's saved results lack it", name)
    rule = (report.factor, report.count_threshold)
    changes = judge_saved(report.account, before, after, selected, rule, job.valgrind_problem)
    weigher = None
    if report.account[Family.TIMINGS].asked:
        weigher = job.weigher or default_weigher(job.root, job.machine, options.bench,
                                                 options.processes, job.env,
                                                 options.timings_budget)  # fmt: skip
        timed = judge_timings(job, report, weigher, (baseline, target), selected)
        known = {c.benchmark for c in timed}
        changes = [c for c in changes if c.benchmark not in known] + timed
        # A timing asv's run saw fail that no trial weighed (the large graphs) broke too.
        report.account[Family.TIMINGS].broke += sum(
            c.status is Status.BROKE and selected[c.benchmark].get("type") == "time"
            for c in changes
            if c.benchmark not in known
        )
    changes = expect(changes, declared(job.root, baseline, target))
    report.regressed, report.improved, report.broke = split(changes)
    report.expected = [c for c in changes if c.status is Status.EXPECTED]
    counts = [c for c in report.regressed if family_of(c.unit, "") is Family.COUNTS]
    slower = [c for c in report.regressed if c.benchmark in {t["benchmark"] for t in report.trials}]
    if counts:
        counter = job.counter or safely(WorktreeCounter(job.root))
        bytecodes = job.bytecodes or safely(WorktreeCounter(job.root, bytecodes=True))
        report.findings = investigate(commits, baseline, counts, counter, bytecodes,
                                      options.count_threshold)  # fmt: skip
    if slower and weigher is not None:
        report.findings += timing_culprits(weigher, commits, baseline, slower)
    if options.backfill:
        backfill(job, options.bench, baseline, target)


def write_report(root: Path, report: Report) -> str:
    """The report as ``.asv/nightly.json`` and ``.asv/nightly.md`` (each written whole,
    replacing the run before), appended to ``$GITHUB_STEP_SUMMARY`` when set; returns the
    Markdown."""
    data = report.as_dict()
    text = markdown(data)
    write_files(root, data, text)
    return text


def main(
    argv: Sequence[str] | None = None,
    run: CommandRunner = run_command,
    counter: Counter | None = None,
    bytecodes: Counter | None = None,
    weigher: Weigher | None = None,
    valgrind: Callable[[], str | None] = valgrind_problem,
    postgres: Callable[[], AbstractContextManager[NightServer]] | None = None,
) -> int:
    report = Report()
    root: Path | None = None
    try:
        options = parse_args(sys.argv[1:] if argv is None else argv, DESCRIPTION)
        report.factor, report.count_threshold = options.factor, options.count_threshold
        report.bench, report.account = options.bench, families(options)
        report.title = options.title
        root = (options.repo or toplevel()).resolve()
        job = Job(root, load_config(root), options.machine, run, weigher, counter, bytecodes,
                  valgrind, postgres or for_the_night)  # fmt: skip
        with one_night(root):
            nightly(job, options, report)
    except Running as exc:  # the running night owns the report: leave it alone
        print(f"nightly: cannot run: {exc}", file=sys.stderr)
        return CANNOT_RUN
    except UsageError as exc:
        report.could_not_run, report.bad_usage = f"bad arguments: {exc}", True
    except (JobError, ConfigurationError) as exc:
        report.could_not_run = str(exc)
    except subprocess.CalledProcessError as exc:
        report.could_not_run = f"{exc} {exc.stderr or ''}".strip()
    except TrialError as exc:
        report.could_not_run = f"cannot weigh the timings: {exc}"
    if root is None:  # bad arguments replace the last report too, where one can be found
        with contextlib.suppress(ConfigurationError):
            root = repo_of(sys.argv[1:] if argv is None else argv)
    text = markdown(report.as_dict()) if root is None else write_report(root, report)
    print("\n" + text)
    if report.could_not_run:
        print(f"nightly: cannot run: {report.could_not_run}", file=sys.stderr)
    return report.status
