"""The nightly job's steps after the judging: the leak check and the site, each given the
repository and the way the job runs commands."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..reports import site
from ..verdict.account import Tally

# Runs a command in a folder, its output going to ours, and returns its exit status.
CommandRunner = Callable[[Sequence[str], Path, Mapping[str, str] | None], int]

__all__ = ["CommandRunner", "JobError", "leakcheck_json", "publish", "run_leakcheck"]


class JobError(Exception):
    """The job itself cannot go on (exit status 4)."""


def leakcheck_json(root: Path) -> Path:
    return root / ".asv" / "leakcheck" / "leakcheck.json"


def run_leakcheck(root: Path, run: CommandRunner, tally: Tally) -> tuple[str, bool]:
    """``python -m leakcheck suite`` against the working tree, when the package exists; returns
    what happened and whether it counts as a leak, each workload's verdict counted in
    ``tally``."""
    if importlib.util.find_spec("leakcheck") is None and not (root / "leakcheck").is_dir():
        tally.problem = "no leakcheck package"
        return "skipped: no leakcheck package", False
    out = leakcheck_json(root)
    out.unlink(missing_ok=True)  # a verdict is read only from this run
    # The suite's own budget (180 s a workload): its slowest workloads are sized to fit it.
    args = ["suite", "--json", str(out), "--flamegraph-dir", str(out.parent / "flamegraphs")]
    env = {**os.environ, "PYTHONPATH": str(root)}
    status = run([sys.executable, "-m", "leakcheck", *args], root, env)
    if status not in (0, 1):  # leakcheck's 2: the run failed, neither a leak nor a verdict
        raise JobError(f"python -m leakcheck suite failed (exit status {status}); see its"
                       " output above")  # fmt: skip
    try:
        workloads = json.loads(out.read_text(encoding="utf-8"))["workloads"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        tally.problem = f"the leak check wrote no readable verdicts ({out}: {exc})"
        return "no verdicts", False
    for name, verdict in sorted(dict(workloads).items()):
        if isinstance(verdict, dict) and verdict.get("error"):
            tally.skip(f"failed: {verdict['error']}", name)
        else:
            tally.compared += 1
    return ("leak found", True) if status == 1 else ("clean", False)


def publish(root: Path, asv: Callable[..., int]) -> bool:
    """The site, as ``scripts/publish.py`` makes it, with asv run through the job; what went
    wrong is printed, and the night goes on."""
    problems = site.publish(root, run_asv=lambda args: asv(*args))
    for line in problems:
        print(line, file=sys.stderr)
    return not problems
