"""The nightly job's command line: its options, each checked as argparse reads it; a bad one is
a :class:`UsageError` (the job could not run, exit status 4, not argparse's 2)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from .command import machine_name
from .gitrepo import toplevel
from .regression import COUNT_THRESHOLD, DEFAULT_FACTOR
from .trials import MOST

__all__ = ["UsageError", "parse_args", "repo_of"]

EPILOG = """\
exit status (a bit set):
  0  everything asked for was judged; nothing regressed or broke
  1  a benchmark regressed, or the leak check found a leak
  2  a benchmark broke (it fails, or runs past its timeout, on the target)
  8  something asked for judged nothing (the reason is in the account)
  4  the job could not run (bad arguments, a commit that does not install...)
The report: .asv/nightly.json and .asv/nightly.md, replaced by every run."""


class UsageError(Exception):
    """Bad arguments: the job could not run (exit status 4, not argparse's 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(message)


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


def parse_args(argv: Sequence[str], description: str = "") -> argparse.Namespace:
    parser = _Parser(prog="nightly.py", description=description, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--repo", type=Path, help="the repository (default: the working one)")
    parser.add_argument(
        "--machine",
        type=machine_name,
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
