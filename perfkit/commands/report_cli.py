"""Make one self-contained HTML performance report and a Markdown summary from what exists.

    python scripts/generate_performance_report.py [--out reports/performance]

Sources, each optional (a missing one is left out of the report, or shown as not measured):

- the asv results (history plots of the core operations, ratio to the raw sqlite3 baseline,
  detected regressions): the ``results_dir`` of ``asv.conf.json``, else ``.asv/results``;
- a validation run: ``report.json`` written by ``taskorch perf validate --report DIR``
  (default ``reports/validation/report.json``): the success-criteria table;
- leakcheck results: ``python -m leakcheck suite --json reports/leakcheck.json``;
- monitor samples: ``tools/diagnostics/performance_monitor.py`` (``reports/monitor/``).

A source file that exists but cannot be used (not UTF-8, not JSON, not the shape its tool
writes) is left out with a message naming it, and the report is made from the rest; a file
named on the command line (--results, --leakcheck, --monitor, --asv-results, --budgets) must
exist and be readable, or nothing is written and the exit status is 64.

Writes ``report.html`` (opens with no network: plots embedded), ``summary.md`` and
``report.json``. Exit status 0, or with ``--gate`` 1 when a success criterion is not met;
4 outside a git repository without --repo; 64 a file named on the command line cannot be used,
or a machine named has no results.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from taskorch.errors import ConfigurationError

from ..data.asvdata import results_dir
from ..data.gitrepo import toplevel
from ..kit.exits import Exit
from ..kit.options import Parser, UsageError, add_machine, add_repo, output_folder
from ..reports.report import generate_performance_report
from ..validation.slo import load_budgets
from ..validation.sources import SourceError, load_leaks, load_results, load_samples
from ..verdict.history import History, load_history, reading_machine

__all__ = ["main"]

T = TypeVar("T")


def _source(
    load: Callable[[Path], T | None], given: Path | None, default: Path, what: str
) -> T | None:
    """``load`` the file the user named (it must be usable), else the default one (left out,
    with a message, when it cannot be used)."""
    path = given or default
    try:
        found = load(path)
    except SourceError as exc:
        if given is not None:
            raise UsageError(f"{what}: {exc}") from exc
        print(f"{what} left out: {exc}", file=sys.stderr)
        return None
    if found is None and given is not None:
        raise UsageError(f"{what}: {path} does not exist")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = Parser(
        description=__doc__.split("\n\n")[0],
        epilog="A file named with an option must exist and be readable (exit status 64"
        " otherwise); a default file that cannot be used is left out with a message.",
    )
    add_repo(parser)
    parser.add_argument("--asv-results", type=Path, help="asv results folder (default: the"
                        " results_dir of asv.conf.json, else .asv/results)")  # fmt: skip
    add_machine(parser, " for the history", reads=True)
    parser.add_argument("--results", type=Path, help="report.json of a perf validate run"
                        " (default: reports/validation/report.json, if there)")  # fmt: skip
    parser.add_argument("--leakcheck", type=Path, help="leakcheck suite JSON"
                        " (default: reports/leakcheck.json, if there)")  # fmt: skip
    parser.add_argument("--monitor", type=Path, help="samples.json of the performance monitor"
                        " (default: reports/monitor/samples.json, if there)")  # fmt: skip
    parser.add_argument("--budgets", type=Path, help="TOML file with tighter [budgets]")
    parser.add_argument("--title", default="taskorch performance report", help="the heading")
    parser.add_argument("--out", type=output_folder, default="reports/performance",
                        help="the folder written")  # fmt: skip
    parser.add_argument("--gate", action="store_true", help="exit 1 if a criterion is not met")
    args = parser.parse_args(argv)
    try:
        root = args.repo or toplevel()
    except ConfigurationError as exc:
        print(f"report: cannot run: {exc}", file=sys.stderr)
        return Exit.CANNOT_RUN
    try:
        if args.asv_results is not None and not args.asv_results.is_dir():
            raise UsageError(f"asv results: {args.asv_results} is not a folder")
        asv_results = args.asv_results or results_dir(root)
        machine = reading_machine(asv_results, args.machine)
        results = _source(load_results, args.results, root / "reports/validation/report.json",
                          "validation run")  # fmt: skip
        leaks = _source(load_leaks, args.leakcheck, root / "reports/leakcheck.json",
                        "leakcheck results")  # fmt: skip
        samples = _source(load_samples, args.monitor, root / "reports/monitor/samples.json",
                          "monitor samples")  # fmt: skip
        try:
            budgets = load_budgets(args.budgets) if args.budgets else {}
        except ConfigurationError as exc:
            raise UsageError(f"budgets: {exc}") from exc
    except UsageError as exc:
        raise UsageError(f"{exc}; nothing written") from exc
    history: History | None = None
    try:
        history = load_history(asv_results, machine, root=root)
    except ConfigurationError as exc:  # asv is not installed: the report goes without history
        print(f"asv history left out: {exc}", file=sys.stderr)
    for skipped in history.skipped if history else ():
        print(f"asv result file left out: {skipped}", file=sys.stderr)
    report = generate_performance_report(
        results, title=args.title, budgets=budgets, history=history, leaks=leaks, samples=samples
    )
    for name, found in (("asv history", history), ("validation run", results),
                        ("leakcheck results", leaks), ("monitor samples", samples)):  # fmt: skip
        print(f"{name:18} {'found' if found else 'absent'}", end="")
        print(f" (machine {history.machine})" if found and found is history else "")
    paths = report.write(args.out)
    print(paths["markdown"].read_text(encoding="utf-8"))
    print(f"wrote {paths['html']} and {paths['markdown']}")
    return Exit.FAILED if args.gate and not report.passed else Exit.OK
