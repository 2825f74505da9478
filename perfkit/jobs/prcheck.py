"""The pull-request check: the nightly job's gate (:mod:`perfkit.jobs.nightly`) on a pull request,
its head against its merge base with main, judging only what does not depend on the machine's
load.

Every instruction count is judged by the nightly's rule (1 %), sizes and statement counts by its
factor; for a count that regressed, the nightly's own follow-up names the commit of the pull
request that moved it and the functions that grew. Timings are left to the nightly (asv does not
even run them: ``-b`` selects only the count and size benchmarks), and so are the leak check,
the site and the history's backfill. Results go to a throw-away asv machine (``pr-check``).

Any other option is the nightly's (``--repo``, ``--machine``, ``-b`` to narrow it further...),
and so are the report (``.asv/nightly.json`` and ``.asv/nightly.md``, also appended to
``$GITHUB_STEP_SUMMARY``) and the exit status: 0 judged, nothing regressed; bits 1 regressed,
2 a benchmark broke, 8 judged nothing of a family; 4 could not run; 64 bad usage.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Sequence

from taskorch.errors import ConfigurationError

from ..counts.culprit import Counter
from ..counts.instructions import valgrind_problem
from ..data.gitrepo import git, toplevel
from ..kit.options import Parser, UsageError, add_repo
from . import nightly
from .nightly_options import parse_args, repo_of

__all__ = ["BENCHMARKS", "MACHINE", "TITLE", "main", "nightly_argv"]

TITLE = "Pull request counts"
MACHINE = "pr-check"
# The instruction counts and the sizes and statement counts: what one value a side can judge.
# Nothing timed, and no leak rate (bytes/iteration; the history watches it, the nightly's leak
# check judges leaks). asv's -b is searched in each benchmark's name with its parameters, and
# what it does not select asv never sets up, so what is left out costs nothing.
BENCHMARKS = (
    r"^(instructions|counters|memory\.(ObjectSizes|PeakMemPlan|PeakMemDrain))\."
    r"|^memory\.Footprint\.track_rss_after_open$"
)
# What the nightly does a night and a pull request does not need.
OFF = ("--no-timings", "--no-leakcheck", "--no-publish", "--no-backfill")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="Any other option goes to the nightly job (scripts/nightly.py --help).",
    )
    parser.add_argument("--base", default="main", help="the branch merged into (default: main)")
    parser.add_argument("--head", default="HEAD", help="the pull request (default: HEAD)")
    add_repo(parser)
    return parser


def nightly_argv(argv: Sequence[str]) -> list[str]:
    """The nightly's arguments for the pull request that ``argv`` names: its head against the
    merge base. :class:`UsageError` when the arguments are wrong, :class:`ValueError` when the
    commits are."""
    ours, rest = _parser().parse_known_args(list(argv))
    parse_args(rest)  # the nightly's options, checked before anything runs
    root = (ours.repo or toplevel()).resolve()
    try:
        head = git(root, "rev-parse", "--verify", f"{ours.head}^{{commit}}")
        base = git(root, "merge-base", ours.base, head)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip() or f"git exited {exc.returncode}"
        raise ValueError(f"no merge base of {ours.base} and {ours.head}: {detail}") from None
    return ["--repo", str(root), "--baseline", base, "--target", head, "--machine", MACHINE,
            "--title", TITLE, "-b", BENCHMARKS, *OFF, *rest]  # fmt: skip


def main(
    argv: Sequence[str] | None = None,
    run: nightly.CommandRunner = nightly.run_command,
    counter: Counter | None = None,
    bytecodes: Counter | None = None,
    valgrind: Callable[[], str | None] = valgrind_problem,
) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    try:
        args = nightly_argv(given)
    except (ValueError, ConfigurationError) as exc:
        # Said the nightly's way, replacing the last report, so that no earlier verdict stays
        # behind to be posted as this one's.
        bad_usage = isinstance(exc, UsageError)
        said = f"bad arguments: {exc}" if bad_usage else str(exc)
        report = nightly.Report(title=TITLE, could_not_run=said, bad_usage=bad_usage)
        try:
            root = repo_of(given)
        except ConfigurationError:
            print(f"pr_check: cannot run: {said}", file=sys.stderr)
            return report.status
        print("\n" + nightly.write_report(root, report))
        print(f"pr_check: cannot run: {said}", file=sys.stderr)
        return report.status
    return nightly.main(args, run=run, counter=counter, bytecodes=bytecodes, valgrind=valgrind)
