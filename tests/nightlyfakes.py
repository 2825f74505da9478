"""A toy repository for the nightly job: result files in asv's own format written as ``asv run``
would have left them, a recorder (``Fake``) standing for every command the job runs, and fixed
process values for the timing trials (``Trials``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfkit.jobs import nightly
from perfkit.timing.trials import Benchmark, Trial
from perfkit.verdict.regression import weigh
from tests.asvfiles import Value, toy_repository, write_results

SIZE, LOOPS, GET = "memory.M.track_bytes", "agents.A.track_loops_per_second", "db.Get.track_get"
COUNT = "instructions.I.track_instructions"
UNITS = {SIZE: "bytes", LOOPS: "loops/s", GET: "bytes", COUNT: "instructions"}
CLAIM, PLAN = "lifecycle.Claim.time_claim", "lifecycle.Plan.time_plan(1)"
OURS_GET, RAW_GET = "database.Get.time_get(1000)", "raw.RawGet.time_raw_get(1000)"
# The timings as asv saves them: by name, one value a parameter set.
TIMINGS = {CLAIM: "", PLAN: "1", OURS_GET: "1000", RAW_GET: "1000"}
PARAMS = {n.split("(")[0]: [[p]] for n, p in TIMINGS.items() if p}
STEADY: dict[str, list[Value]] = {
    SIZE: [1000.0], LOOPS: [5000.0], GET: [200.0], COUNT: [100_000.0],
    **{n.split("(")[0]: [[1e-5, 1.01e-5]] for n in TIMINGS},
}  # fmt: skip
NOISE = (1.00, 1.02, 0.99, 1.01, 0.98, 1.03, 1.00, 0.97, 1.01, 0.99, 1.02, 1.00)


@dataclass
class Repo:
    root: Path
    commits: list[str]

    def write(self, commit: str, values: Mapping[str, Sequence[Value]]) -> None:
        date = self.commits.index(commit) + 1
        write_results(self.root / "results", "box", commit, {**STEADY, **values},
                      date=date, units=UNITS, params=PARAMS)  # fmt: skip


@dataclass
class Fake:
    """Stands for every command the job runs; ``leakcheck`` is the leak check's exit status."""

    leakcheck: int = 0
    commands: list[list[str]] = field(default_factory=list)

    def __call__(self, command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
        self.commands.append(list(command))
        if command[1:3] == ["-m", "leakcheck"]:
            out = Path(command[command.index("--json") + 1])
            out.parent.mkdir(parents=True, exist_ok=True)
            leaked = {"leaked": self.leakcheck == 1, "bytes_per_iteration": 0.0}
            out.write_text(json.dumps({"format": 1, "workloads": {"plan": leaked}}))
            return self.leakcheck
        return 0

    def asv(self, subcommand: str) -> list[list[str]]:
        return [c[4:] for c in self.commands if c[3:4] == [subcommand]]


@dataclass
class Trials:
    """Fixed process values: each benchmark's time at a commit is ``NOISE`` times its scale
    there (``slow`` maps a benchmark to {commit: scale}, 1 elsewhere)."""

    benchmarks: Sequence[str] = (CLAIM, PLAN)
    slow: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    asked: list[tuple[str, str, tuple[str, ...] | None]] = field(default_factory=list)

    def __call__(self, baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
        self.asked.append((baseline, target, None if names is None else tuple(names)))
        out = []
        for name in self.benchmarks:
            if names is not None and name not in names:
                continue
            scale = self.slow.get(name, {})
            before = tuple(1e-5 * v * scale.get(baseline, 1.0) for v in NOISE[:8])
            after = tuple(1e-5 * v * scale.get(target, 1.0) for v in NOISE[4:])
            out.append(Trial(Benchmark(name, name, "seconds"), before, after,
                             weigh(before, after)))  # fmt: skip
        return out


def make_repo(tmp_path: Path, commits: int = 3) -> Repo:
    root = tmp_path / "repo"
    return Repo(root, toy_repository(root, commits))


def run(repo: Repo, fake: Fake, *extra: str, trials: Trials | None = None) -> int:
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill"]
    return nightly.main([*args, *extra], run=fake, weigher=trials or Trials())


def verdict(repo: Repo) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo.root / ".asv" / "nightly.json").read_text())
    return data


def family(repo: Repo, name: str) -> dict[str, Any]:
    """The account of one family in the last report."""
    [found] = [t for t in verdict(repo)["account"] if t["family"] == name]
    return dict(found)
