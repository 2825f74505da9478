"""Change points over a stored history: a real step is found at its commit, noise gives nothing,
a short excursion that comes back is one transient, a short level at either end is no change,
what the raw sqlite3 references share is the machine; on hand-made result files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from perfkit.data.asvdata import Measurement
from perfkit.verdict.changepoints import MIN_EDGE, TRANSIENT_COMMITS, Label, noise, shifts
from perfkit.verdict.history import History, load_history
from perfkit.verdict.regression import Answer
from tests.asvfiles import Value, noisy, step, write_results

PLAN = "lifecycle.Plan.time_plan"
RAW = "raw.RawInsert.time_raw_insert"
GET = "database.Get.time_get"
RAW_GET = "raw.RawGet.time_raw_get"
PARAMS = {PLAN: [["10"]], RAW: [["10"]], GET: [["1000"]], RAW_GET: [["1000"]]}


def commit(i: int) -> str:
    return f"{i + 1:08x}" + "0" * 32


def series(values: list[float], unit: str = "seconds") -> list[Measurement]:
    return [Measurement(PLAN, commit(i), i, v, unit=unit) for i, v in enumerate(values)]


@pytest.mark.parametrize("seed", range(5))
def test_a_clean_step_is_found_at_the_first_commit_of_the_new_level(seed: int) -> None:
    [found] = shifts(PLAN, series(step(noisy(12, seed), 6, 1.2)), {})
    assert found.commit == commit(6) and found.baseline == commit(5) and found.index == 6
    assert found.ratio == pytest.approx(1.2, rel=0.05)
    assert found.weighing is not None and found.weighing.answer is Answer.DIFFERENT
    assert found.label is Label.REGRESSION and found.worse


def test_a_faster_level_is_an_improvement_and_a_rate_reads_the_other_way() -> None:
    [faster] = shifts(PLAN, series(step(noisy(12, 1), 4, 0.8)), {})
    assert faster.commit == commit(4) and faster.label is Label.IMPROVEMENT
    [rate] = shifts(PLAN, series(step(noisy(12, 1), 4, 0.8), "loops/s"), {})
    assert rate.label is Label.REGRESSION


@pytest.mark.parametrize("seed", range(10))
def test_pure_noise_gives_no_shift(seed: int) -> None:
    assert shifts(PLAN, series(noisy(12, seed, sigma=0.05)), {}) == []


def test_a_step_within_the_calibrated_threshold_is_not_kept() -> None:
    values = series(step(noisy(12, 2), 6, 1.2))
    assert len(shifts(PLAN, values, {})) == 1
    assert shifts(PLAN, values, {PLAN: 0.3}) == []


def test_two_steps_are_two_shifts() -> None:
    values = step(step(noisy(15, 3), 5, 1.3), 10, 1.3)
    assert [s.index for s in shifts(PLAN, series(values), {})] == [5, 10]


def test_short_or_nonpositive_series_give_nothing() -> None:
    assert shifts(PLAN, series([1e-5, 1e-5, 2e-5]), {}) == []
    assert shifts(PLAN, series([*step(noisy(12, 0), 6, 1.2)[:-1], 0.0]), {}) == []
    assert shifts(PLAN, [], {}) == []


def test_counts_change_between_neighbouring_commits_by_the_count_threshold() -> None:
    counts = [1000.0, 1000.0, 1020.0, 1020.0, 1025.0]
    [found] = shifts(PLAN, series(counts, "instructions"), {})
    assert found.index == 2 and found.ratio == pytest.approx(1.02) and found.weighing is None
    assert shifts(PLAN, series([1000.0, 1009.0], "instructions"), {}) == []


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("length", [3, 8])
def test_a_short_excursion_that_comes_back_is_one_transient(length: int, seed: int) -> None:
    values = step(step(noisy(24, seed), 8, 1.3), 8 + length, 1 / 1.3)
    [found] = shifts(PLAN, series(values), {})
    assert found.label is Label.TRANSIENT and not found.regressed
    assert found.index == 8 and found.end == 8 + length and found.returned == commit(8 + length)
    assert found.ratio == pytest.approx(1.3, rel=0.05) and found.worse


@pytest.mark.parametrize("seed", range(3))
def test_a_lasting_step_is_still_one_regression(seed: int) -> None:
    [found] = shifts(PLAN, series(step(noisy(24, seed), 8, 1.3)), {})
    assert found.label is Label.REGRESSION and found.index == 8 and found.end is None


def test_an_excursion_longer_than_a_few_commits_is_a_regression_and_its_fix() -> None:
    length = TRANSIENT_COMMITS + 2
    values = step(step(noisy(30, 3), 8, 1.3), 8 + length, 1 / 1.3)
    found = shifts(PLAN, series(values), {})
    assert [(s.index, s.label) for s in found] == [
        (8, Label.REGRESSION),
        (8 + length, Label.IMPROVEMENT),
    ]


@pytest.mark.parametrize("seed", range(3))
def test_a_two_point_level_at_either_end_is_no_change(seed: int) -> None:
    assert MIN_EDGE > 2
    start = step(noisy(14, seed), 2, 1 / 1.5)  # the first two values 1.5 times the rest
    assert shifts(PLAN, series(start), {}) == []
    assert shifts(PLAN, series(step(noisy(14, seed), 12, 1.5)), {}) == []
    [late] = shifts(PLAN, series(step(noisy(14, seed), 14 - MIN_EDGE, 1.5)), {})
    assert late.index == 14 - MIN_EDGE and late.label is Label.REGRESSION


def test_a_count_step_at_the_newest_commit_is_shown_at_once() -> None:
    [found] = shifts(PLAN, series([1000.0] * 5 + [1020.0], "instructions"), {})
    assert found.index == 5 and found.label is Label.REGRESSION


def test_the_noise_estimate_ignores_the_step() -> None:
    logs = [math.log(v) for v in step(noisy(40, 4, sigma=0.03), 20, 1.5)]
    assert noise(logs) == pytest.approx(0.03, rel=0.35)


def history(tmp_path: Path, columns: dict[str, list[float]]) -> History:
    n = len(next(iter(columns.values())))
    for i in range(n):
        values: dict[str, list[Value]] = {name: [v[i]] for name, v in columns.items()}
        write_results(tmp_path, "box", commit(i), values, date=i + 1, params=PARAMS)
    found = load_history(tmp_path, "box")
    assert found is not None
    return found


def labels(found: History) -> dict[str, tuple[str, str]]:
    return {s.benchmark: (s.commit, str(s.label)) for s in found.changes()}


def test_a_step_shared_with_the_raw_twin_is_the_machine(tmp_path: Path) -> None:
    found = history(tmp_path, {
        PLAN: step(noisy(12, 5, center=3e-5), 6, 1.25),
        RAW: step(noisy(12, 6), 6, 1.25),
        GET: noisy(12, 7),
        RAW_GET: noisy(12, 8),
    })  # fmt: skip
    assert labels(found) == {
        f"{PLAN}(10)": (commit(6), "machine"),
        f"{RAW}(10)": (commit(6), "machine"),
    }
    assert found.regressions() == []
    [plan] = [s for s in found.changes() if s.benchmark.startswith(PLAN)]
    assert plan.worse and RAW in plan.reason


def test_a_transient_is_listed_but_is_no_regression(tmp_path: Path) -> None:
    dip = step(step(noisy(20, 5, center=3e-5), 8, 1.3), 11, 1 / 1.3)
    found = history(tmp_path, {
        PLAN: dip, RAW: noisy(20, 6), GET: noisy(20, 7), RAW_GET: noisy(20, 8),
    })  # fmt: skip
    assert labels(found) == {f"{PLAN}(10)": (commit(8), "transient")}
    assert found.regressions() == []
    [transient] = found.changes()
    assert transient.as_dict()["returned"] == commit(11) and transient.as_dict()["end"] == 11


STATUS = "raw.RawStatus.time_raw_status"


def test_a_twin_one_commit_apart_counts_a_twin_moving_the_other_way_does_not(
    tmp_path: Path,
) -> None:
    quiet = {GET: noisy(12, 7), RAW_GET: noisy(12, 8), STATUS: noisy(12, 9)}
    apart = history(tmp_path / "apart", {
        PLAN: step(noisy(12, 5, center=3e-5), 6, 1.25), RAW: step(noisy(12, 6), 7, 1.25), **quiet,
    })  # fmt: skip
    assert labels(apart) == {
        f"{PLAN}(10)": (commit(6), "machine"),
        f"{RAW}(10)": (commit(7), "machine"),
    }
    opposite = history(tmp_path / "opposite", {
        PLAN: step(noisy(12, 5, center=3e-5), 6, 1.25), RAW: step(noisy(12, 6), 6, 0.8), **quiet,
    })  # fmt: skip
    assert labels(opposite) == {
        f"{PLAN}(10)": (commit(6), "regression"),
        f"{RAW}(10)": (commit(6), "machine"),
    }


def test_half_of_the_raw_references_moving_makes_every_shift_there_the_machine(
    tmp_path: Path,
) -> None:
    moved = {
        PLAN: step(noisy(12, 5, center=3e-5), 6, 1.25),
        GET: step(noisy(12, 7), 6, 1.3),
        RAW: noisy(12, 6),
        RAW_GET: step(noisy(12, 8), 6, 0.75),  # not GET's direction: the twin rule says nothing
    }
    found = history(tmp_path / "half", moved)
    assert len(found.changes()) == 3 and all(s.label is Label.MACHINE for s in found.changes())
    assert "1 of 2 raw references" in found.changes()[0].reason
    found = history(
        tmp_path / "third", {**moved, STATUS: noisy(12, 9), "raw.R.time_raw_x": noisy(12, 10)}
    )
    assert [s.benchmark for s in found.regressions()] == [f"{GET}(1000)", f"{PLAN}(10)"]
    assert {s.commit for s in found.regressions()} == {commit(6)}


def test_a_raw_step_is_never_a_regression(tmp_path: Path) -> None:
    found = history(tmp_path, {
        PLAN: noisy(12, 5, center=3e-5),
        RAW: step(noisy(12, 6), 6, 1.5),
        GET: noisy(12, 7),
        RAW_GET: noisy(12, 8),
    })  # fmt: skip
    assert labels(found) == {f"{RAW}(10)": (commit(6), "machine")}
    assert found.regressions() == []


def test_calibrated_thresholds_are_read_from_the_repository(tmp_path: Path) -> None:
    history(tmp_path / "results", {PLAN: step(noisy(12, 5, center=3e-5), 6, 1.25)})
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "box.json").write_text(
        '{"thresholds": {"lifecycle.Plan.time_plan(10)": 0.4}}'
    )
    default = load_history(tmp_path / "results", "box")
    calibrated = load_history(tmp_path / "results", "box", root=tmp_path)
    assert default is not None and calibrated is not None
    assert len(default.regressions()) == 1
    assert calibrated.thresholds == {f"{PLAN}(10)": 0.4} and calibrated.regressions() == []
    assert len(calibrated.regressions(thresholds={})) == 1


def test_the_kept_history_shows_the_known_changes() -> None:
    """The history kept in results/: the status fix (count(*) replaced, 969a1fe) and the engine
    tuning (62156e5) are found where they happened; nothing on a raw sqlite3 reference is a
    regression."""
    from tests.support import ROOT

    history = load_history(ROOT / "results", "ref-2core", root=ROOT)
    assert history is not None and len(history.commits) >= 12
    found = {(s.benchmark, s.commit[:7]): s for s in history.changes()}
    status = found[("database.Status.time_status(100000)", "969a1fe")]
    assert status.ratio < 0.2 and status.label is Label.IMPROVEMENT
    tuned = found[("instructions.Instructions.track_instructions('get')", "62156e5")]
    assert tuned.ratio < 0.8 and tuned.label is Label.IMPROVEMENT
    assert not any(s.benchmark.startswith("raw.") for s in history.regressions())
