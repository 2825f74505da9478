"""The asv reader: configuration, result files in asv's format, damaged files, the kept results."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from perfkit.data import asvdata
from perfkit.verdict.regression import DEFAULT_FACTOR
from taskorch.errors import ConfigurationError
from tests.asvfiles import Value, spread, write_results
from tests.support import ROOT

OLD, NEW = "1" * 40, "2" * 40
PARAMS = {"lifecycle.Plan.time_plan": [["1", "10"]], "counters.S.track_statements": [["'get'"]]}
UNITS = {"counters.S.track_statements": "statements"}


def two_commits(results: Path) -> None:
    plan, statements = "lifecycle.Plan.time_plan", "counters.S.track_statements"
    old: dict[str, list[Value]] = {plan: [spread(1e-5), spread(2e-5)], statements: [4.0]}
    new: dict[str, list[Value]] = {plan: [spread(1.5e-5), None], statements: [math.nan]}
    write_results(results, "box", OLD, old, date=1, params=PARAMS, units=UNITS)
    bumped = {statements: "2"}
    write_results(results, "box", NEW, new, date=2, params=PARAMS, units=UNITS, versions=bumped)


def test_result_files_are_read_as_asv_names_them(tmp_path: Path) -> None:
    two_commits(tmp_path)
    found = asvdata.scan(tmp_path, "box")
    assert [r.commit for r in found.runs] == [OLD, NEW] and found.skipped == ()
    old = {m.benchmark: m for m in found.runs[0].measurements}
    assert sorted(old) == [
        "counters.S.track_statements('get')",
        "lifecycle.Plan.time_plan(1)",
        "lifecycle.Plan.time_plan(10)",
    ]
    plan = old["lifecycle.Plan.time_plan(1)"]
    assert plan.value == pytest.approx(1e-5, rel=0.01) and plan.unit == "seconds"
    assert plan.name == "lifecycle.Plan.time_plan" and plan.params == "1"
    assert plan.stats is not None and plan.stats["q_25"] < plan.value < plan.stats["q_75"]
    assert plan.samples is not None and len(plan.samples) == 20
    track = old["counters.S.track_statements('get')"]
    assert (track.value, track.unit, track.stats, track.version) == (4.0, "statements", None, "1")


def test_failed_and_skipped_values_are_told_apart(tmp_path: Path) -> None:
    two_commits(tmp_path)
    new = asvdata.load_commit(tmp_path, "box", NEW[:8])
    failed, skipped = new["lifecycle.Plan.time_plan(10)"], new["counters.S.track_statements('get')"]
    assert failed.failed and not failed.usable and math.isnan(failed.value)
    assert not skipped.failed and not skipped.usable and skipped.version == "2"
    assert new["lifecycle.Plan.time_plan(1)"].usable
    assert asvdata.load_commit(tmp_path, "box", "3" * 40) == {}


@pytest.mark.parametrize(
    "text",
    ["{not json", "[1, 2]", "7", '{"version": 2}', '{"version": 99, "results": {}}'],
    ids=["not-json", "a-list", "a-number", "missing-keys", "newer-format"],
)
def test_a_damaged_result_file_is_left_out_and_named(tmp_path: Path, text: str) -> None:
    two_commits(tmp_path)
    (tmp_path / "box" / "33333333-env.json").write_text(text)
    found = asvdata.scan(tmp_path, "box")
    assert [r.commit for r in found.runs] == [OLD, NEW]
    [skipped] = found.skipped
    assert skipped.startswith("33333333-env.json: ")


def test_damaged_rows_and_another_machines_file_are_left_out(tmp_path: Path) -> None:
    two_commits(tmp_path)
    path = tmp_path / "box" / f"{OLD[:8]}-virtualenv-py3.11.json"
    data = json.loads(path.read_text())
    data["results"]["lifecycle.Plan.time_plan"][0] = ["fast", "slow"]
    path.write_text(json.dumps(data))
    elsewhere = write_results(tmp_path, "other", "4" * 40, {"a.B.time_c": [1.0]}, date=3)
    (tmp_path / "box" / "44444444-moved.json").write_text(elsewhere.read_text())
    found = asvdata.scan(tmp_path, "box")
    assert [r.commit for r in found.runs] == [NEW]
    assert len(found.skipped) == 2 and any("machine name" in s for s in found.skipped)


def test_a_damaged_machine_folder_gives_no_runs_and_says_why(tmp_path: Path) -> None:
    two_commits(tmp_path)
    (tmp_path / "box" / "machine.json").write_text("[]")
    found = asvdata.scan(tmp_path, "box")
    assert found.runs == () and "machine.json" in found.skipped[0]
    assert asvdata.scan(tmp_path, "absent").runs == ()


def test_the_configuration_is_read_with_comments_and_trailing_commas(tmp_path: Path) -> None:
    (tmp_path / "asv.conf.json").write_text(
        '// a comment\n{"version": 1, "repo": ".", "branches": ["main"],\n'
        '  "results_dir": "kept", // where\n  "html_dir": "site",\n'
        '  "regressions_thresholds": {".*": 0.2},}\n'
    )
    config = asvdata.load_config(tmp_path)
    assert config.results_dir == tmp_path / "kept" and config.html_dir == tmp_path / "site"
    assert config.branches == ("main",) and config.regressions_thresholds == {".*": 0.2}
    assert asvdata.results_dir(tmp_path) == tmp_path / "kept"


@pytest.mark.parametrize(
    "text", [None, "{broken", '{"version": 1}'], ids=["absent", "bad", "no-repo"]
)
def test_a_missing_or_damaged_configuration(tmp_path: Path, text: str | None) -> None:
    if text is not None:
        (tmp_path / "asv.conf.json").write_text(text)
    with pytest.raises(ConfigurationError, match=r"asv\.conf\.json"):
        asvdata.load_config(tmp_path)
    assert asvdata.results_dir(tmp_path) == tmp_path / ".asv" / "results"


def test_without_asv_the_readers_say_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_commits(tmp_path)
    for name in [n for n in sys.modules if n == "asv" or n.startswith("asv.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ConfigurationError, match=r"needs asv: pip install"):
        asvdata.scan(tmp_path, "box")
    assert asvdata.machines(tmp_path) == ["box"]  # listing folders needs no asv


def test_the_kept_results_read_cleanly() -> None:
    config = asvdata.load_config(ROOT)
    found = asvdata.scan(config.results_dir, "ref-2core")
    assert len(found.runs) >= 4 and found.skipped == ()
    # Timings on the commits a full run measured; counts on every engine commit (backfilled).
    timing = "lifecycle.Plan.time_plan(1)"
    timed = [run for run in found.runs if timing in {m.benchmark for m in run.measurements}]
    assert len(timed) >= 4
    for run in timed:
        plan = {m.benchmark: m for m in run.measurements}[timing]
        assert plan.usable and plan.unit == "seconds" and 1e-6 < plan.value < 1e-3
    for run in found.runs:
        claim = "instructions.Instructions.track_instructions('claim')"
        count = {m.benchmark: m for m in run.measurements}[claim]
        assert count.unit == "instructions"
        assert not count.usable or 50_000 < count.value < 500_000
    assert [r.date for r in found.runs] == sorted(r.date for r in found.runs)


def test_the_sites_regression_step_is_the_rules_factor() -> None:
    """The published site's regressions page and the regression rule use one threshold."""
    thresholds = asvdata.load_config(ROOT).regressions_thresholds
    assert thresholds == {".*": pytest.approx(DEFAULT_FACTOR - 1)}


