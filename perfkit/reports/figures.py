"""The figures of one commit's asv results, as a Markdown table: each benchmark's median, the
spread of its samples, each operation's ratio to its raw sqlite3 reference measured in the same
run, and whether a benchmark's level changed at this commit: a change point of its history
(:meth:`perfkit.verdict.history.History.changes`), with its label (regression, improvement,
machine).

The spread is the interquartile range of the samples over their median (asv's ``q_25`` and
``q_75``), in percent: how much one sample differs from the next inside a run.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from taskorch.errors import ConfigurationError

from ..data.asvdata import Measurement, load_config
from ..data.gitrepo import git, toplevel
from ..kit.exits import Exit
from ..kit.numbers import amount
from ..kit.options import Parser, add_machine, add_repo
from ..verdict.changepoints import Shift
from ..verdict.controls import raw_twins
from ..verdict.history import load_history, reading_machine

__all__ = ["figures", "main"]


def figures(
    results: Path,
    machine: str | None,
    commit: str,
    *,
    root: Path | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> list[str] | None:
    """The table's lines for ``commit`` (a hash or a prefix of one); None when it has no results
    on ``machine`` (None: the machine with the most results). The history's thresholds are
    ``thresholds``, else the calibration of ``machine`` under ``root``, else the defaults."""
    history = load_history(results, machine, root=root, thresholds=thresholds)
    commits = [] if history is None else history.commits
    matching = [i for i, c in enumerate(commits) if c.startswith(commit)]
    if history is None or not matching:
        return None
    index = matching[-1]
    table = history.at(commits[index])
    here = {s.benchmark: s for s in history.changes() if s.commit == commits[index]}
    twins = raw_twins(table)
    lines = [
        "| benchmark | params | median | spread (IQR/median) | ours/raw | level change here |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in sorted(table.items()):
        twin = table.get(twins.get(name, ""))
        ratio = f"{m.value / twin.value:.1f}x" if twin and m.usable and twin.value > 0 else "—"
        change = _change(here[name]) if name in here else "—"
        median = "failed" if m.failed else amount(m.value, m.unit)
        cells = [f"`{m.name}`", m.params or "—", median, _spread(m), ratio, change]
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def _spread(m: Measurement) -> str:
    stats = m.stats or {}
    if not m.usable or m.value == 0 or "q_25" not in stats or "q_75" not in stats:
        return "—"
    return f"{(stats['q_75'] - stats['q_25']) / m.value * 100:.1f} %"


def _change(shift: Shift) -> str:
    p = "" if shift.p is None else f", p {shift.p:.2g}"
    return f"{shift.ratio:.2f}x {shift.label}{p}"


def main(argv: list[str]) -> int:
    """``scripts/asv_figures.py``: exit status 0, 4 when the commit has no results, 64 when the
    machine named has none."""
    parser = Parser(
        description=__doc__.split("\n\n")[0],
        epilog="exit status: 0 the table printed; 4 the revision is unknown or has no results on"
        " the machine (or asv is missing); 64 bad usage, a machine with no results included",
    )
    parser.add_argument("commit", nargs="?", default="main", help="a revision (default: main)")
    add_machine(parser, reads=True)
    add_repo(parser)
    options = parser.parse_args(argv)
    try:
        root = options.repo or toplevel()
        commit = git(root, "rev-parse", options.commit)
        results = load_config(root).results_dir
        machine = reading_machine(results, options.machine)
        lines = figures(results, machine, commit, root=root)
    except (ConfigurationError, subprocess.CalledProcessError) as exc:
        print(f"asv_figures: {getattr(exc, 'stderr', '') or exc}", file=sys.stderr)
        return Exit.CANNOT_RUN
    if lines is None:
        where = f"on {machine}" if machine else f"on any machine in {results}"
        print(f"no results for {commit[:8]} {where}", file=sys.stderr)
        return Exit.CANNOT_RUN
    print("\n".join(lines))
    return Exit.OK
