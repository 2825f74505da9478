"""The pull-request check: a thin command over the nightly job. On a toy repository whose main
moved on after the pull request branched off, with asv result files written beforehand and asv
replaced by a recorder: the nightly is called on the merge base and the head, counts and sizes
only, and its verdict, culprit and evidence are the check's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perfkit.data.asvdata import expand
from perfkit.data.gitrepo import git
from perfkit.jobs import prcheck
from perfkit.verdict.account import Family, family_of
from tests.asvfiles import spread, toy_repository, write_results
from tests.nightlyfakes import Fake
from tests.perfkit.jobs.test_count_gate import Series
from tests.support import ROOT

COUNT = "instructions.Instructions.track_instructions"
STATEMENTS = "counters.SQLStatements.track_statements"
DEEP = "memory.ObjectSizes.track_deep_task"
TIMING, IMPORT = "lifecycle.Claim.time_claim", "memory.Footprint.track_import_time"
PARAMS = {COUNT: [["'claim'", "'get'"]], STATEMENTS: [["'claim'"]]}
UNITS = {COUNT: "instructions", STATEMENTS: "statements", DEEP: "bytes", TIMING: "seconds",
         IMPORT: "ms"}  # fmt: skip


class PullRequest:
    """main: c0, c1, then c2 after the branch ``pr`` (p1, p2, p3) left it at c1."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "repo"
        self.c0, self.c1 = toy_repository(self.root, 2)
        git(self.root, "checkout", "-q", "-b", "pr")
        self.pr = [self.commit(f"pr {i}") for i in (1, 2, 3)]
        git(self.root, "checkout", "-q", "main")
        self.c2 = self.commit("main moves on")
        self.dates = [self.c0, self.c1, *self.pr, self.c2]

    def commit(self, message: str) -> str:
        (self.root / "notes.txt").write_text(message)
        git(self.root, "add", ".")
        git(self.root, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
            "commit", "-q", "-m", message)  # fmt: skip
        return git(self.root, "rev-parse", "HEAD")

    def results(self, commit: str, claim: float) -> None:
        values = {COUNT: [claim, 50_000.0], STATEMENTS: [4.0], DEEP: [600.0],
                  TIMING: [spread(1e-5)], IMPORT: [80.0]}  # fmt: skip
        write_results(self.root / "results", "box", commit, values,
                      date=self.dates.index(commit) + 1, params=PARAMS, units=UNITS)  # fmt: skip

    def check(self, fake: Fake, series: Series, *extra: str) -> int:
        argv = ["--repo", str(self.root), "--head", "pr", "--machine", "box", *extra]
        return prcheck.main(argv, run=fake, counter=series, bytecodes=series)

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.root / ".asv" / "nightly.json").read_text())
        return data

    def account(self) -> dict[str, dict[str, Any]]:
        return {t["family"]: t for t in self.report()["account"]}


@pytest.fixture
def pr(tmp_path: Path) -> PullRequest:
    return PullRequest(tmp_path)


def claims(pr: PullRequest, moved_at: int) -> Series:
    """Counts at each commit: claim 2 % up from the pull request's commit ``moved_at`` on."""
    values = {c: {"claim": 100_000.0, "get": 50_000.0} for c in pr.dates}
    for commit in pr.pr[moved_at - 1 :]:
        values[commit]["claim"] = 102_000.0
    return Series(values)


def test_the_nightly_is_called_on_the_merge_base_and_the_head_counts_and_sizes_only(
    pr: PullRequest,
) -> None:
    argv = prcheck.nightly_argv(["--repo", str(pr.root), "--head", "pr", "--machine", "box"])
    options = prcheck.nightly.parse_args(argv)
    assert (options.baseline, options.target) == (pr.c1, pr.pr[-1])  # not main's tip, c2
    assert options.bench == prcheck.BENCHMARKS and options.title == "Pull request counts"
    assert not (options.timings or options.leakcheck or options.publish or options.backfill)
    assert options.counts and options.sizes
    # The default machine is a throw-away one; a later option, the caller's, wins.
    assert "--machine pr-check" in " ".join(argv) and options.machine == "box"


