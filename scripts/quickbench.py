#!/usr/bin/env python3
"""A quick one-run measurement of the core operations against the raw sqlite3 reference.

Each pair (ours, raw) is measured in the same process, interleaved in rounds, so that the ratio is
meaningful on a noisy machine; medians per call are printed. The asv suite is the real record; this
is the check an engine change gets before it is committed::

    python scripts/quickbench.py            # about a minute
    python scripts/quickbench.py --rounds 3 # quicker, noisier
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from taskorch.perf.workloads import WORKLOADS

# (label, workload, params, calls per sample, raw reference workload, its params)
PAIRS = [
    ("plan 1 subtask", "plan", {"n": 1}, 200, "raw_insert", {"n": 1}),
    ("plan 1000 subtasks", "plan", {"n": 1000}, 3, "raw_insert", {"n": 1000}),
    ("get by id (100k)", "get", {"n": 100_000}, 2000, "raw_get", {"n": 100_000}),
    ("claim + complete", "claim_complete", {}, 300, None, {}),
    ("context (cached)", "context", {"cached": True}, 2000, None, {}),
    ("context (uncached)", "context", {"cached": False}, 500, None, {}),
    ("status (100k)", "status", {"n": 100_000}, 20, None, {}),
    ("encode 2 KB context", "encode_context", {}, 2000, None, {}),
]


def sample(step: object, calls: int) -> float:
    fn = step  # type: ignore[assignment]
    start = time.perf_counter()
    for _ in range(calls):
        fn()  # type: ignore[operator]
    return (time.perf_counter() - start) / calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved samples per operation")
    parser.add_argument("--only", help="run only operations whose label contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'operation':<22} {'ours':>10} {'raw':>10} {'ratio':>7}")
        for label, name, params, calls, raw_name, raw_params in PAIRS:
            if args.only and args.only not in label:
                continue
            ours_dir = Path(tmp, name)
            raw_dir = Path(tmp, f"raw-{name}")
            ours_dir.mkdir(exist_ok=True)
            raw_dir.mkdir(exist_ok=True)
            with WORKLOADS[name].session(ours_dir, **params) as step:
                if raw_name is None:
                    ours = [sample(step, calls) for _ in range(args.rounds)]
                    raw: list[float] = []
                else:
                    with WORKLOADS[raw_name].session(raw_dir, **raw_params) as raw_step:
                        ours, raw = [], []
                        for _ in range(args.rounds):
                            ours.append(sample(step, calls))
                            raw.append(sample(raw_step, calls))
            o = statistics.median(ours) * 1e6
            if raw:
                r = statistics.median(raw) * 1e6
                print(f"{label:<22} {o:>8.1f}µs {r:>8.1f}µs {o / r:>7.2f}")
            else:
                print(f"{label:<22} {o:>8.1f}µs {'':>10} {'':>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
