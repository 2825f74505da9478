"""The A/A calibration: a pool dealt out as the nightly job takes processes, thresholds set
from its noise, the false-alarm rate of resampled nights, and the command on a kept pool."""

from __future__ import annotations

import json
import math
import os
import random
from pathlib import Path

import pytest

from perfkit.commands import Exit, run
from perfkit.kit.options import UsageError
from perfkit.timing import calibration
from perfkit.timing.calibration import (
    CAP,
    FLOOR,
    deal,
    judged,
    power,
    simulate,
    thresholds_from,
)
from perfkit.timing.trials import MOST
from perfkit.verdict.regression import Answer
from tests.support import ROOT


def pool(seed: int, sigma: float, n: int = 2 * MOST, slow: int = 0) -> list[float]:
    r = random.Random(seed)
    values = [1e-5 * math.exp(r.gauss(0, sigma)) for _ in range(n)]
    return [v * 1.7 if i < slow else v for i, v in enumerate(values)]


def test_a_pool_too_small_for_two_sides_is_refused() -> None:
    with pytest.raises(ValueError, match="pool"):
        deal(pool(1, 0.01, n=2 * MOST - 1), random.Random(0), 0.05)


def test_thresholds_grow_with_the_noise_and_never_drop_below_the_floor() -> None:
    found = thresholds_from({"quiet": pool(1, 0.002), "noisy": pool(2, 0.06)}, random.Random(0))
    assert found["quiet"] == FLOOR
    assert found["noisy"] > 0.05


def test_identical_code_gives_no_red_night_with_calibrated_thresholds() -> None:
    kept = {f"b{i}": pool(i, 0.03, slow=i % 3) for i in range(10)}
    rng = random.Random(0)
    thresholds = thresholds_from(kept, rng)
    nights = simulate(kept, thresholds, 200, rng)
    assert len(nights) == 200 and sum(n.red for n in nights) <= 2


def test_a_dealt_trial_uses_the_nightly_jobs_process_counts() -> None:
    w = deal(pool(1, 0.0001), random.Random(0), 0.05)
    assert w.answer is Answer.SAME and w.n_before == w.n_after == 8
    noisy = deal(pool(2, 0.2), random.Random(0), 0.05)
    assert noisy.answer is not Answer.SAME or noisy.n_before == MOST


def test_a_threshold_is_no_tighter_than_the_night_can_resolve() -> None:
    """A spread of 3 % between processes: 16 a side cannot hold the interval inside a 3 %
    threshold, so the threshold is widened to what they resolve, and a 10 % slowdown is still
    called red."""
    values = pool(3, 0.03)
    found = judged(values, FLOOR, random.Random(0), trials=300)
    assert found.resolvable > FLOOR and found.threshold == found.resolvable <= CAP
    assert found.history_only == "" and found.power >= 0.9
    assert deal(values, random.Random(1), found.threshold).answer is not Answer.DIFFERENT


def test_a_benchmark_a_night_cannot_judge_at_ten_percent_is_left_to_the_history() -> None:
    noisy = judged(pool(4, 0.15), FLOOR, random.Random(0), trials=300)
    assert noisy.threshold > CAP and "above the 7 % cap" in noisy.history_only
    quiet = judged(pool(5, 0.002), FLOOR, random.Random(0), trials=300)
    assert quiet.threshold == FLOOR and quiet.power == 1.0 and quiet.history_only == ""


def test_a_ten_percent_slowdown_is_dealt_as_the_night_weighs_it() -> None:
    assert power(pool(6, 0.005), random.Random(0), 0.05, trials=100) == 1.0
    assert power(pool(6, 0.005), random.Random(0), 0.12, trials=100) == 0.0


def test_the_command_on_a_kept_pool_writes_thresholds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps({"commit": "c" * 40, "pool": {"t.T.time_t": pool(1, 0.02)}}))
    out = tmp_path / "box.json"
    argv = ["--repo", str(tmp_path), "--pool", str(kept), "--nights", "50", "--out", str(out)]
    assert calibration.main(argv) == 0
    written = json.loads(out.read_text())
    assert set(written["thresholds"]) == {"t.T.time_t"} and written["nights"] == 50
    assert written["resolvable"]["t.T.time_t"] <= written["thresholds"]["t.T.time_t"]
    assert written["history_only"] == {} and "resolvable" in written["rule"]
    assert written["red_nights_calibrated"] == 0
    text, progress = capsys.readouterr()
    assert (
        "t.T.time_t" in text
        and "nights red, weighed, calibrated" in text
        and "--factor 1.1" in text
    )
    # The minutes of resampling are told as they pass, beside the results, not in them.
    assert "[1/1] what a night can resolve and catch: t.T.time_t" in progress
    assert "simulating 50 A/A nights" in progress and "resampling" not in text


def test_a_kept_pool_that_is_no_calibration_file_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps({"commit": "c", "pool": {"t.T.time_t": [1.0, 2.0]}}))
    assert calibration.main(["--repo", str(tmp_path), "--pool", str(kept)]) == Exit.USAGE
    assert "t.T.time_t needs" in capsys.readouterr().err
    kept.write_text("[]")
    assert calibration.main(["--repo", str(tmp_path), "--pool", str(kept)]) == Exit.USAGE