def test_a_count_that_grew_is_red_and_names_the_commit_and_what_grew(pr: PullRequest) -> None:
    pr.results(pr.c1, 100_000.0)
    pr.results(pr.pr[-1], 102_000.0)
    pr.results(pr.c2, 102_000.0)  # main's tip: compared with it, nothing would have moved
    fake, series = Fake(), claims(pr, moved_at=2)
    assert pr.check(fake, series) == 1
    report = pr.report()
    assert (report["baseline"], report["target"]) == (pr.c1[:8], pr.pr[-1][:8])
    [regressed] = report["regressed"]
    assert regressed["benchmark"] == f"{COUNT}('claim')"
    [finding] = report["findings"]
    assert finding["culprit"] == pr.pr[1]  # the second commit of the pull request
    # Only the head is recorded (the merge base has results), counts and sizes only: no timing,
    # no leak check, no site, no backfill.
    assert fake.asv("run") == [["--machine", "box", "-b", prcheck.BENCHMARKS, f"{pr.pr[-1]}^!"]]
    assert not fake.asv("publish")
    assert not any("leakcheck" in " ".join(c) for c in fake.commands)
    account = pr.account()
    assert account[Family.COUNTS]["compared"] == 2 and account[Family.SIZES]["compared"] == 2
    assert account[Family.TIMINGS]["not_asked"] == "turned off (--no-timings)"
    assert account[Family.LEAKS]["not_asked"] == "turned off (--no-leakcheck)"
    text = (pr.root / ".asv" / "nightly.md").read_text()
    assert text.startswith("## Pull request counts: ❌ REGRESSED")
    assert pr.pr[1][:8] in text and "claim_impl" in text


def test_nothing_that_moved_is_green_and_says_what_it_compared(pr: PullRequest) -> None:
    pr.results(pr.c1, 100_000.0)
    pr.results(pr.pr[-1], 100_000.0)
    series = claims(pr, moved_at=4)  # never
    assert pr.check(Fake(), series) == 0
    assert series.calls == []  # nothing regressed: nothing counted again
    account = pr.account()
    assert account[Family.COUNTS]["compared"] == 2 and account[Family.SIZES]["compared"] == 2
    text = (pr.root / ".asv" / "nightly.md").read_text()
    assert text.startswith("## Pull request counts: ✅ OK")
    assert "| instruction counts | yes | 2 |" in text


def test_a_baseline_without_results_is_recorded_with_the_same_selection(pr: PullRequest) -> None:
    pr.results(pr.pr[-1], 100_000.0)
    fake = Fake()

    def record(command: Any, cwd: Path, env: Any) -> int:
        if command[3:4] == ["run"] and command[-1] == f"{pr.c1}^!":
            pr.results(pr.c1, 100_000.0)
        return fake(command, cwd, env)

    argv = ["--repo", str(pr.root), "--head", "pr", "--machine", "box"]
    assert prcheck.main(argv, run=record, counter=claims(pr, 4), bytecodes=claims(pr, 4)) == 0
    assert [r[-1] for r in fake.asv("run")] == [f"{pr.pr[-1]}^!", f"{pr.c1}^!"]
    assert all(r[2:4] == ["-b", prcheck.BENCHMARKS] for r in fake.asv("run"))


@pytest.mark.parametrize(
    ("argv", "said", "status"),
    [
        (["--head", "no-such-branch"], "no merge base of main and no-such-branch", 4),
        (["--base"], "bad arguments: argument --base: expected one argument", 64),
    ],
)
def test_what_cannot_be_checked_says_why_and_replaces_the_last_report(
    pr: PullRequest, argv: list[str], said: str, status: int
) -> None:
    stale = pr.root / ".asv" / "nightly.md"
    stale.parent.mkdir()
    stale.write_text("## Pull request counts: ✅ OK\n")
    fake = Fake()
    assert prcheck.main(["--repo", str(pr.root), *argv], run=fake) == status
    assert fake.commands == []
    assert said in pr.report()["could_not_run"]
    assert stale.read_text().startswith("## Pull request counts: ⚠️ COULD NOT RUN")


def test_the_selection_is_every_count_and_size_of_the_suite_and_no_timing() -> None:
    everything = expand(ROOT)
    assert everything, "results/benchmarks.json lists no benchmark"

    def family(name: str) -> Family | None:
        return family_of(str(everything[name].get("unit") or ""), str(everything[name]["type"]))

    judged = {n for n in everything if family(n) in (Family.COUNTS, Family.SIZES)}
    assert set(expand(ROOT, prcheck.BENCHMARKS)) == judged
    assert {n.split(".")[0] for n in judged} == {"instructions", "counters", "memory"}
    assert IMPORT in everything and IMPORT not in judged


def test_a_leak_rate_is_watched_in_the_history_not_judged_from_one_value_a_side() -> None:
    # Identical engine code gave claim_complete 0.768, 0.096 and 0 B/iteration on three
    # commits: the factor would have called a move between them a regression.
    everything = expand(ROOT)
    rates = [n for n in everything if n.startswith("leaks.")]
    assert rates and all(everything[n]["unit"] == "bytes/iteration" for n in rates)
    assert all(family_of("bytes/iteration", kind) is None for kind in ("track", ""))
    assert not set(rates) & set(expand(ROOT, prcheck.BENCHMARKS))
