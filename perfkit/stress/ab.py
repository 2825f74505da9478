"""Before/after of one change: the same fleet workload against two git revisions, in one run.

    python scripts/stress/ab.py BEFORE AFTER [--agents 1000] [--tasks 20000] [--rounds 5]

Each revision's ``taskorch/`` is exported to a temporary folder; every round runs both, in
alternating order, each in a fresh subprocess on a fresh database. Reports the medians and the
median of the per-round ratios AFTER/BEFORE. Invariants are checked after every run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from statistics import median
from typing import Any

from ..harness.environment import environment
from ..harness.store import scratch_url, temporary_directory
from ..kit.exits import Exit
from ..kit.options import Parser, integer, output_file
from ..workloads.demo import drain_demo
from .common import StressFailure, emit


def export(rev: str, into: Path) -> Path:
    """Write ``rev``'s taskorch package into ``into`` (no checkout, no worktree)."""
    into.mkdir()
    archive = subprocess.run(
        ["git", "archive", rev, "taskorch"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def one_run(src: Path, agents: int, tasks: int, options: str) -> dict[str, Any]:
    path = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)  # the child imports that revision's taskorch
    cmd = [sys.executable, "-m", __name__, "--child", str(agents), str(tasks), options]
    # In the revision's folder, so that the working tree's own taskorch cannot come first.
    out = subprocess.run(cmd, env=env, cwd=src, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out)
    return result


def child(agents: int, tasks: int, options: str) -> None:
    with scratch_url("stress", prefix="taskorch-stress-") as url:
        report, check = drain_demo(url, tasks=tasks, agents=agents, **json.loads(options))
    if not check.ok:
        raise StressFailure(f"invariants broken: {check}")
    d = report.as_dict()
    print(
        json.dumps(
            {
                "loops_per_s": d["loops_per_s"],
                "claim_p50_ms": d["claim_latency_ms"]["p50"],
                "lag_p99_ms": d["loop_lag_ms"]["p99"],
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--child"]:
        child(int(args_in[1]), int(args_in[2]), args_in[3])
        return Exit.OK
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--agents", type=integer(1), default=1000)
    parser.add_argument("--tasks", type=integer(1), default=20_000)
    parser.add_argument("--rounds", type=integer(1), default=5)
    parser.add_argument("--options", default="{}", help="Fleet options as JSON, for both")
    parser.add_argument("--json", type=output_file, help="also write the result to this file")
    args = parser.parse_args(args_in)
    args.revs = [args.before, args.after]
    try:
        options = json.loads(args.options)
    except ValueError as exc:
        parser.error(f"--options: not JSON ({exc})")
    if not isinstance(options, dict):
        parser.error(f"--options: a JSON object of Fleet options, got {args.options}")
    for name, rev in (("before", args.before), ("after", args.after)):
        found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                               capture_output=True, text=True)  # fmt: skip
        if found.returncode != 0:
            parser.error(f"{name}: {rev!r} is no commit of the repository here")
    with temporary_directory("taskorch-ab-") as tmp:
        srcs = {rev: export(rev, tmp / f"rev{i}") for i, rev in enumerate(args.revs)}
        runs: dict[str, list[dict[str, Any]]] = {rev: [] for rev in args.revs}
        try:
            for r in range(args.rounds):
                for rev in args.revs if r % 2 == 0 else args.revs[::-1]:
                    runs[rev].append(one_run(srcs[rev], args.agents, args.tasks, args.options))
                    print(f"round {r + 1} {rev}: {runs[rev][-1]}", file=sys.stderr)
        except subprocess.CalledProcessError as exc:
            tail = (exc.stderr or "").strip()[-2000:]
            print(f"ab: a fleet on {rev} failed (exit status {exc.returncode}):\n{tail}",
                  file=sys.stderr)  # fmt: skip
            return Exit.BROKE
    before, after = runs[args.before], runs[args.after]
    ratios = [a["loops_per_s"] / b["loops_per_s"] for a, b in zip(after, before, strict=True)]
    emit(
        {
            "before": args.before,
            "after": args.after,
            "agents": args.agents,
            "tasks": args.tasks,
            "rounds": args.rounds,
            "machine": environment(),
            "medians": {
                rev: {k: round(median([run[k] for run in runs[rev]]), 2) for k in runs[rev][0]}
                for rev in args.revs
            },
            "throughput_after_over_before": round(median(ratios), 3),
        },
        args.json,
    )
    return Exit.OK


if __name__ == "__main__":  # the measured child: python -m perfkit.stress.ab --child ...
    sys.exit(main())
