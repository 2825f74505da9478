#!/usr/bin/env python3
"""Instructions per operation of a shared workload, counted by valgrind's callgrind.

Instruction counts do not depend on what else the machine is doing, so an engine change can be
compared with the commit before it exactly, even on a busy 2-core machine. The count comes from two
runs of N1 and N2 steps (same setup), divided by N2 - N1, so set-up and interpreter start cancel::

    python scripts/count_instructions.py plan -p n=1000
    python scripts/count_instructions.py claim_complete get:n=1000 raw_get:n=1000
    git worktree add /tmp/old HEAD~3 && python scripts/count_instructions.py --engine /tmp/old plan

It measures CPU work only: time spent waiting for the disk (fsync) is not counted.
Needs ``valgrind`` (Debian: apt-get install valgrind).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNNER = """
import sys, tempfile
from pathlib import Path
# taskorch comes from --engine (default: this checkout), the workloads from this checkout.
sys.path.insert(0, {engine!r})
import taskorch
sys.path.insert(0, {root!r})
from perfkit.workloads import WORKLOADS
name, steps = sys.argv[1], int(sys.argv[2])
params = {{k: int(v) if v.isdigit() else v for k, v in (a.split("=", 1) for a in sys.argv[3:])}}
with WORKLOADS[name].session(Path(tempfile.mkdtemp()), **params) as step:
    step()
    for _ in range(steps):
        step()
"""


def count(name: str, steps: int, params: list[str], engine: Path) -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(RUNNER.format(engine=str(engine), root=str(ROOT)))
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, f.name, name, str(steps), *params],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    Path(f.name).unlink()
    match = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or not match:
        raise SystemExit(f"callgrind failed for {name}: {out.stderr[-2000:]}")
    return int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="+", help="NAME or NAME:param=value,param=value")
    parser.add_argument("-p", "--param", action="append", default=[], help="k=v for every workload")
    parser.add_argument("--steps", type=int, nargs=2, default=(100, 600), metavar=("N1", "N2"))
    parser.add_argument(
        "--engine", type=Path, default=ROOT,
        help="a checkout whose taskorch to measure (e.g. a git worktree of an older commit)",
    )  # fmt: skip
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    n1, n2 = args.steps
    for spec in args.workloads:
        name, _, extra = spec.partition(":")
        params = [*args.param, *(p for p in extra.split(",") if p)]
        runs = [count(name, n, params, args.engine) for n in (n1, n2)]
        per_op = (runs[1] - runs[0]) / (n2 - n1)
        print(f"{spec:<32} {per_op:>14,.0f} instructions/op", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
