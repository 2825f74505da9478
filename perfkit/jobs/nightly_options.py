"""The nightly job's command line: its options, each checked as argparse reads it; a bad one is
a :class:`UsageError` (exit status 64, as for every perfkit command)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ..data.gitrepo import toplevel
from ..kit.options import (
    Parser,
    UsageError,
    add_bench,
    add_machine,
    add_repo,
    integer,
    number,
)
from ..timing.timings import BUDGET
from ..timing.trials import MOST
from ..verdict.regression import COUNT_THRESHOLD, DEFAULT_FACTOR

__all__ = ["UsageError", "parse_args", "repo_of"]

EPILOG = """\
exit status (a bit set):
  0  everything asked for was judged; nothing regressed or broke
  1  a benchmark regressed, or the leak check found a leak
  2  a benchmark broke (it fails, or runs past its timeout, on the target)
  8  something asked for judged nothing (the reason is in the account)
  4  the job could not run (a commit that does not install, no asv environment...)
 64  bad usage (an unknown option, a value out of range)
The report: .asv/nightly.json and .asv/nightly.md, replaced by every run."""


def parse_args(argv: Sequence[str], description: str = "") -> argparse.Namespace:
    parser = Parser(description=description, epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_repo(parser)
    add_machine(parser, ": results are kept per machine")
    parser.add_argument("--target", default="main", help="what to benchmark (default: main)")
    parser.add_argument("--baseline", help="compare with this commit (default: previous results)")
    parser.add_argument(
        "--factor",
        type=number(1, above=True),
        default=DEFAULT_FACTOR,
        help=f"the regression rule's factor (default: {DEFAULT_FACTOR})",
    )
    parser.add_argument(
        "--count-threshold",
        type=number(0, 1, above=True),
        default=COUNT_THRESHOLD,
        help=f"relative change of an instruction count that counts (default: {COUNT_THRESHOLD})",
    )
    parser.add_argument(
        "--rounds", type=integer(1), help="asv rounds per commit, for the recorded history"
    )
    add_bench(parser)
    parser.add_argument(
        "--processes",
        type=integer(2),
        default=MOST,
        help=f"the most fresh processes a side a timing gets while its answer is unknown"
        f" (default: {MOST})",
    )
    parser.add_argument(
        "--timings-budget",
        type=number(0, 24 * 60, above=True),
        default=BUDGET,
        metavar="MINUTES",
        help="the most the timings' trials may take; what they could not settle by then is"
        f" reported inconclusive, never the same (default: {BUDGET:g})",
    )
    parser.add_argument(
        "--no-backfill",
        dest="backfill",
        action="store_false",
        help="do not record the commits between baseline and target for the history",
    )
    for family, what in (("counts", "the instruction counts, taken under valgrind"),
                         ("sizes", "the sizes and statement counts"),
                         ("timings", "the timings, weighed on fresh processes")):  # fmt: skip
        parser.add_argument(f"--no-{family}", dest=family, action="store_false",
                            help=f"do not judge {what} (the account says so)")  # fmt: skip
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
    parser.add_argument(
        "--title", default="Nightly benchmarks", help="the Markdown summary's heading"
    )
    return parser.parse_args(list(argv))


def repo_of(argv: Sequence[str]) -> Path:
    """The repository the arguments name (``--repo``), else the working one."""
    lenient = argparse.ArgumentParser(add_help=False)
    lenient.add_argument("--repo", type=Path)
    found = lenient.parse_known_args(list(argv))[0].repo
    return found.resolve() if found is not None and found.is_dir() else toplevel()
