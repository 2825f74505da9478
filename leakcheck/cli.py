"""``python -m leakcheck``: check a callable, the registered workloads, or the corpus.

Exit status: 0 no leak, 1 leak found, 2 the run itself failed (bad arguments, an output that
cannot be written, a target that cannot be imported, a workload that raised, even SystemExit,
crashed, forked or ended its process, memray unable to track).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from leakcheck.checking import DEFAULT_ITERATIONS, DEFAULT_THRESHOLD, DEFAULT_WARMUP
from leakcheck.errors import LeakcheckError, WorkloadError
from leakcheck.isolation import RunRequest, run_in_child
from leakcheck.limits import MAX_BUDGET, MAX_THRESHOLD, amount_option, count_option
from leakcheck.outputs import check_writable, write_text_whole

__all__ = ["main"]

EXIT_CLEAN, EXIT_LEAK, EXIT_FAILED = 0, 1, 2

VERDICT_HELP = """\
how the verdict is reached:
  The callable runs WARMUP times untracked, then ITERATIONS times under memray (Python
  allocators traced), in 8 equal segments. For every line of code (the workload's own line,
  not the library it calls) leakcheck measures:
    - survivors: bytes allocated in the first half of the window still alive at its end,
      after a garbage collection, per iteration of that half;
    - growth: how much that line's live memory grew in each segment.
  A line grows steadily when each of the last 4 segments grew; it then keeps the smaller of
  its survivors and its slowest segment's growth per iteration. The workload LEAKS (exit 1)
  when its steady lines together keep at least THRESHOLD bytes per iteration.
  Bounded caches smaller than half the window, periodically cleared buffers, cyclic garbage
  and caches warming up are not leaks. A cache larger than half the window cannot be told
  from a leak: raise ITERATIONS above twice its size.

