"""The nightly job: its decision on fixed result files and fixed process values (no benchmark is
run), its exit statuses, the raw references as controls, the culprit of a timing, and where it
finds the repository.

asv is replaced by a recorder (``Fake``) that runs nothing; the result files the job reads are
written beforehand in asv's own format, as ``asv run`` would have left them; the timing trials
are replaced by ``Trials``, which hands out fixed process values per commit.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from perfkit import nightly
from perfkit.regression import weigh
from perfkit.trials import Benchmark, Trial
from tests.asvfiles import Value, toy_repository, write_results
from tests.support import ROOT

SIZE, LOOPS, GET = "memory.M.track_bytes", "agents.A.track_loops_per_second", "db.Get.track_get"
UNITS = {SIZE: "bytes", LOOPS: "loops/s", GET: "bytes"}
STEADY: dict[str, list[Value]] = {SIZE: [1000.0], LOOPS: [5000.0], GET: [200.0]}
CLAIM, PLAN = "lifecycle.Claim.time_claim", "lifecycle.Plan.time_plan(1)"
OURS_GET, RAW_GET = "database.Get.time_get(1000)", "raw.RawGet.time_raw_get(1000)"
NOISE = (1.00, 1.02, 0.99, 1.01, 0.98, 1.03, 1.00, 0.97, 1.01, 0.99, 1.02, 1.00)


@dataclass
class Repo:
    root: Path
    commits: list[str]

    def write(self, commit: str, values: Mapping[str, Sequence[Value]]) -> None:
        date = self.commits.index(commit) + 1
        write_results(self.root / "results", "box", commit, {**STEADY, **values},
                      date=date, units=UNITS)  # fmt: skip


@dataclass
class Fake:
    """Stands for every command the job runs; ``leakcheck`` is the leak check's exit status."""

    leakcheck: int = 0
    commands: list[list[str]] = field(default_factory=list)

    def __call__(self, command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
        self.commands.append(list(command))
        if command[1:3] == ["-m", "leakcheck"]:
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


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    return Repo(root, toy_repository(root, 3))


def run(repo: Repo, fake: Fake, *extra: str, trials: Trials | None = None) -> int:
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill"]
    return nightly.main([*args, *extra], run=fake, weigher=trials or Trials())


def verdict(repo: Repo) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo.root / ".asv" / "nightly.json").read_text())
    return data


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["--factor", "1"],
        ["--factor", "fast"],
        ["--rounds", "0"],
        ["--rounds", "2.5"],
        ["--processes", "0"],
        ["--processes", "1"],
    ],
)
def test_bad_arguments_exit_4(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        nightly.main(argv, run=Fake())
    assert exited.value.code == nightly.CANNOT_RUN
    assert "error:" in capsys.readouterr().err


def test_the_entry_point_exits_4_on_bad_arguments() -> None:
    script = ROOT / "scripts" / "nightly.py"
    done = subprocess.run([sys.executable, str(script), "--no-such-option"], capture_output=True)
    assert done.returncode == 4


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ({}, 0),
        ({SIZE: [1500.0]}, 1),  # larger
        ({SIZE: [500.0]}, 0),  # smaller
        ({LOOPS: [3000.0]}, 0),  # a rate: watched in the history, never one value a side
        ({GET: [None]}, 2),  # fails
        ({GET: [None], SIZE: [1500.0]}, 3),
        ({GET: [math.nan]}, 0),  # skipped: nothing to compare
    ],
    ids=["same", "larger", "smaller", "fewer-loops", "broke", "both", "skipped"],
)
def test_the_verdict_on_fixed_result_files(
    repo: Repo, target: dict[str, list[Value]], status: int
) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, target)
    fake = Fake()
    assert run(repo, fake, "--baseline", old, "--target", new) == status
    # The baseline has results already: only the target is recorded.
    assert fake.asv("run") == [["--machine", "box", f"{new}^!"]]
    report = verdict(repo)
    assert report["status"] == status and report["baseline"] == old[:8]


