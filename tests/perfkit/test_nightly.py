"""The nightly job: its decision on fixed result files (no benchmark is run), its exit statuses,
the confirmation step, and where it finds the repository.

asv is replaced by a recorder (``Fake``) that runs nothing; the result files the job reads are
written beforehand in asv's own format, as ``asv continuous`` would have left them.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from perfkit import nightly
from perfkit.history import load_history
from tests.asvfiles import Value, spread, toy_repository, write_results
from tests.support import ROOT

PLAN, LOOPS, GET = "lifecycle.Plan.time_plan", "agents.A.track_loops_per_second", "db.Get.time_get"
PARAMS = {PLAN: [["1", "10"]]}
UNITS = {LOOPS: "loops/s"}
STEADY: dict[str, list[Value]] = {
    PLAN: [spread(1e-5), spread(2e-5)],
    LOOPS: [5000.0],
    GET: [spread(8e-6)],
}


@dataclass
class Repo:
    root: Path
    commits: list[str]

    def write(self, commit: str, values: Mapping[str, Sequence[Value]]) -> None:
        date = self.commits.index(commit) + 1
        write_results(self.root / "results", "box", commit, {**STEADY, **values},
                      date=date, params=PARAMS, units=UNITS)  # fmt: skip


@dataclass
class Fake:
    """Stands for every command the job runs; ``on_continuous`` plays what a measurement leaves
    behind, ``leakcheck`` is the leak check's exit status."""

    on_continuous: list[Callable[[], None]] = field(default_factory=list)
    leakcheck: int = 0
    commands: list[list[str]] = field(default_factory=list)

    def __call__(self, command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
        self.commands.append(list(command))
        if command[1:3] == ["-m", "leakcheck"]:
            return self.leakcheck
        if command[3:4] == ["continuous"] and self.on_continuous:
            self.on_continuous.pop(0)()
        return 0

    def asv(self, subcommand: str) -> list[list[str]]:
        return [c[4:] for c in self.commands if c[3:4] == [subcommand]]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    return Repo(root, toy_repository(root, 3))


def run(repo: Repo, fake: Fake, *extra: str) -> int:
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill"]
    return nightly.main([*args, *extra], run=fake)


def verdict(repo: Repo) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo.root / ".asv" / "nightly.json").read_text())
    return data


@pytest.mark.parametrize(
    "argv",
    [["--bogus"], ["--factor", "1"], ["--factor", "fast"], ["--rounds", "0"], ["--rounds", "2.5"]],
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
        ({PLAN: [spread(1.5e-5), spread(2e-5)]}, 1),  # slower
        ({PLAN: [spread(0.5e-5), spread(2e-5)]}, 0),  # faster
        ({LOOPS: [3000.0]}, 1),  # fewer loops per second
        ({LOOPS: [9000.0]}, 0),  # more
        ({GET: [None]}, 2),  # fails
        ({GET: [None], LOOPS: [3000.0]}, 3),
        ({GET: [math.nan]}, 0),  # skipped: nothing to compare
    ],
    ids=["same", "slower", "faster", "fewer-loops", "more-loops", "broke", "both", "skipped"],
)
def test_the_verdict_on_fixed_result_files(
    repo: Repo, target: dict[str, list[Value]], status: int
) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, target)
    fake = Fake()
    assert run(repo, fake, "--baseline", old, "--target", new, "--no-confirm") == status
    assert fake.asv("continuous") == [["--factor", "1.15", "--machine", "box", old, new]]
    report = verdict(repo)
    assert report["status"] == status and report["baseline"] == old[:8]


def test_a_regression_names_the_benchmark_its_ratio_and_direction(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {PLAN: [spread(1.5e-5), spread(2e-5)], LOOPS: [4000.0]})
    assert run(repo, Fake(), "--baseline", old, "--target", new, "--no-confirm") == 1
    regressed = {r["benchmark"]: r for r in verdict(repo)["regressed"]}
    assert sorted(regressed) == [LOOPS, f"{PLAN}(1)"]
    assert regressed[f"{PLAN}(1)"]["ratio"] == pytest.approx(1.5, rel=0.02)
    assert regressed[f"{PLAN}(1)"]["better"] == "lower"
    assert regressed[LOOPS]["ratio"] == pytest.approx(0.8)
    assert regressed[LOOPS]["better"] == "higher"


def test_a_regression_that_does_not_show_again_is_not_confirmed(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {PLAN: [spread(1.5e-5), spread(2e-5)]})
    fake = Fake(on_continuous=[lambda: None, lambda: repo.write(new, {})])
    assert run(repo, fake, "--baseline", old, "--target", new) == 0
    _, again = fake.asv("continuous")
    pattern = again[again.index("-b") + 1]
    assert re.search(pattern, f"{PLAN}(10)") and not re.search(pattern, f"{GET}")
    report = verdict(repo)
    assert report["regressed"] == []
    assert [c["benchmark"] for c in report["unconfirmed"]] == [f"{PLAN}(1)"]


def test_a_regression_that_shows_again_is_confirmed(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {PLAN: [spread(1.5e-5), spread(2e-5)]})
    fake = Fake(on_continuous=[lambda: None, lambda: repo.write(new, {PLAN: [spread(1.4e-5)] * 2})])
    assert run(repo, fake, "--baseline", old, "--target", new) == 1
    [confirmed] = verdict(repo)["regressed"]
    assert confirmed["ratio"] == pytest.approx(1.4, rel=0.02)  # as measured the second time


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
    fake = Fake()
    assert run(repo, fake, "--target", last) == 0
    assert fake.asv("continuous")[0][-2:] == [first, last]


def test_the_repository_is_found_from_the_working_directory(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    (repo.root / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(repo.root / "deep" / "er")
    args = ["--machine", "box", "--no-publish", "--baseline", old, "--target", new]
    assert nightly.main(args, run=Fake()) == 0
    assert verdict(repo)["target"] == new[:8]
    elsewhere = tmp_path / "not-a-repository"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert nightly.main(args, run=Fake()) == nightly.CANNOT_RUN


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


def test_the_report_reads_the_nights_results_as_a_history_not_as_a_pair(repo: Repo) -> None:
    """The nightly job judges its two commits; the report looks for a change of level over the
    history, which two commits of timings cannot show yet."""
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {PLAN: [spread(1.5e-5), spread(3e-5)], LOOPS: [4000.0], GET: [spread(9e-6)]})
    run(repo, Fake(), "--baseline", old, "--target", new, "--no-confirm")
    assert len(verdict(repo)["regressed"]) == 3
    history = load_history(repo.root / "results")
    assert history is not None and len(history.commits) == 2
    assert history.changes() == [] and history.regressions() == []
