"""The figures of one commit's asv results, as a Markdown table: each benchmark's median, the
spread of its samples, each operation's ratio to its raw sqlite3 reference measured in the same
run, and what the regression rule says against the commit kept before it.

The spread is the interquartile range of the samples over their median (asv's ``q_25`` and
``q_75``), in percent: how much one sample differs from the next inside a run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from taskorch.errors import ConfigurationError

from .asvdata import Measurement, human, load_config
from .gitrepo import git, toplevel
from .history import load_history, raw_twins
from .regression import DEFAULT_FACTOR, Change, Status, judge

__all__ = ["figures", "main"]


def figures(
    results: Path, machine: str, commit: str, factor: float = DEFAULT_FACTOR
) -> list[str] | None:
    """The table's lines for ``commit`` (a hash or a prefix of one); None when it has no results
    on ``machine``."""
    history = load_history(results, machine)
    commits = [] if history is None else history.commits
    matching = [i for i, c in enumerate(commits) if c.startswith(commit)]
    if history is None or not matching:
        return None
    index = matching[-1]
    table = history.at(commits[index])
    before = history.at(commits[index - 1]) if index > 0 else {}
    twins = raw_twins(table)
    against = f"vs {commits[index - 1][:8]}" if before else "vs the commit before"
    lines = [
        f"| benchmark | params | median | spread (IQR/median) | ours/raw | {against} |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in sorted(table.items()):
        twin = table.get(twins.get(name, ""))
        ratio = f"{m.value / twin.value:.1f}x" if twin and m.usable and twin.value > 0 else "—"
        change = _change(judge(before.get(name), m, factor)) if before else "—"
        median = human(None if m.failed else m.value, m.unit)
        cells = [f"`{m.name}`", m.params or "—", median, _spread(m), ratio, change]
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def _spread(m: Measurement) -> str:
    stats = m.stats or {}
    if not m.usable or m.value == 0 or "q_25" not in stats or "q_75" not in stats:
        return "—"
    return f"{(stats['q_75'] - stats['q_25']) / m.value * 100:.1f} %"


def _change(change: Change) -> str:
    if change.status in (Status.REGRESSED, Status.IMPROVED):
        return f"{change.ratio:.2f}x {change.status}"
    if change.status is Status.UNCHANGED:
        return "—"
    return change.reason or str(change.status)


def main(argv: list[str]) -> int:
    """``scripts/asv_figures.py``: exit status 0, or 1 when the commit has no results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit", nargs="?", default="main", help="a revision (default: main)")
    parser.add_argument("--machine", default="ref-2core", help="asv machine (default: ref-2core)")
    parser.add_argument("--repo", type=Path, help="the repository (default: the working one)")
    options = parser.parse_args(argv)
    try:
        root = options.repo or toplevel()
        commit = git(root, "rev-parse", options.commit)
        lines = figures(load_config(root).results_dir, options.machine, commit)
    except (ConfigurationError, subprocess.CalledProcessError) as exc:
        print(f"asv_figures: {getattr(exc, 'stderr', '') or exc}", file=sys.stderr)
        return 1
    if lines is None:
        print(f"no results for {commit[:8]} on {options.machine}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0
