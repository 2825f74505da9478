"""``taskorch perf validate``: run the success-criteria validation and write the report.

The validation plan goes to --db, for the specialist "perfkit-validation", and is claimed
there by the run alone: the other work in the database is never claimed or changed. Ctrl-C or
SIGTERM cancels what the run has not finished. Every option and file is checked before the
run starts (--report DIR is created then).

Exit status as ``taskorch perf validate`` (the taskorch command's table): 0 every criterion
passed, 3 a criterion failed or was not measured (skip one on purpose with --skip),
1 a taskorch error, 2 bad usage (an option out of range, a file that cannot be read or
written), 130 interrupted. As ``python -m perfkit validate`` (perfkit's table): 1 a criterion
failed or was not measured, 4 a taskorch error, 64 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from taskorch import ConfigurationError
from taskorch.cli import resolve_url

from ..kit.command import PLANS_CANCELLED, guarded, run_async
from ..kit.exits import Exit
from ..kit.options import Parser, UsageError, number
from ..reports.report import generate_performance_report
from ..validation.session import OrchestrationSession
from ..validation.slo import CRITERIA, load_budgets
from ..validation.sources import SourceError, load_leaks
from ..validation.spec import MAX_DURATION, VALIDATION_SPECS

__all__ = ["TASKORCH_STATUSES", "add_command", "main", "validation_specs"]

#: The statuses of the taskorch command's table, where they differ from perfkit's.
TASKORCH_STATUSES = {Exit.FAILED: 3, Exit.CANNOT_RUN: 1, Exit.USAGE: 2}


def validation_specs(
    duration: float, quick: bool, capacity_seconds: float | None = None
) -> list[dict[str, Any]]:
    """:data:`~perfkit.validation.spec.VALIDATION_SPECS` with the stress run lasting ``duration``
    seconds (``quick``: a tenth of the benchmark iterations, for a first look or CI), and with
    ``capacity_seconds`` an agent capacity search given that time budget (it is not part of a
    default run: it tries counts until one breaks, which takes as long as its budget).

    The leak check keeps its iterations in a quick run: in a tenth of them the database's page
    cache is still filling, which looks like steady growth (``plan`` shows about 200 B/iteration
    over 2,000 iterations and 0 over 20,000), so a shorter loop would report a leak that is not
    there."""
    scale = 10 if quick else 1
    specs: list[dict[str, Any]] = [dict(spec) for spec in VALIDATION_SPECS]
    for spec in specs:
        iterations = spec.get("iterations")
        if isinstance(iterations, int) and spec["target"] != "leaks":
            spec["iterations"] = iterations // scale
        if "duration_seconds" in spec:
            spec["duration_seconds"] = duration
    if capacity_seconds is not None:
        specs.append({"type": "stress_test", "target": "agent_capacity",
                      "budget_seconds": capacity_seconds})  # fmt: skip
    return specs


def add_command(sub: Any, db_help: str) -> None:
    """Add ``perf validate`` to the ``taskorch`` command's subparsers."""
    perf = sub.add_parser("perf", help="performance validation", description="performance tools")
    inner = perf.add_subparsers(dest="perf_command", required=True, metavar="COMMAND")
    p = inner.add_parser(
        "validate",
        help="check the success criteria on this machine and database; write a report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(p, db_help)
    p.set_defaults(func=guarded(cmd_validate, TASKORCH_STATUSES, PLANS_CANCELLED))


def main(argv: list[str]) -> int:
    """``python -m perfkit validate``."""
    parser = Parser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(parser, "database URL ($TASKORCH_URL, else sqlite:///.taskorch/taskorch.db)")
    return guarded(cmd_validate, interrupted=PLANS_CANCELLED)(parser.parse_args(argv))


def add_options(p: argparse.ArgumentParser, db_help: str) -> None:
    """The options of ``validate``."""
    p.add_argument("--db", help=db_help + "; the validation plan and its results go here")
    p.add_argument("--report", metavar="DIR", help="write report.html, summary.md, report.json")
    p.add_argument("--budgets", metavar="FILE", help="TOML file with tighter [budgets]")
    p.add_argument("--skip", action="append", default=[], choices=[c.key for c in CRITERIA],
                   help="do not check this criterion (repeatable); shown as skipped")  # fmt: skip
    p.add_argument("--duration", type=number(0, MAX_DURATION, above=True), default=60.0,
                   metavar="SECONDS", help="length of the concurrent-agents stress run"
                   f" (default 60, at most {MAX_DURATION:g})")  # fmt: skip
    p.add_argument("--capacity", nargs="?", const=60.0, default=None, metavar="SECONDS",
                   type=number(0, MAX_DURATION, above=True),
                   help="also search for the largest agent count that holds, within SECONDS"
                   " (default 60); the result goes in the report")  # fmt: skip
    p.add_argument(
        "--quick",
        action="store_true",
        help="a tenth of the benchmark iterations (the leak check keeps its 20,000)",
    )
    p.add_argument("--leakcheck-json", metavar="FILE",
                   help="use this leakcheck result instead of running leak checks")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def cmd_validate(args: argparse.Namespace) -> int:
    if args.report:
        writable_folder(Path(args.report), "--report")
    try:
        budgets = load_budgets(args.budgets) if args.budgets else {}
    except ConfigurationError as exc:
        raise UsageError(f"--budgets: {exc}") from exc
    specs = validation_specs(args.duration, args.quick, args.capacity)
    leaks = None
    if args.leakcheck_json:
        path = Path(args.leakcheck_json)
        try:
            leaks = load_leaks(path)
        except SourceError as exc:
            raise UsageError(f"--leakcheck-json: {exc}") from exc
        if leaks is None:
            raise UsageError(f"--leakcheck-json: {path} does not exist")
    if leaks is not None or "leaks" in args.skip:
        specs = [s for s in specs if s["target"] != "leaks"]
    url = resolve_url(args)
    quiet = args.json

    def progress(line: str) -> None:
        if not quiet:
            print(line, flush=True)

    session = OrchestrationSession(
        session_id="perf_validation",
        description="Performance validation testing",
        db=url,
        progress=progress,
    )
    results = run_async(session.execute_performance_tests(specs))
    report = generate_performance_report(results, budgets=budgets, skip=args.skip, leaks=leaks)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.to_markdown())
    if args.report:
        paths = report.write(args.report)
        if not quiet:
            print(f"report: {paths['html']} (summary: {paths['markdown']})")
    return Exit.OK if report.passed else Exit.FAILED


def writable_folder(path: Path, option: str) -> None:
    """Create ``path`` and prove a file can be written there, so that a run of minutes does
    not end unable to write its report."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot write a report there ({exc})") from exc
