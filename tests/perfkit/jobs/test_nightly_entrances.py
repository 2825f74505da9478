"""The nightly job from the entrances a user takes: a ``-b`` that matches nothing, a baseline
with partial results, valgrind missing or broken, a timing that fails or hangs on the target, a
target that does not install, a bad calibration file. Each gives its documented status and says
why; none is green."""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from perfkit.counts.instructions import INSTALL_HINT, valgrind_problem
from perfkit.jobs import nightly
from perfkit.reports import site
from perfkit.timing.trials import Benchmark, Side, Trial, TrialError, _launch, trial
from tests.nightlyfakes import (
    CLAIM,
    COUNT,
    GET,
    SIZE,
    STEADY,
    Fake,
    Repo,
    Trials,
    family,
    make_repo,
)
from tests.nightlyfakes import verdict as report_of

BASE = ["--machine", "box", "--no-publish", "--no-backfill", "--no-leakcheck"]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path)


def night(repo: Repo, *extra: str, run: Fake | None = None, **kwargs: object) -> int:
    old, _, new = repo.commits
    argv = ["--repo", str(repo.root), *BASE, "--baseline", old, "--target", new, *extra]
    kwargs.setdefault("weigher", Trials())
    return nightly.main(argv, run=run or Fake(), **kwargs)  # type: ignore[arg-type]


