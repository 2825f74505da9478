"""A timing the calibration found a night cannot judge at 10 % on the machine is left to the
history: not weighed, listed with why, counted as skipped, never as the same."""

from __future__ import annotations

import json
from pathlib import Path

from perfkit.jobs import nightly
from tests.nightlyfakes import CLAIM, PLAN, Fake, Trials, family, make_repo, verdict

WHY = "needs a threshold of 11.5 %, above the 6 % cap"


def test_a_timing_left_to_the_history_is_said_so_and_not_weighed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    calibration = repo.root / "calibration" / "box.json"
    calibration.parent.mkdir()
    calibration.write_text(json.dumps({"thresholds": {CLAIM: 0.115, PLAN: 0.03},
                                       "history_only": {CLAIM: WHY}}))  # fmt: skip
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill",
            "--no-leakcheck", "--baseline", old, "--target", new]  # fmt: skip
    assert nightly.main(args, run=Fake(), weigher=Trials(benchmarks=(PLAN,))) == 0
    report = verdict(repo)
    assert report["history_only"] == {CLAIM: WHY}
    timings = family(repo, "timings")
    assert timings["skipped"][nightly.LEFT_TO_HISTORY] == [CLAIM]
    assert timings["compared"] == 1
    text = (repo.root / ".asv" / "nightly.md").read_text()
    assert f"- `{CLAIM}`: {WHY}" in text


def test_a_history_only_list_that_is_not_reasons_cannot_be_used(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    calibration = repo.root / "calibration" / "box.json"
    calibration.parent.mkdir()
    calibration.write_text(json.dumps({"thresholds": {}, "history_only": [CLAIM]}))
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill",
            "--no-leakcheck", "--baseline", old, "--target", new]  # fmt: skip
    assert nightly.main(args, run=Fake(), weigher=Trials()) == nightly.CANNOT_RUN
    assert "history_only" in verdict(repo)["could_not_run"]
