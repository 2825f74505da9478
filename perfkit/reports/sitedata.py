"""The published site's regressions page from the history's rule, not from asv's step detection.

``asv publish`` writes ``regressions.json`` (read by the site's regressions page) and its Atom
feed ``regressions.xml`` from asv's own step detection over the graphs, which flags the steps of
the raw sqlite3 references and whatever noise passes its threshold. :func:`write_regressions`
rewrites both from :meth:`perfkit.verdict.history.History.regressions` for every machine of the
results, so that the page lists exactly what the report calls a regression.

asv 0.6.6's page reads ``{"regressions": [entry, ...]}``, one entry per benchmark and parameter
set and graph: ``[name, graph file, graph parameters, parameter index, last value, best value,
jumps]``. The name carries the parameters (``database.Get.time_get(1000)``); the graph file is
the one ``asv publish`` wrote for the machine (``graphs/.../database.Get.time_get.json``); the
graph parameters are those that tell graphs apart (the machine, when there are several); the
parameter index is the place of the parameter set in the product of the benchmark's parameters
(None without parameters); each jump is ``[revision before, revision after, value before, value
after]``, revisions being the numbers ``index.json`` maps to commits. Here a jump is a change
point: the last commit of the old level, the first of the new one, and the two levels' medians.

``scripts/publish.py`` (:func:`perfkit.reports.site.publish`) runs it between ``asv publish`` and
the vendoring; on a site published by hand, ``python -m perfkit.reports.sitedata [--repo PATH]``.
Both files are written whole or not at all, so a failed rewrite leaves the previous page.
"""

from __future__ import annotations

import datetime
import io
import itertools
import json
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from taskorch.errors import ConfigurationError

from ..data.asvdata import load_config, machines
from ..data.files import write_bytes_atomic, write_text_atomic
from ..data.gitrepo import toplevel
from ..kit.exits import Exit
from ..kit.numbers import amount
from ..kit.options import Parser, add_repo
from ..verdict.changepoints import Shift
from ..verdict.history import History, load_history

__all__ = ["main", "regression_entries", "write_regressions"]


def write_regressions(html_dir: Path, results: Path, root: Path | None = None) -> int:
    """Rewrite ``regressions.json`` and ``regressions.xml`` in a published site from the
    regressions of each machine's history in ``results`` (thresholds from the calibration
    under ``root``); returns how many regressions the page now lists."""
    index = _index(html_dir)
    histories = [h for m in machines(results) if (h := load_history(results, m, root=root))]
    entries = [e for h in histories for e in regression_entries(index, html_dir, h)]
    # Both made before either is written: a failure leaves the pair as it was.
    page = json.dumps({"regressions": entries}, separators=(",", ":"))
    feed = _feed(index, entries)
    write_text_atomic(html_dir / "regressions.json", page)
    write_bytes_atomic(html_dir / "regressions.xml", feed)
    return sum(len(e[6]) for e in entries)


def regression_entries(
    index: Mapping[str, Any], html_dir: Path, history: History
) -> list[list[Any]]:
    """The page's entries for ``history``'s regressions, given the site's ``index.json``; a
    regression whose benchmark, graph or commits the site does not hold is left out."""
    revision = {str(h): int(r) for r, h in index["revision_to_hash"].items()}
    by_key: dict[str, list[Shift]] = {}
    for shift in history.regressions():
        by_key.setdefault(shift.benchmark, []).append(shift)
    graphs = _graphs(index, html_dir, history.machine)
    entries = []
    for key, shifts in sorted(by_key.items()):
        base = key.split("(", 1)[0]
        described = index["benchmarks"].get(base)
        graph = graphs(base)
        if described is None or graph is None or key not in history.series:
            continue
        jumps = [
            [revision.get(s.baseline), revision[s.commit], s.before, s.after]
            for s in shifts
            if s.commit in revision
        ]
        values = [p.value for p in history.series[key]]
        best = max(values) if shifts[0].higher_is_better else min(values)
        if jumps:
            path, params = graph
            entries.append([key, path, params, _param_index(key, described), values[-1], best,
                            jumps])  # fmt: skip
    return entries