class Recorder(Fake):
    """asv that saves ``values`` for a commit when the job runs it (``{commit: values}``)."""

    def __init__(self, repo: Repo, saves: Mapping[str, Mapping[str, list[object]]]) -> None:
        super().__init__()
        self.repo, self.saves = repo, saves

    def __call__(self, command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
        status = super().__call__(command, cwd, env)
        if command[3:4] == ["run"] and command[-1].endswith("^!"):
            commit = command[-1][:-2]
            if commit in self.saves:
                self.repo.write(commit, self.saves[commit])  # type: ignore[arg-type]
        return status


# -- -b matching nothing ----------------------------------------------------------------------


def test_a_bench_that_matches_nothing_judged_nothing(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    assert night(repo, "-b", "nomatch_xyz") == nightly.NOT_JUDGED
    report = report_of(repo)
    assert report["problems"] == ["-b 'nomatch_xyz' matched no benchmark"]
    text = (repo.root / ".asv" / "nightly.md").read_text()
    assert "JUDGED NOTHING" in text and "matched no benchmark" in text


def test_a_bench_that_matches_nothing_on_a_fresh_machine_says_so_too(repo: Repo) -> None:
    _, middle, _ = repo.commits
    repo.write(middle, {})  # only the kept benchmark list: neither commit has results
    assert night(repo, "-b", "nomatch_xyz") == nightly.NOT_JUDGED
    assert "matched no benchmark" in report_of(repo)["problems"][0]


# -- a baseline with partial results -----------------------------------------------------------


def test_a_partial_baseline_gets_what_it_lacks_measured(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(new, {})
    # As an earlier `asv run -b lifecycle` leaves it: the baseline has results, but no counts.
    repo.write(old, {})
    path = next((repo.root / "results" / "box").glob(f"{old[:8]}-*.json"))
    import json

    data = json.loads(path.read_text())
    for name in (COUNT, SIZE, GET):
        del data["results"][name]
    path.write_text(json.dumps(data))
    asv = Recorder(repo, {old: {}})
    assert night(repo, "-b", "instructions|track", run=asv) == 0
    measured = [c for c in asv.asv("run") if c[-1] == f"{old}^!"]
    assert measured and "instructions" in measured[0][measured[0].index("-b") + 1]
    assert family(repo, "instruction counts")["compared"] == 1


def test_a_baseline_still_lacking_counts_is_not_a_pass(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(new, {})
    repo.write(old, {COUNT: [math.nan]})  # skipped there (valgrind was missing that night)
    assert night(repo, "-b", "instructions") == nightly.NOT_JUDGED
    counts = family(repo, "instruction counts")
    assert counts["skipped"] == {"the baseline's saved results lack it": [COUNT]}
    assert counts["judged_nothing"] and "lack it" in counts["reason"]
    assert not family(repo, "timings")["asked"]  # -b chose the counts alone, and it says so
    assert "matched none" in family(repo, "timings")["not_asked"]


# -- valgrind missing, broken, real ------------------------------------------------------------


def only_git_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding git alone (no valgrind), returned so that more can be put there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git = shutil.which("git")
    assert git is not None
    (bin_dir / "git").symlink_to(git)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_counts_without_valgrind_say_it_is_missing(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _, new = repo.commits
    repo.write(old, {COUNT: [math.nan]})
    repo.write(new, {COUNT: [math.nan]})  # the count benchmarks skip without valgrind
    only_git_on_path(tmp_path, monkeypatch)
    assert night(repo) == nightly.NOT_JUDGED
    assert family(repo, "instruction counts")["reason"] == INSTALL_HINT


def test_a_broken_valgrind_is_not_a_broken_benchmark(
    repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, _, new = repo.commits
    repo.write(old, {COUNT: [None]})
    repo.write(new, {COUNT: [None]})  # every count fails: valgrind fails on every call
    bin_dir = only_git_on_path(tmp_path, monkeypatch)
    broken = bin_dir / "valgrind"
    broken.write_text("#!/bin/sh\necho 'valgrind: the tool cannot start' >&2\nexit 1\n")
    broken.chmod(0o755)
    assert night(repo) == nightly.NOT_JUDGED  # not 2: the code did not break
    counts = family(repo, "instruction counts")
    assert counts["broke"] == 0 and report_of(repo)["broke"] == []
    assert counts["reason"] == "valgrind failed (exit status 1): valgrind: the tool cannot start"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_a_working_valgrind_is_told_apart_from_skipped_counts(repo: Repo) -> None:
    assert valgrind_problem() is None
    old, _, new = repo.commits
    repo.write(old, {COUNT: [math.nan]})
    repo.write(new, {COUNT: [math.nan]})
    assert night(repo) == nightly.NOT_JUDGED
    assert family(repo, "instruction counts")["reason"] == "skipped (1)"


# -- a timing that fails or hangs on the target ------------------------------------------------


def test_a_timing_that_fails_on_the_target_in_asv_is_broken(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {CLAIM: [None]})
    assert night(repo, weigher=Trials(benchmarks=())) & nightly.BROKE
    assert [c["benchmark"] for c in report_of(repo)["broke"]] == [CLAIM]
    assert family(repo, "timings")["broke"] == 1


def test_a_timing_whose_trial_fails_on_the_target_is_broken(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})

    def weigher(baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
        bench = Benchmark(CLAIM, CLAIM, "seconds")
        said = "failed after: lifecycle.Claim.time_claim ran past its timeout of 120 s"
        steady = Trials(benchmarks=(GET,))(baseline, target, names)
        return [Trial(bench, (1e-5,), (), None, said, "after"), *steady]

    assert night(repo, weigher=weigher) == nightly.BROKE
    [broke] = report_of(repo)["broke"]
    assert broke["benchmark"] == CLAIM and "timeout" in broke["reason"]
    assert family(repo, "timings")["broke"] == 1


class FailingRunner:
    """Stands for the benchmark processes: those at a commit of ``failing`` raise."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing

    def once(self, side: Side, benchmark: Benchmark) -> float:
        if side.commit in self.failing:
            raise TrialError(f"{benchmark.id} failed (exit status 1):\nRuntimeError: boom")
        return 1e-5


@pytest.mark.parametrize(
    ("failing", "which"), [({"b"}, "after"), ({"a"}, "before"), ({"a", "b"}, "both")]
)
def test_a_trial_says_which_side_failed(failing: set[str], which: str, tmp_path: Path) -> None:
    sides = [Side(c, tmp_path, tmp_path) for c in ("a", "b")]
    bench = Benchmark(CLAIM, CLAIM, "seconds")
    found = trial(FailingRunner(failing), bench, *sides, {})  # type: ignore[arg-type]
    assert found.weighing is None and found.failed == which
    assert found.skipped.startswith("failed") and "boom" not in found.skipped.splitlines()[0][:6]


def test_a_process_that_hangs_past_its_timeout_fails() -> None:
    argv = [sys.executable, "-c", "import time; time.sleep(30)", "run", "lifecycle.Hang"]
    with pytest.raises(TrialError, match=r"lifecycle\.Hang ran past its timeout of 0\.5 s"):
        _launch(argv, Path.cwd(), dict(os.environ), 0.5)


# -- a target that does not install, a bad calibration file ------------------------------------


def test_a_target_that_does_not_install_could_not_run(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    md = repo.root / ".asv" / "nightly.md"
    md.parent.mkdir()
    md.write_text("## Nightly benchmarks: ✅ OK\n")
    # What asv saves when the install fails: every benchmark failed, none run.
    nulls = {name: [None] * len(values) for name, values in STEADY.items()}
    assert night(repo, run=Recorder(repo, {new: nulls}), weigher=Trials()) == nightly.CANNOT_RUN
    assert "could not be installed" in report_of(repo)["could_not_run"]
    assert "COULD NOT RUN" in md.read_text()


@pytest.mark.parametrize("content", ['{"thresholds": {"t": NaN}}', "{trunc", "[]"])
def test_a_bad_calibration_file_could_not_run_naming_it(repo: Repo, content: str) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    calibration = repo.root / "calibration" / "box.json"
    calibration.parent.mkdir()
    calibration.write_text(content)
    assert night(repo, weigher=None) == nightly.CANNOT_RUN
    assert str(calibration) in report_of(repo)["could_not_run"]


# -- families turned off on purpose ------------------------------------------------------------


def test_a_family_turned_off_is_said_to_be_off_and_not_judged(repo: Repo) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    trials = Trials()
    assert night(repo, "--no-timings", "--no-counts", weigher=trials) == 0
    assert trials.asked == []
    assert family(repo, "timings")["not_asked"] == "turned off (--no-timings)"
    assert family(repo, "instruction counts")["not_asked"] == "turned off (--no-counts)"
    assert family(repo, "leak check")["not_asked"] == "turned off (--no-leakcheck)"


# -- one night at a time, leftovers, hostile output ----------------------------------------------


def test_a_second_night_at_once_is_refused_and_leaves_the_report_alone(repo: Repo) -> None:
    import fcntl

    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    assert night(repo) == 0
    before = (repo.root / ".asv" / "nightly.json").read_text()
    with open(repo.root / ".asv" / "nightly.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert night(repo) == nightly.CANNOT_RUN
    assert (repo.root / ".asv" / "nightly.json").read_text() == before


def a_dead_pid() -> int:
    import subprocess

    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def test_what_a_killed_night_left_is_removed_and_said(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    from perfkit.data.gitrepo import git

    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    dead = a_dead_pid()
    left = tmp_path / f"taskorch-engine-{dead}-x" / "tree"
    git(repo.root, "worktree", "add", "--detach", "--quiet", str(left), old)
    scratch = Path(tempfile.gettempdir())
    trial = scratch / f"taskorch-trial-{dead}-x"
    mine = scratch / f"taskorch-trial-{os.getpid()}-x"  # a run still going: left alone
    for folder in (trial, mine):
        folder.mkdir()
    try:
        assert night(repo) == 0
        err = capsys.readouterr().err
        assert f"removed a worktree left by a run that was killed: {left}" in err
        assert f"removed a trial folder left by a run that was killed: {trial}" in err
        assert not left.exists() and not trial.exists() and mine.is_dir()
        assert str(left) not in git(repo.root, "worktree", "list")
    finally:
        shutil.rmtree(mine, ignore_errors=True)
        shutil.rmtree(trial, ignore_errors=True)


def test_what_the_process_under_test_printed_cannot_mark_up_the_summary(repo: Repo) -> None:
    from perfkit.counts.culprit import Finding
    from perfkit.reports.summary import markdown
    from perfkit.verdict.regression import Change, Status

    hostile = "<img src=x onerror=alert(1)> | [x](javascript:alert(1))\n| next | row |"
    report = nightly.Report("aaaaaaaa", "bbbbbbbb")
    report.regressed = [Change(COUNT, Status.REGRESSED, 1.02, False, 100.0, 102.0,
                               unit="instructions")]  # fmt: skip
    report.findings = [Finding(COUNT, "claim", "", 100.0, 102.0, reason=hostile)]
    text = markdown(report.as_dict())
    [row] = [line for line in text.splitlines() if line.startswith(f"| `{COUNT}`")]
    assert "<img" not in text and "&lt;img" in row
    assert row.count("|") == 8  # one row of seven cells: no pipe or newline got through
    assert "[x](" not in row  # no link


def test_a_site_that_cannot_be_completed_is_said_and_the_verdict_stands(
    repo: Repo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})

    def full_disk(*args: object) -> list[str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site, "complete_site", full_disk)
    argv = ["--repo", str(repo.root), "--machine", "box", "--no-backfill", "--no-leakcheck",
            "--baseline", old, "--target", new]  # fmt: skip
    assert nightly.main(argv, run=Fake(), weigher=Trials()) == 0
    assert report_of(repo)["published"] is False
    assert "No space left on device" in capsys.readouterr().err


def test_the_bench_pattern_is_shown_escaped_outside_a_code_span() -> None:
    from perfkit.reports.summary import markdown

    report = nightly.Report("aaaaaaaa", "bbbbbbbb", bench="^(instructions|counters)<b>")
    line = markdown(report.as_dict()).splitlines()[2]
    assert "matching ^(instructions&#124;counters)&lt;b&gt;)" in line


def test_the_night_does_not_publish_one_sample_values(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    old, middle, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    repo.write(middle, {CLAIM: [[2.5e-4]]})  # as `asv run --quick` saves it
    fake = Fake()
    argv = ["--repo", str(repo.root), "--machine", "box", "--no-backfill", "--no-leakcheck",
            "--baseline", old, "--target", new]  # fmt: skip
    assert nightly.main(argv, run=fake, weigher=Trials()) == 0
    assert fake.asv("publish") == [] and report_of(repo)["published"] is False
    assert "one-sample values (lifecycle.Claim.time_claim)" in capsys.readouterr().err
