"""``taskorch perf validate``: run the success-criteria validation and write the report.

Exit status: 0 every criterion passed, 3 a criterion failed or was not measured (skip one on
purpose with ``--skip``), 1 a taskorch error, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from taskorch.cli import resolve_url

from .report import generate_performance_report
from .session import OrchestrationSession
from .slo import CRITERIA, load_budgets
from .sources import load_leaks
from .spec import SEED_SPECS

__all__ = ["add_command", "validation_specs"]


def validation_specs(duration: float, quick: bool) -> list[dict[str, Any]]:
    """:data:`~perfkit.spec.SEED_SPECS` with the stress run lasting ``duration`` seconds
    (``quick``: a tenth of the iterations, for a first look or CI)."""
    scale = 10 if quick else 1
    specs: list[dict[str, Any]] = [dict(spec) for spec in SEED_SPECS]
    for spec in specs:
        iterations = spec.get("iterations")
        if isinstance(iterations, int):
            spec["iterations"] = iterations // scale
        if "duration_seconds" in spec:
            spec["duration_seconds"] = duration
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
    p.add_argument("--db", help=db_help + "; the validation plan and its results go here")
    p.add_argument("--report", metavar="DIR", help="write report.html, summary.md, report.json")
    p.add_argument("--budgets", metavar="FILE", help="TOML file with tighter [budgets]")
    p.add_argument("--skip", action="append", default=[], choices=[c.key for c in CRITERIA],
                   help="do not check this criterion (repeatable); shown as skipped")  # fmt: skip
    p.add_argument("--duration", type=float, default=60.0, metavar="SECONDS",
                   help="length of the 50-agent stress run (default 60)")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="a tenth of the iterations")
    p.add_argument("--leakcheck-json", metavar="FILE",
                   help="use this leakcheck result instead of running leak checks")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    if args.duration <= 0:
        print("taskorch: --duration must be positive", file=sys.stderr)
        return 2
    budgets = load_budgets(args.budgets) if args.budgets else {}
    specs = validation_specs(args.duration, args.quick)
    leaks = None
    if args.leakcheck_json:
        leaks = load_leaks(Path(args.leakcheck_json))
        if leaks is None:
            print(f"taskorch: cannot read leakcheck results {args.leakcheck_json}", file=sys.stderr)
            return 2
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
    results = asyncio.run(session.execute_performance_tests(specs))
    report = generate_performance_report(results, budgets=budgets, skip=args.skip, leaks=leaks)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(report.to_markdown())
    if args.report:
        paths = report.write(args.report)
        if not quiet:
            print(f"report: {paths['html']} (summary: {paths['markdown']})")
    return report.exit_status