def test_a_baseline_without_results_is_recorded_first(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(new, {})
    fake = Fake()

    def record(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
        if command[3:4] == ["run"] and command[-1] == f"{old}^!":
            repo.write(old, {})
        return fake(command, cwd, env)

    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill"]
    assert nightly.main([*args, "--baseline", old, "--target", new], run=record,
                        weigher=Trials()) == 0  # fmt: skip
    assert [c[-1] for c in fake.asv("run")] == [f"{old}^!", f"{new}^!"]


def test_a_slower_timing_is_a_regression_with_its_evidence(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    trials = Trials(slow={CLAIM: {new: 1.2}})
    assert run(repo, Fake(), "--baseline", old, "--target", new, trials=trials) == 1
    [regressed] = verdict(repo)["regressed"]
    assert regressed["benchmark"] == CLAIM and regressed["ratio"] == pytest.approx(1.2, rel=0.03)
    assert "processes" in regressed["reason"] and "p " in regressed["reason"]
    assert [f["culprit"] for f in verdict(repo)["findings"]] == [new]  # one commit: itself
    text = (repo.root / ".asv" / "nightly.md").read_text()
    assert f"`{CLAIM}`" in text and "8+8 processes" in text
    assert [t["benchmark"] for t in verdict(repo)["trials"]] == [CLAIM, PLAN]


def test_a_faster_timing_is_an_improvement(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    assert run(repo, Fake(), "--baseline", old, "--target", new,
               trials=Trials(slow={PLAN: {new: 0.8}})) == 0  # fmt: skip
    assert [c["benchmark"] for c in verdict(repo)["improved"]] == [PLAN]


def test_a_timing_that_moved_with_its_raw_reference_is_the_machine(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    slow = {OURS_GET: {new: 1.2}, RAW_GET: {new: 1.25}}
    trials = Trials(benchmarks=(OURS_GET, RAW_GET), slow=slow)
    assert run(repo, Fake(), "--baseline", old, "--target", new, trials=trials) == 0
    report = verdict(repo)
    assert report["regressed"] == []
    machine = {c["benchmark"]: c["reason"] for c in report["machine"]}
    assert sorted(machine) == [OURS_GET, RAW_GET]
    assert "moved with its raw reference" in machine[OURS_GET]


def test_a_timing_that_moved_alone_is_the_code(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    trials = Trials(benchmarks=(OURS_GET, RAW_GET), slow={OURS_GET: {new: 1.2}})
    assert run(repo, Fake(), "--baseline", old, "--target", new, trials=trials) == 1
    assert [c["benchmark"] for c in verdict(repo)["regressed"]] == [OURS_GET]


def test_the_culprit_of_a_timing_is_found_by_bisection(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    commits = toy_repository(root, 6)
    repo = Repo(root, commits)
    base, new = commits[0], commits[-1]
    repo.write(base, {})
    repo.write(new, {})
    slow = {CLAIM: {c: 1.2 for c in commits[3:]}}  # the third of the five new commits
    trials = Trials(slow=slow)
    assert run(repo, Fake(), "--baseline", base, "--target", new, trials=trials) == 1
    [finding] = verdict(repo)["findings"]
    assert finding["culprit"] == commits[3]
    # Bisection asks about log2(5) commits, one benchmark each.
    asked = [a for a in trials.asked if a[2] is not None]
    assert 1 <= len(asked) <= 3 and all(a == (base, a[1], (CLAIM,)) for a in asked)


def test_an_unknown_timing_is_inconclusive_not_red(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    wide = tuple(1e-5 * v for v in (1.0, 1.3, 0.8, 1.2, 0.9, 1.4, 0.7, 1.1))

    def trials(baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
        after = tuple(v * 1.08 for v in wide[::-1])
        return [Trial(Benchmark(CLAIM, CLAIM, "seconds"), wide, after, weigh(wide, after))]

    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill"]
    assert nightly.main([*args, "--baseline", old, "--target", new], run=Fake(),
                        weigher=trials) == 0  # fmt: skip
    [unknown] = verdict(repo)["inconclusive"]
    assert unknown["benchmark"] == CLAIM and unknown["reason"].startswith("unknown")


def test_no_results_for_the_target_means_the_job_could_not_run(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    assert run(repo, Fake(), "--baseline", old, "--target", new) == nightly.CANNOT_RUN
    assert f"no results for {new[:8]}" in capsys.readouterr().err


def test_the_baseline_is_the_newest_ancestor_with_results(repo: Repo) -> None:
    first, _, last = repo.commits
    repo.write(first, {})
    repo.write(last, {})
    trials = Trials()
    assert run(repo, Fake(), "--target", last, trials=trials) == 0
    assert trials.asked == [(first, last, None)]


def test_the_repository_is_found_from_the_working_directory(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    (repo.root / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(repo.root / "deep" / "er")
    args = ["--machine", "box", "--no-publish", "--baseline", old, "--target", new]
    assert nightly.main(args, run=Fake(), weigher=Trials()) == 0
    assert verdict(repo)["target"] == new[:8]
    elsewhere = tmp_path / "not-a-repository"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert nightly.main(args, run=Fake(), weigher=Trials()) == nightly.CANNOT_RUN


def test_a_leak_counts_as_a_regression(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {GET: [None]})
    assert run(repo, Fake(leakcheck=1), "--baseline", old, "--target", new) == 3
    assert verdict(repo)["leaked"] is True


def test_a_leak_check_that_fails_to_run_is_not_a_leak(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    assert run(repo, Fake(leakcheck=2), "--baseline", old, "--target", new) == nightly.CANNOT_RUN


def test_the_summary_says_when_the_count_gate_judged_nothing(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    assert run(repo, Fake(), "--baseline", old, "--target", new) == 0
    assert verdict(repo)["counts_judged"] is False
