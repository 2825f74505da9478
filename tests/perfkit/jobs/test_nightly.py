"""The nightly job: its decision on fixed result files and fixed process values (no benchmark is
run), its exit statuses, the raw references as controls, the culprit of a timing, and where it
finds the repository.

asv is replaced by a recorder (``Fake``) that runs nothing; the result files the job reads are
written beforehand in asv's own format, as ``asv run`` would have left them; the timing trials
are replaced by ``Trials``, which hands out fixed process values per commit.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from perfkit.data.asvdata import load_config
from perfkit.data.gitrepo import git
from perfkit.jobs import nightly
from perfkit.timing.trials import Benchmark, Trial
from perfkit.verdict.regression import weigh
from tests.asvfiles import Value, toy_repository
from tests.nightlyfakes import (
    CLAIM,
    GET,
    LOOPS,
    NOISE,
    OURS_GET,
    PLAN,
    RAW_GET,
    SIZE,
    Fake,
    Repo,
    Trials,
    family,
    make_repo,
    run,
    verdict,
)
from tests.support import ROOT


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path)


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
        ["--machine", "../../somewhere"],
        ["--machine", "a/b"],
    ],
)
def test_bad_arguments_exit_64_the_usage_status(
    argv: list[str], capsys: pytest.CaptureFixture[str], repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo.root)
    stale = repo.root / ".asv" / "nightly.md"
    stale.parent.mkdir()
    stale.write_text("## Nightly benchmarks: ✅ OK\n")
    assert nightly.main(argv, run=Fake()) == nightly.USAGE == 64
    err = capsys.readouterr().err
    assert "usage:" in err and "cannot run: bad arguments" in err
    # The last night's summary does not stay behind to say OK.
    assert "COULD NOT RUN" in stale.read_text() and verdict(repo)["status"] == 64


def test_the_entry_point_exits_64_on_bad_arguments(repo: Repo) -> None:
    script = ROOT / "scripts" / "nightly.py"
    done = subprocess.run([sys.executable, str(script), "--no-such-option"], capture_output=True,
                          cwd=repo.root)  # fmt: skip
    assert done.returncode == 64 and verdict(repo)["could_not_run"].startswith("bad arguments")


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
    # The target first: what it has is what the baseline must have.
    assert [c[-1] for c in fake.asv("run")] == [f"{new}^!", f"{old}^!"]


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
    assert "its raw reference" in machine[OURS_GET] and "moved alike" in machine[OURS_GET]


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

    steady = tuple(1e-5 * v for v in NOISE[:8])

    def trials(baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
        after = tuple(v * 1.08 for v in wide[::-1])
        same = weigh(steady, steady)
        return [Trial(Benchmark(CLAIM, CLAIM, "seconds"), wide, after, weigh(wide, after)),
                Trial(Benchmark(PLAN, PLAN, "seconds"), steady, steady, same)]  # fmt: skip

    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill"]
    assert nightly.main([*args, "--baseline", old, "--target", new], run=Fake(),
                        weigher=trials) == 0  # fmt: skip
    [unknown] = verdict(repo)["inconclusive"]
    assert unknown["benchmark"] == CLAIM and unknown["reason"].startswith("unknown")
    timings = family(repo, "timings")
    assert (timings["compared"], timings["inconclusive"]) == (1, 1)
    headline = (repo.root / ".asv" / "nightly.md").read_text().splitlines()[0]
    assert headline == "## Nightly benchmarks: ✅ OK (1 timing inconclusive, not judged)"

    def unknown_only(baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
        return trials(baseline, target, names)[:1]

    # Every timing inconclusive: the timings judged nothing, and the night says so.
    assert nightly.main([*args, "--baseline", old, "--target", new], run=Fake(),
                        weigher=unknown_only) == nightly.NOT_JUDGED  # fmt: skip
    assert "every weighing was inconclusive" in family(repo, "timings")["reason"]


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


def test_every_family_is_accounted_for_in_json_markdown_and_stdout(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    assert run(repo, Fake(), "--baseline", old, "--target", new) == 0
    compared = {t["family"]: t["compared"] for t in verdict(repo)["account"]}
    assert compared == {"instruction counts": 1, "sizes and statement counts": 2,
                        "timings": 2, "leak check": 1}  # fmt: skip
    text = (repo.root / ".asv" / "nightly.md").read_text()
    assert "| instruction counts | yes | 1 | 0 | 0 | — |" in text
    assert text in capsys.readouterr().out  # stdout gives the same account


def test_the_backfill_records_counts_of_the_first_parent_engine_commits_alone(
    tmp_path: Path,
) -> None:
    root = tmp_path / "repo"
    [baseline] = toy_repository(root, 1)

    def commit(path: str, message: str) -> str:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(message)
        git(root, "add", ".")
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
            "commit", "-q", "-m", message)  # fmt: skip
        return git(root, "rev-parse", "HEAD")

    engine = commit("taskorch/engine.py", "engine change")
    commit("docs/notes.md", "docs change")
    git(root, "checkout", "-q", "-b", "side")
    side = commit("taskorch/store.py", "engine change on a side branch")
    git(root, "checkout", "-q", "main")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
        "merge", "-q", "--no-ff", "-m", "merge side", "side")  # fmt: skip
    merge = git(root, "rev-parse", "HEAD")
    target = commit("taskorch/engine.py", "engine change again")
    fake = Fake()
    job = nightly.Job(root, load_config(root), "box", run=fake)

    assert nightly.backfill(job, None, baseline, target) == [engine, merge]
    [args] = fake.asv("run")
    assert args[:5] == ["--skip-existing-commits", "--machine", "box", "-b", nightly.UNTIMED]
    listed = args[5]
    assert listed.startswith("HASHFILE:") and side not in args
    # Narrowed by -b: both patterns hold.
    narrowed = f"^(?=.*(?:Instructions))(?:{nightly.UNTIMED})"
    nightly.backfill(job, "Instructions", baseline, target)
    assert fake.asv("run")[1][4] == narrowed
    assert re.search(narrowed, "instructions.Instructions.track_instructions('claim')")
    assert not re.search(narrowed, "counters.SQLStatements.track_statements('claim')")
    assert not re.search(narrowed, "lifecycle.Claim.time_claim")


def test_the_backfill_skips_commits_already_measured(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, 1)
    root = repo.root
    (root / "taskorch").mkdir()
    hashes = []
    for i in range(3):
        (root / "taskorch" / "engine.py").write_text(f"{i}\n")
        git(root, "add", ".")
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
            "commit", "-q", "-m", f"engine {i}")  # fmt: skip
        hashes.append(git(root, "rev-parse", "HEAD"))
    repo.commits += hashes
    repo.write(hashes[0], {})
    fake = Fake()
    job = nightly.Job(root, load_config(root), "box", run=fake)
    assert nightly.backfill(job, None, repo.commits[0], hashes[2]) == [hashes[1]]
    assert nightly.backfill(job, None, hashes[1], hashes[2]) == []
    assert len(fake.asv("run")) == 1