def test_a_history_follows_the_repository_not_the_dates(tmp_path: Path) -> None:
    """A rebased commit keeps its author's date: the history is in the repository's order, as
    the site draws it, whatever the dates in the result files say."""
    from perfkit.verdict.history import load_history
    from tests.asvfiles import toy_repository

    root = tmp_path / "repo"
    commits = toy_repository(root, 3)
    for i, commit in enumerate(commits):
        write_results(root / "results", "box", commit, {"t.T.time_t": [spread(1e-5)]},
                      date=10 - i)  # fmt: skip
    by_date = load_history(root / "results", "box")
    in_order = load_history(root / "results", "box", root=root)
    assert by_date is not None and in_order is not None
    assert by_date.commits == commits[::-1]
    assert in_order.commits == commits
    assert asvdata.revisions(root, set(commits)) == {c: i for i, c in enumerate(commits)}
    assert asvdata.revisions(tmp_path / "nowhere", set(commits)) == {}


def test_one_sample_values_are_found_and_kept_out_of_the_history(tmp_path: Path) -> None:
    from perfkit.reports.site import publish
    from perfkit.verdict.history import load_history

    results = tmp_path / "results"
    for i, commit in enumerate(("a" * 40, "b" * 40, "c" * 40)):
        # The third commit as `asv run --quick` saves it: one sample, an infinite interval.
        samples = [spread(1e-5)] if i < 2 else [[2.5e-4]]
        write_results(results, "box", commit, {"t.T.time_t": samples}, date=i + 1)
    [line] = asvdata.one_sample_runs(results)
    assert "cccccccc: one-sample values (t.T.time_t)" in line
    history = load_history(results, "box")
    assert history is not None
    assert [p.commit for p in history.series["t.T.time_t"]] == ["a" * 40, "b" * 40]
    # The one publish command refuses before asv draws them beside the history.
    config = {"version": 1, "project": "t", "repo": ".", "results_dir": "results",
              "html_dir": "html"}  # fmt: skip
    (tmp_path / "asv.conf.json").write_text(json.dumps(config))
    problems = publish(tmp_path)
    assert "one-sample values" in problems[0] and problems[-1].startswith("refused")
    assert not (tmp_path / "html").exists()


def test_the_kept_results_hold_no_one_sample_value() -> None:
    assert asvdata.one_sample_runs(ROOT / "results") == []


def test_the_kept_machine_is_described_in_full() -> None:
    # A description with fields missing reads "[none]" on the site beside a user's own machine.
    described = json.loads((ROOT / "results" / "ref-2core" / "machine.json").read_text())
    assert {"arch", "cpu", "machine", "num_cpu", "os", "ram", "version"} <= set(described)
    assert all(str(v).strip() for v in described.values())