def _index(html_dir: Path) -> dict[str, Any]:
    path = html_dir / "index.json"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"{html_dir} holds no published site: publish it first"
            " (python scripts/publish.py, which also rewrites this page)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: not a site published by asv: {exc}") from exc
    if not isinstance(found, dict) or not {"revision_to_hash", "benchmarks"} <= found.keys():
        raise ConfigurationError(f"{path}: not a site published by asv")
    return found


Graphs = Callable[[str], tuple[str, dict[str, Any]] | None]


def _graphs(index: Mapping[str, Any], html_dir: Path, machine: str) -> Graphs:
    """A function from a benchmark's name to its graph file on ``machine`` and the parameters
    that tell that graph from the others (None when the site has no such graph)."""
    from asv.graph import Graph  # type: ignore[import-untyped]

    listed: list[dict[str, Any]] = index.get("graph_param_list", [])
    values: dict[str, set[str]] = {}
    for params in listed:
        for k, v in params.items():
            if v:
                values.setdefault(k, set()).add(str(v))
    mine = [p for p in listed if p.get("machine") == machine]

    def find(benchmark: str) -> tuple[str, dict[str, Any]] | None:
        for params in mine:
            path = str(Graph.get_file_path(params, benchmark)) + ".json"
            if (html_dir / path).is_file():
                return path, {k: v for k, v in params.items() if len(values.get(k, ())) > 1}
        return None

    return find


def _param_index(key: str, described: Mapping[str, Any]) -> int | None:
    params = described.get("params") or []
    if not params:
        return None
    name = key.split("(", 1)[0]
    for j, combo in enumerate(itertools.product(*params)):
        if f"{name}({', '.join(combo)})" == key:
            return j
    return None


def _feed(index: Mapping[str, Any], entries: Sequence[list[Any]]) -> bytes:
    """The Atom feed of ``entries``, as asv writes ``regressions.xml``."""
    from asv import feed  # type: ignore[import-untyped]

    to_hash = {int(r): str(h) for r, h in index["revision_to_hash"].items()}
    to_date = {int(r): int(d) for r, d in index.get("revision_to_date", {}).items()}
    items = []
    for key, _, params, _, _, _, jumps in entries:
        base = key.split("(", 1)[0]
        unit = str(index["benchmarks"][base].get("unit", ""))
        for before_rev, after_rev, before, after in jumps:
            commit = to_hash[after_rev]
            link = f"index.html#{base}?" + urllib.parse.urlencode({**params, "commits": commit})
            when = datetime.datetime.fromtimestamp(to_date.get(after_rev, 0) / 1000, datetime.UTC)
            since = "" if before_rev is None else f" (level before: {to_hash[before_rev][:8]})"
            content = (
                f'<a href="{escape(link)}">{escape(key)}</a>: level changed in commit'
                f" {escape(commit[:8])}{escape(since)}, {escape(amount(before, unit))} →"
                f" {escape(amount(after, unit))}."
            )
            title = f"{(after / before - 1) * 100:+.1f}% {key}"
            items.append(feed.FeedEntry(title, when, link, content, [key, commit], when))
    items.sort(key=lambda e: e.updated, reverse=True)
    project = str(index.get("project", "asv"))
    out = io.BytesIO()
    feed.write_atom(out, items, title=f"{project} performance regressions",
                    author="taskorch perfkit", address=f"{project}.asv")  # fmt: skip
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """``python -m perfkit regressions [--repo PATH]``: exit status 0, or 4 when there is no
    published site."""
    parser = Parser(description=(__doc__ or "").split("\n\n")[0])
    add_repo(parser)
    options = parser.parse_args(argv)
    try:
        root = options.repo or toplevel()
        config = load_config(root)
        count = write_regressions(config.html_dir, config.results_dir, root)
    except (ConfigurationError, subprocess.CalledProcessError) as exc:
        print(f"sitedata: {getattr(exc, 'stderr', '') or exc}", file=sys.stderr)
        return Exit.CANNOT_RUN
    print(f"{config.html_dir}/regressions.json: {count} regression(s) by the history's rule")
    return Exit.OK
