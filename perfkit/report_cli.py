"""Make one self-contained HTML performance report and a Markdown summary from what exists.

    python scripts/generate_performance_report.py [--out reports/performance]

Sources, each optional (a missing one is left out of the report, or shown as not measured):

- the asv results (history plots of the core operations, ratio to the raw sqlite3 baseline,
  detected regressions): the ``results_dir`` of ``asv.conf.json``, else ``.asv/results``;
- a validation run: ``report.json`` written by ``taskorch perf validate --report DIR``
  (default ``reports/validation/report.json``): the success-criteria table;
- leakcheck results: ``python -m leakcheck suite --json reports/leakcheck.json``;
- monitor samples: ``tools/diagnostics/performance_monitor.py`` (``reports/monitor/``).

Writes ``report.html`` (opens with no network: plots embedded), ``summary.md`` and
``report.json``. Exit status 0, or with ``--gate`` 3 when a success criterion is not met.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from taskorch.errors import ConfigurationError

from .asvdata import results_dir
from .history import History, load_history
from .report import generate_performance_report
from .session import SessionResults
from .slo import load_budgets
from .sources import load_leaks, load_samples

__all__ = ["load_results", "main"]


def load_results(path: Path) -> SessionResults | None:
    """A validation run from ``perf validate``'s report.json (or a bare session dump)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    session = data.get("session", data) if isinstance(data, dict) else None
    try:
        return SessionResults.from_dict(session) if session else None
    except (KeyError, TypeError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root")
    parser.add_argument("--asv-results", type=Path, help="asv results folder")
    parser.add_argument("--machine", help="asv machine name (default: the one with most results)")
    parser.add_argument("--results", type=Path, help="report.json of a perf validate run")
    parser.add_argument("--leakcheck", type=Path, help="leakcheck suite JSON")
    parser.add_argument("--monitor", type=Path, help="samples.json of the performance monitor")
    parser.add_argument("--budgets", type=Path, help="TOML file with tighter [budgets]")
    parser.add_argument("--title", default="taskorch performance report")
    parser.add_argument("--out", type=Path, default=Path("reports/performance"))
    parser.add_argument("--gate", action="store_true", help="exit 3 if a criterion is not met")
    args = parser.parse_args(argv)
    root = args.root
    history: History | None = None
    try:
        history = load_history(args.asv_results or results_dir(root), args.machine)
    except ConfigurationError as exc:  # asv is not installed: the report goes without history
        print(f"asv history left out: {exc}", file=sys.stderr)
    for skipped in history.skipped if history else ():
        print(f"asv result file left out: {skipped}", file=sys.stderr)
    results = load_results(args.results or root / "reports/validation/report.json")
    leaks = load_leaks(args.leakcheck or root / "reports/leakcheck.json")
    samples = load_samples(args.monitor or root / "reports/monitor/samples.json")
    budgets = load_budgets(args.budgets) if args.budgets else {}
    report = generate_performance_report(
        results, title=args.title, budgets=budgets, history=history, leaks=leaks, samples=samples
    )
    for name, found in (("asv history", history), ("validation run", results),
                        ("leakcheck results", leaks), ("monitor samples", samples)):  # fmt: skip
        print(f"{name:18} {'found' if found else 'absent'}")
    paths = report.write(args.out)
    print(report.to_markdown())
    print(f"wrote {paths['html']} and {paths['markdown']}")
    return report.exit_status if args.gate else 0