@pytest.mark.parametrize(
    "argv", [["--processes", "3"], ["--nights", "0"], ["--bogus"], ["--machine", "../../x"]]
)
def test_bad_arguments_are_bad_usage(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        calibration.parse_args(argv)
    assert run("calibrate", argv) == Exit.USAGE


def test_benchmarks_the_nightly_does_not_weigh_are_refused_before_measuring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "thresholds.json"
    argv = ["--repo", str(ROOT), "--bench", r"^graph\.", "--out", str(out)]
    assert calibration.main(argv) == Exit.USAGE
    assert "--bench" in capsys.readouterr().err and not out.exists()


def test_the_command_pools_the_processes_of_nightly_reports(tmp_path: Path) -> None:
    nights = []
    for i in range(2):
        values = pool(i, 0.02)
        half = MOST // 2
        trials = [
            {"benchmark": "t.T.time_t", "before": values[:half], "after": values[half:MOST]},
            {"benchmark": "few.F.time_f", "before": [1.0, 1.1], "after": [1.0, 1.2]},
        ]
        report = {"target": "t" * 8, "trials": trials}
        nights.append(tmp_path / f"night{i}.json")
        nights[-1].write_text(json.dumps(report))
    out = tmp_path / "box.json"
    argv = ["--repo", str(tmp_path), "--from-nights", *map(str, nights), "--nights", "20",
            "--out", str(out)]  # fmt: skip
    assert calibration.main(argv) == 0
    written = json.loads(out.read_text())
    assert set(written["pool"]) == {"t.T.time_t"} and len(written["pool"]["t.T.time_t"]) == 2 * MOST
    (tmp_path / "bad.json").write_text("{}")
    assert (
        calibration.main(["--repo", str(tmp_path), "--from-nights", str(tmp_path / "bad.json")])
        == Exit.USAGE
    )


def test_merge_keeps_the_benchmarks_it_did_not_measure_and_lists_each_part(
    tmp_path: Path,
) -> None:
    existing = tmp_path / "machine.json"
    existing.write_text(json.dumps({
        "commit": "a" * 40, "processes": 32, "thresholds": {"t.A.time_a": 0.045, "t.B.time_b": 0.2},
        "pool": {"t.A.time_a": pool(1, 0.02), "t.B.time_b": pool(2, 0.2)},
    }))  # fmt: skip
    measured = tmp_path / "measured.json"
    part = {"commit": "b" * 40, "benchmarks": ["t.B.time_b"], "processes": 32,
            "load_before": [3.5, 3.0, 2.0], "load_after": [4.0, 3.5, 2.5]}  # fmt: skip
    measured.write_text(json.dumps({"commit": "b" * 40, "pool": {"t.B.time_b": pool(3, 0.01)},
                                    "parts": [part]}))  # fmt: skip
    argv = ["--repo", str(tmp_path), "--pool", str(measured), "--merge", "--nights", "20",
            "--out", str(existing), "--note", "under load"]  # fmt: skip
    assert calibration.main(argv) == 0
    written = json.loads(existing.read_text())
    assert written["thresholds"]["t.A.time_a"] == 0.045  # kept as it was
    assert written["thresholds"]["t.B.time_b"] < 0.2  # calibrated again, on a quieter pool
    assert written["pool"]["t.B.time_b"] == pool(3, 0.01)
    assert written["commit"] == f"{'a' * 40},{'b' * 40}"
    assert [p["benchmarks"] for p in written["parts"]] == [["t.A.time_a"], ["t.B.time_b"]]
    assert written["parts"][0]["load_before"] is None and "note" not in written["parts"][0]
    assert written["parts"][1] == {**part, "note": "under load"}


def test_a_merge_that_fails_to_write_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = tmp_path / "machine.json"
    before = json.dumps({
        "commit": "a" * 40, "processes": 32, "thresholds": {"t.A.time_a": 0.045},
        "pool": {"t.A.time_a": pool(1, 0.02)},
    })  # fmt: skip
    existing.write_text(before)
    measured = tmp_path / "measured.json"
    measured.write_text(json.dumps({"commit": "b" * 40, "pool": {"t.B.time_b": pool(3, 0.01)}}))

    def disk_full(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    argv = ["--repo", str(tmp_path), "--pool", str(measured), "--merge", "--nights", "20",
            "--out", str(existing)]  # fmt: skip
    assert calibration.main(argv) == Exit.CANNOT_RUN
    assert existing.read_text() == before  # every other benchmark's threshold still there
    assert {f.name for f in tmp_path.iterdir()} == {"machine.json", "measured.json"}


def test_merge_into_a_file_without_thresholds_and_pool_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps({"commit": "c" * 40, "pool": {"t.T.time_t": pool(1, 0.02)}}))
    argv = ["--repo", str(tmp_path), "--pool", str(kept), "--merge"]
    assert calibration.main([*argv, "--out", str(tmp_path / "none.json")]) == Exit.USAGE
    assert "does not exist" in capsys.readouterr().err
    assert calibration.main([*argv, "--out", str(kept)]) == Exit.USAGE
    assert "holds no thresholds and pool" in capsys.readouterr().err