exit status: 0 no leak, 1 leak, 2 the run failed (message on stderr)
"""


class Command(Protocol):
    """One subcommand: declares its options, then runs and returns an exit status."""

    name: str
    help: str

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def add_loop_options(
    parser: argparse.ArgumentParser, warmup_help: str = f"default {DEFAULT_WARMUP}"
) -> None:
    """Options shared by every subcommand that runs checks."""
    parser.add_argument(
        "--iterations", "-n", type=count_option(16), default=DEFAULT_ITERATIONS, metavar="N",
        help=f"tracked iterations (default {DEFAULT_ITERATIONS})",
    )  # fmt: skip
    parser.add_argument(
        "--warmup", "-w", type=count_option(0), default=None, metavar="W",
        help=f"untracked iterations first ({warmup_help})",
    )  # fmt: skip
    parser.add_argument(
        "--threshold", type=amount_option(0, MAX_THRESHOLD), default=DEFAULT_THRESHOLD,
        metavar="BYTES",
        help=f"steady bytes per iteration that make a leak (default {DEFAULT_THRESHOLD})",
    )  # fmt: skip
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress messages on stderr")


class RunCommand:
    name = "run"
    help = "check one callable, MODULE:CALLABLE"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("target", metavar="MODULE:CALLABLE", help="called with no arguments")
        parser.add_argument(
            "--session", action="store_true",
            help="the target is a session factory: called with a scratch directory, it returns "
            "a context manager yielding the callable to loop",
        )  # fmt: skip
        add_loop_options(parser)
        parser.add_argument("--json", type=Path, metavar="OUT.json", help="write the report")
        parser.add_argument(
            "--flamegraph", type=Path, metavar="OUT.html",
            help="write a flamegraph of the memory left alive (works offline)",
        )  # fmt: skip
        parser.add_argument(
            "--keep-capture", type=Path, metavar="PATH",
            help="keep memray's capture file at PATH (deleted otherwise)",
        )  # fmt: skip

    def run(self, args: argparse.Namespace) -> int:
        for option, path in (
            ("--json", args.json), ("--flamegraph", args.flamegraph),
            ("--keep-capture", args.keep_capture),
        ):  # fmt: skip
            if path is not None:
                check_writable(option, path)
        request = RunRequest(
            target=args.target,
            session=args.session,
            iterations=args.iterations,
            warmup=DEFAULT_WARMUP if args.warmup is None else args.warmup,
            threshold=args.threshold,
            json=_optional_str(args.json),
            flamegraph=_optional_str(args.flamegraph),
            keep_capture=_optional_str(args.keep_capture),
            progress=not args.quiet,
            sys_path=list(sys.path),
            pythonpath=os.environ.get("PYTHONPATH"),
        )
        return run_in_child(request)


class SuiteCommand:
    name = "suite"
    help = "check every registered taskorch workload and print a table"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--only", action="append", default=[], metavar="NAME",
            help="check only this workload (repeatable)",
        )  # fmt: skip
        add_loop_options(parser, warmup_help="default twice the iterations")
        parser.add_argument("--json", type=Path, metavar="OUT.json", help="write all reports")
        parser.add_argument(
            "--flamegraph-dir", type=Path, metavar="DIR",
            help="write NAME.html flamegraphs of the workloads that leak",
        )  # fmt: skip
        from leakcheck.suite import DEFAULT_BUDGET, DEFAULT_REGISTRY

        parser.add_argument(
            "--budget", type=amount_option(0, MAX_BUDGET), default=DEFAULT_BUDGET,
            metavar="SECONDS",
            help=f"time per workload (default {DEFAULT_BUDGET:g}); slower workloads run fewer "
            "iterations, with a warning; 0 for no limit",
        )  # fmt: skip
        parser.add_argument(
            "--registry", default=DEFAULT_REGISTRY, metavar="MODULE",
            help=f"module holding WORKLOADS (default {DEFAULT_REGISTRY})",
        )  # fmt: skip

    def run(self, args: argparse.Namespace) -> int:
        from leakcheck.suite import format_table, load_workloads, run_suite, suite_json

        if args.json is not None:
            check_writable("--json", args.json)
        workloads = load_workloads(args.registry)
        results = run_suite(
            workloads,
            only=args.only,
            iterations=args.iterations,
            warmup=args.warmup,
            threshold=args.threshold,
            flamegraph_dir=args.flamegraph_dir,
            budget=args.budget,
            progress=not args.quiet,
        )
        if args.json is not None:
            _write_json(args.json, json.dumps(suite_json(results), indent=2))
        print(format_table(results))
        if any(r.report is None for r in results):
            return EXIT_FAILED
        return EXIT_LEAK if any(r.report.leaked for r in results if r.report) else EXIT_CLEAN


class CorpusCommand:
    name = "corpus"
    help = "score leakcheck, pytest-memray and tracemalloc on the labelled corpus"

    def prepare_parser(self, parser: argparse.ArgumentParser) -> None:
        from leakcheck.accuracy import prepare_parser

        prepare_parser(parser)

    def run(self, args: argparse.Namespace) -> int:
        from leakcheck.accuracy import run_command

        return run_command(args)


COMMANDS: tuple[Command, ...] = (RunCommand(), SuiteCommand(), CorpusCommand())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m leakcheck",
        description="Run a workload in a long loop under memray and say whether it leaks.",
        epilog=VERDICT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            epilog=VERDICT_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.prepare_parser(sub)
        sub.set_defaults(command_object=command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m leakcheck``; returns the exit status."""
    args = build_parser().parse_args(argv)
    command: Command = args.command_object
    # A CI timeout sends SIGTERM: unwind like Ctrl-C so that captures (which can reach
    # gigabytes) and scratch directories are removed on the way out.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return command.run(args)
    except KeyboardInterrupt:
        print("leakcheck: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        return report_failure(exc)
    finally:
        signal.signal(signal.SIGTERM, previous)


def report_failure(exc: Exception) -> int:
    """Say on stderr why the run failed; the exit status that goes with it."""
    if not isinstance(exc, LeakcheckError):
        # A bug of leakcheck's own must not exit 1, which would read as "leak found".
        traceback.print_exc()
        print("leakcheck: internal error", file=sys.stderr)
        return EXIT_FAILED
    print(f"leakcheck: error: {exc}", file=sys.stderr)
    cause = exc.__cause__
    # When the workload's own code failed, its traceback is what its author needs.
    if isinstance(exc, WorkloadError) and not isinstance(
        cause, (AttributeError, ModuleNotFoundError, type(None))
    ):
        traceback.print_exception(cause, file=sys.stderr)
    return EXIT_FAILED


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _write_json(path: Path, text: str) -> None:
    write_text_whole(path, text + "\n")


def _optional_str(path: Path | None) -> str | None:
    return None if path is None else str(path)
