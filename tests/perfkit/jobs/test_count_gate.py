"""The gate on instruction counts: the rule's tight threshold and direction, what is declared
expected (a version bump, an ``Expected-Change:`` trailer), the culprit bisection on a fake series
of commits, and the Markdown summary."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from perfkit.counts.culprit import Finding, first_moved, investigate, operation_of
from perfkit.counts.instructions import Count
from perfkit.data import expected
from perfkit.data.asvdata import Measurement
from perfkit.data.gitrepo import git
from perfkit.jobs import nightly
from perfkit.reports.summary import markdown
from perfkit.verdict.regression import COUNT_THRESHOLD, Change, Status, expect, judge
from tests.asvfiles import spread, toy_repository, write_results

CLAIM = "instructions.Instructions.track_instructions('claim')"
GET = "instructions.Instructions.track_instructions('get')"


def counted(value: float, commit: str = "a" * 40, version: str = "1") -> Measurement:
    return Measurement(CLAIM, commit, 0, value, unit="instructions", version=version)


@pytest.mark.parametrize(
    ("after", "status"),
    [
        (100_000.0, Status.UNCHANGED),
        (100_900.0, Status.UNCHANGED),  # within 1 %
        (101_100.0, Status.REGRESSED),  # beyond it: more instructions are worse
        (102_000.0, Status.REGRESSED),
        (98_900.0, Status.IMPROVED),
        (99_100.0, Status.UNCHANGED),
    ],
)
def test_counts_are_judged_by_the_tight_threshold(after: float, status: Status) -> None:
    change = judge(counted(100_000.0), counted(after, "b" * 40))
    assert change.status is status
    assert change.ratio == pytest.approx(after / 100_000)
    assert not change.higher_is_better


def test_counts_need_no_significance_test_and_timings_keep_theirs() -> None:
    # A 2 % timing change is far inside the timing factor: only the count is flagged.
    timing = [Measurement("t.T.time_x", c, 0, v, unit="seconds", stats={"repeat": 1})
              for c, v in (("a", 1.0), ("b", 1.02))]  # fmt: skip
    assert judge(*timing).status is Status.UNCHANGED
    assert judge(counted(100.0), counted(102.0)).status is Status.REGRESSED
    assert judge(counted(100.0), counted(102.0), count_threshold=0.03).status is Status.UNCHANGED
    assert COUNT_THRESHOLD == 0.01


def test_a_bumped_version_is_an_intended_change() -> None:
    change = judge(counted(100.0), counted(150.0, version="2"))
    assert change.status is Status.INCOMPARABLE and "version" in change.reason


def test_a_declared_change_is_expected_not_regressed() -> None:
    changes = [
        judge(counted(100.0), counted(102.0)),
        judge(
            Measurement(GET, "a", 0, 100.0, unit="instructions"),
            Measurement(GET, "b", 0, 103.0, unit="instructions"),
        ),
    ]
    marked = expect(changes, {"instructions.*('claim')": "c" * 40})
    assert [c.status for c in marked] == [Status.EXPECTED, Status.REGRESSED]
    assert marked[0].reason == "declared expected by cccccccc"
    bare = expect(changes, {"instructions.Instructions.track_instructions": "d" * 40})
    assert [c.status for c in bare] == [Status.EXPECTED, Status.EXPECTED]


def test_trailers_are_read_from_the_commits_of_the_range(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    messages = ["base", f"faster claim\n\nExpected-Change: {CLAIM}, lifecycle.P.time_p(1, 2)",
                "unrelated\n\nexpected-change: raw.*"]  # fmt: skip
    commits = []
    for i, message in enumerate(messages):
        (tmp_path / "f").write_text(str(i))
        git(tmp_path, "add", "f")
        git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@e.invalid",
            "commit", "-q", "-m", message)  # fmt: skip
        commits.append(git(tmp_path, "rev-parse", "HEAD"))
    found = expected.declared(tmp_path, commits[0], commits[2])
    assert found == {CLAIM: commits[1], "lifecycle.P.time_p(1, 2)": commits[1], "raw.*": commits[2]}
    assert expected.declared(tmp_path, commits[1], commits[2]) == {"raw.*": commits[2]}


# -- the culprit ---------------------------------------------------------------------------


def test_bisection_asks_about_few_commits() -> None:
    commits = [f"c{i}" for i in range(1, 17)]
    asked: list[str] = []

    def moved(commit: str) -> bool:
        asked.append(commit)
        return commits.index(commit) >= 10

    assert first_moved(commits, moved) == "c11"
    assert len(asked) == 4  # log2(16)
    assert first_moved(["only"], moved) == "only"


class Series:
    """A fake range: the instructions of each operation at each commit; records what it
    counted."""

    def __init__(self, values: Mapping[str, Mapping[str, float]]) -> None:
        self.values, self.calls = values, list[tuple[str, tuple[str, ...]]]()

    def __call__(self, commit: str, operations: Sequence[str]) -> dict[str, Count]:
        self.calls.append((commit, tuple(operations)))
        return {
            op: Count(op, self.values[commit][op], {"claim_impl": self.values[commit][op] / 2,
                                                    "root": self.values[commit][op]})
            for op in operations
        }  # fmt: skip


def regression(benchmark: str) -> Change:
    return Change(benchmark, Status.REGRESSED, 1.02, False, 100.0, 102.0, unit="instructions")


def test_the_culprit_is_the_third_of_five_new_commits() -> None:
    commits = ["n1", "n2", "n3", "n4", "n5"]
    values = {c: {"claim": 100.0, "get": 50.0} for c in ["base", *commits]}
    for c in ("n3", "n4", "n5"):
        values[c]["claim"] = 102.0
    series = Series(values)
    [found] = investigate(commits, "base", [regression(CLAIM), regression("x.T.time_x")], series)
    assert (found.benchmark, found.operation, found.culprit) == (CLAIM, "claim", "n3")
    assert (found.before, found.after) == (100.0, 102.0)
    # Only the moved operation is counted, each commit once, not every commit of the range.
    assert all(ops == ("claim",) for _, ops in series.calls)
    assert len(series.calls) == len({c for c, _ in series.calls}) <= 4
    assert [row[0] for row in found.c_functions] == ["claim_impl"]  # the root is left out


def test_a_move_that_does_not_show_again_names_no_culprit() -> None:
    values = {c: {"claim": 100.0} for c in ("base", "n1", "n2")}
    [found] = investigate(["n1", "n2"], "base", [regression(CLAIM)], Series(values))
    assert found.culprit is None and "did not show" in found.reason
    assert operation_of(CLAIM) == "claim" and operation_of("lifecycle.Plan.time_plan(1)") is None


# -- the summary ---------------------------------------------------------------------------


def test_the_markdown_summary_has_verdict_ratio_culprit_and_evidence() -> None:
    report = nightly.Report("aaaaaaaa", "bbbbbbbb", 1.15, commits=5)
    report.regressed = [regression(CLAIM)]
    python_rows = (("Orchestrator.claim (engine.py)", 141.0, 150.0),)
    report.findings = [
        Finding(CLAIM, "claim", "c" * 40, 100.0, 102.0, (("read_row", 10.0, 12.0),), python_rows)
    ]
    text = markdown(report.as_dict())
    assert text.startswith("## Nightly benchmarks: ❌ REGRESSED")
    assert (
        f"| `{CLAIM}` | 100 instructions | 102 instructions | x1.0200 | grew (lower is better)"
        " | `cccccccc` |" in text
    )
    assert "`Orchestrator.claim (engine.py)` | 141 | 150 | +9 |" in text
    assert "`read_row` | 10 | 12 | +2 |" in text
    assert "beyond 1.0%" in text
    ok = markdown(nightly.Report("aaaaaaaa", "bbbbbbbb", 1.15).as_dict())
    assert ok.startswith("## Nightly benchmarks: ✅ OK") and "Regressed" not in ok


# -- the job, end to end on fixed result files ------------------------------------------------


def test_the_job_names_culprit_and_evidence_and_writes_markdown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    commits = toy_repository(root, 6)
    base, new = commits[0], commits[-1]
    params = {"instructions.Instructions.track_instructions": [["'claim'", "'get'"]]}
    units = {"instructions.Instructions.track_instructions": "instructions"}
    for commit, claim in ((base, 100_000.0), (new, 102_000.0)):
        write_results(root / "results", "box", commit,
                      {"instructions.Instructions.track_instructions": [claim, 50_000.0],
                       "t.T.time_t": [spread(1e-5)]},
                      date=commits.index(commit) + 1, params=params, units=units)  # fmt: skip
    values = {c: {"claim": 100_000.0 if i < 3 else 102_000.0} for i, c in enumerate(commits)}
    summary_file = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary_file))
    ran: list[list[str]] = []

    def run(command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
        ran.append(list(command))
        return 0

    series = Series(values)
    argv = ["--repo", str(root), "--machine", "box", "--no-publish", "--no-backfill",
            "--no-leakcheck", "--no-timings", "--no-sizes",
            "--baseline", base, "--target", new]  # fmt: skip
    assert nightly.main(argv, run=run, counter=series, bytecodes=series) == 1
    report = json.loads((root / ".asv" / "nightly.json").read_text())
    [regressed] = report["regressed"]
    assert regressed["benchmark"] == CLAIM and regressed["ratio"] == pytest.approx(1.02)
    [finding] = report["findings"]
    assert finding["culprit"] == commits[3]  # the third of the five new commits
    assert report["leakcheck"] == "not run (--no-leakcheck)"
    assert not any("leakcheck" in c for command in ran for c in command)
    # Counts are not measured again by asv: the target is recorded once.
    assert [c[-1] for c in ran if c[3:4] == ["run"]] == [f"{new}^!"]
    text = (root / ".asv" / "nightly.md").read_text()
    assert commits[3][:8] in text and "claim_impl" in text
    assert summary_file.read_text() == text


@pytest.mark.parametrize("argv", [["--count-threshold", "0"], ["--count-threshold", "2"],
                                  ["--no-leakcheck", "--bogus"]])  # fmt: skip
def test_bad_arguments_exit_with_the_usage_status(argv: list[str], tmp_path: Path) -> None:
    with pytest.raises(nightly.UsageError):
        nightly.parse_args(argv)
    assert nightly.main([*argv, "--repo", str(tmp_path)]) == nightly.USAGE
