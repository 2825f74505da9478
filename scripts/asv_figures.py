#!/usr/bin/env python3
"""Print the figures of one commit's asv results: median, repeat-to-repeat spread, and the ratio
of each taskorch operation to its raw sqlite3 reference measured in the same run.

Usage: scripts/asv_figures.py [COMMIT] [--machine NAME]   (defaults: main, ref-2core)

The spread is the interquartile range of the samples over their median (asv's q_25/q_75), in
percent: how much one sample differs from the next inside a run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# taskorch benchmark (name, params) -> the raw sqlite3 benchmark measuring its physical limit
REFERENCES = {
    ("lifecycle.Plan.time_plan", "1"): ("raw.RawInsert.time_raw_insert", "1"),
    ("lifecycle.Plan.time_plan", "10"): ("raw.RawInsert.time_raw_insert", "10"),
    ("lifecycle.Plan.time_plan", "1000"): ("raw.RawInsert.time_raw_insert", "1000"),
    ("database.Get.time_get", "1000"): ("raw.RawGet.time_raw_get", "1000"),
    ("database.Get.time_get", "100000"): ("raw.RawGet.time_raw_get", "100000"),
}
UNITS = {"seconds": [(1e-6, "ns", 1e9), (1e-3, "µs", 1e6), (1.0, "ms", 1e3), (1e9, "s", 1.0)]}


def rows(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(benchmark, params) -> {value, q_25, q_75, ...} from one asv result file."""
    data = json.loads(path.read_text())
    columns = data["result_columns"]
    out = {}
    for name, values in data["results"].items():
        entry = dict(zip(columns, values, strict=False))
        params = entry.get("params") or []
        combos = list(itertools.product(*params)) if params else [()]
        for i, combo in enumerate(combos):
            key = (name, ", ".join(str(p).strip("'") for p in combo))
            out[key] = {c: (entry[c][i] if isinstance(entry.get(c), list) else None)
                        for c in ("result", "stats_q_25", "stats_q_75")}  # fmt: skip
    return out


def human(value: float | None, unit: str) -> str:
    if value is None or value != value:
        return "skipped" if value != value else "failed"
    for limit, suffix, scale in UNITS.get(unit, []):
        if value < limit:
            return f"{value * scale:.3g} {suffix}"
    return f"{value:.4g} {unit}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commit", nargs="?", default="main")
    parser.add_argument("--machine", default="ref-2core")
    options = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", options.commit], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    files = sorted((ROOT / "results" / options.machine).glob(f"{commit[:8]}-*.json"))
    if not files:
        print(f"no results for {commit[:8]} on {options.machine}", file=sys.stderr)
        return 1
    described = json.loads((ROOT / "results" / "benchmarks.json").read_text())
    units = {n: b.get("unit", "") for n, b in described.items() if isinstance(b, dict)}
    table = rows(files[0])
    print("| benchmark | params | median | spread (IQR/median) | ours/raw |")
    print("|---|---|---|---|---|")
    for (name, params), r in sorted(table.items()):
        value, q25, q75 = r["result"], r["stats_q_25"], r["stats_q_75"]
        spread = f"{(q75 - q25) / value * 100:.1f} %" if value and q25 is not None else "—"
        ref = REFERENCES.get((name, params))
        ratio = "—"
        if ref and ref in table and value and table[ref]["result"]:
            ratio = f"{value / table[ref]['result']:.1f}x"
        unit = units.get(name, "")
        print(f"| `{name}` | {params or '—'} | {human(value, unit)} | {spread} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
