"""Timing trials: processes alternated between the two commits, more measured while the answer
is unknown, a skipped benchmark said so; and real benchmark processes of this repository run
through asv's runner with a worktree as the engine."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from perfkit.timing.trials import (
    Benchmark,
    Runner,
    Side,
    can_still_answer,
    process_value,
    sides,
    skip_reason,
    timed_benchmarks,
    trial,
)
from perfkit.verdict.regression import Answer, weigh
from tests.support import ROOT

CLAIM = Benchmark("lifecycle.Claim.time_claim", "lifecycle.Claim.time_claim", "seconds")


class Scripted(Runner):
    """Hands out each side's values in turn and records the order the sides ran in."""

    def __init__(self, values: dict[str, list[float]]) -> None:
        self.values = {k: list(v) for k, v in values.items()}
        self.order: list[str] = []

    def once(self, side: Side, benchmark: Benchmark) -> float:
        self.order.append(side.commit)
        return self.values[side.commit].pop(0)


def side(commit: str) -> Side:
    return Side(commit, Path("/nonexistent"), Path("/nonexistent"))


QUIET = [1.0, 1.001, 0.999, 1.0005, 0.9995, 1.0, 1.001, 0.999] * 3
NOISY = [1.0, 1.3, 0.8, 1.2, 0.9, 1.4, 0.7, 1.1] * 3


def test_the_commits_run_in_turns_abba() -> None:
    runner = Scripted({"a": QUIET, "b": QUIET})
    trial(runner, CLAIM, side("a"), side("b"), {}, first=4, most=4)
    assert runner.order == ["a", "b", "b", "a", "a", "b", "b", "a"]


def test_a_clear_answer_stops_at_the_first_weighing() -> None:
    runner = Scripted({"a": QUIET, "b": [v * 1.2 for v in QUIET]})
    found = trial(runner, CLAIM, side("a"), side("b"), {}, first=8, most=16)
    assert found.answer is Answer.DIFFERENT and len(found.before) == len(found.after) == 8


SPREAD = [1.0, 1.04, 0.96, 1.03, 0.97, 1.05, 0.95, 1.02] * 3


def shifted(values: list[float], factor: float) -> list[float]:
    return [v * factor for v in values[3:] + values[:3]]


def test_an_unknown_answer_measures_more_while_more_could_settle_it() -> None:
    settles = trial(Scripted({"a": SPREAD, "b": shifted(SPREAD, 1.01)}), CLAIM, side("a"),
                    side("b"), {}, first=8, most=16)  # fmt: skip
    assert settles.answer is Answer.SAME and len(settles.before) == len(settles.after) == 12
    found = trial(Scripted({"a": SPREAD, "b": shifted(SPREAD, 1.03)}), CLAIM, side("a"),
                  side("b"), {}, first=8, most=16)  # fmt: skip
    assert found.answer is Answer.UNKNOWN and len(found.before) == len(found.after) == 16
    assert found.note == ""


def test_a_trial_more_processes_could_not_settle_stops_saying_so() -> None:
    """Processes 30 % apart against a 5 % threshold: 16 a side could show neither "the same"
    nor "different", so the trial stops at its first weighing, inconclusive."""
    runner = Scripted({"a": NOISY, "b": [v * 1.05 for v in NOISY]})
    found = trial(runner, CLAIM, side("a"), side("b"), {}, first=8, most=16)
    assert found.answer is Answer.UNKNOWN and len(found.before) == len(found.after) == 8
    assert found.note == "stopped at 8 processes a side: 16 could no longer make it conclusive"


def test_what_could_still_answer() -> None:
    near = weigh(SPREAD[:8], shifted(SPREAD, 1.02)[:8], 0.05)
    assert near.answer is Answer.UNKNOWN and can_still_answer(near, 16)
    assert not can_still_answer(near, 8)  # already at the most
    wide = weigh(NOISY[:8], [v * 1.05 for v in NOISY[:8]], 0.05)
    assert not can_still_answer(wide, 16)
    # a large move that is not yet significant can still become different
    big = weigh(NOISY[:8], [v * 1.4 for v in NOISY[:8]], 0.05)
    assert big.answer is Answer.UNKNOWN and can_still_answer(big, 16)


def test_the_benchmarks_threshold_is_used() -> None:
    slower = [v * 1.06 for v in QUIET]
    loose = trial(Scripted({"a": QUIET, "b": slower}), CLAIM, side("a"), side("b"),
                  {CLAIM.name: 0.10}, first=8, most=8)  # fmt: skip
    tight = trial(Scripted({"a": QUIET, "b": slower}), CLAIM, side("a"), side("b"), {},
                  first=8, most=8)  # fmt: skip
    assert loose.answer is not Answer.DIFFERENT and tight.answer is Answer.DIFFERENT


def test_a_benchmark_skipped_on_one_commit_is_said_so_after_one_turn() -> None:
    runner = Scripted({"a": [math.nan] * 8, "b": QUIET})
    found = trial(runner, CLAIM, side("a"), side("b"), {})
    assert found.weighing is None and found.skipped == "skipped before"
    assert len(runner.order) == 2


def test_a_benchmark_skipped_on_both_commits_says_why() -> None:
    """The reason a skipped process printed (asv's runner prints its NotImplementedError) is
    carried into the trial: a PostgreSQL benchmark with no server at either commit is skipped
    for that reason, not broken."""
    why = "no PostgreSQL server: set TASKORCH_BENCH_POSTGRES_URL, or install 'postgresql'"
    printed = f"some output\nasv: skipped: NotImplementedError({why!r}) \n"

    class Skipping(Scripted):
        def once(self, side: Side, benchmark: Benchmark) -> float:
            self.skips = {(side.commit, benchmark.name): skip_reason(printed)}
            return super().once(side, benchmark)

    runner = Skipping({"a": [math.nan], "b": [math.nan]})
    found = trial(runner, CLAIM, side("a"), side("b"), {})
    assert found.weighing is None and not found.failed
    assert found.skipped == f"skipped on both commits: {why}"


def test_the_skip_reason_is_read_from_what_the_runner_printed() -> None:
    assert skip_reason("asv: skipped: NotImplementedError('no server') ") == "no server"
    assert skip_reason('x\nasv: skipped: SkipNotImplemented("it\'s off")\ny') == "it's off"
    assert skip_reason("asv: skipped: NotImplementedError() ") == ""
    assert skip_reason("nothing skipped here") == ""


def test_bad_process_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="first"):
        trial(Scripted({}), CLAIM, side("a"), side("b"), {}, first=1, most=4)


def test_a_process_value_is_the_fast_end_of_its_samples() -> None:
    # A stretch of slow samples (the machine busy elsewhere) does not move it; a slower call does.
    quiet = [10.0 + i / 100 for i in range(100)]
    interrupted = quiet[:40] + [15.0] * 60
    assert process_value({"samples": quiet}) == pytest.approx(10.0495)
    fast_part = process_value({"samples": quiet[:40]})
    assert process_value({"samples": interrupted}) == pytest.approx(fast_part, rel=0.01)
    assert process_value({"samples": [x * 1.1 for x in quiet]}) == pytest.approx(1.1 * 10.0495)
    assert process_value({"samples": [3.0], "number": 1}) == 3.0
    assert process_value(5.5) == 5.5
    assert math.isnan(process_value(None)) and math.isnan(process_value({"samples": []}))


def test_the_timed_benchmarks_are_those_asv_discovered() -> None:
    found = {b.name: b for b in timed_benchmarks(ROOT)}
    assert found[CLAIM.name] == CLAIM
    get = found["database.Get.time_get(100000)"]
    assert get.id == "database.Get.time_get-1" and get.setup_cache_key is not None
    assert not any("track_" in name for name in found)
    assert [b.name for b in timed_benchmarks(ROOT, r"time_plan\(1\)")] == [
        "lifecycle.Plan.time_plan(1)"
    ]


def test_real_processes_of_two_worktrees() -> None:
    """Two processes a side of a real benchmark, through asv's runner, this interpreter, and a
    worktree of HEAD as each side's engine."""
    runner = Runner(ROOT, Path(sys.executable))
    with sides(ROOT, "HEAD", "HEAD") as (before, after):
        assert (before.engine / "taskorch" / "__init__.py").is_file()
        found = trial(runner, CLAIM, before, after, {}, first=2, most=2)
    assert len(found.before) == len(found.after) == 2
    assert all(1e-7 < v < 1e-2 for v in (*found.before, *found.after))
    assert found.weighing is not None and not before.engine.exists()


def test_each_side_runs_its_own_engine(tmp_path: Path) -> None:
    """A side whose engine is no engine at all (its taskorch cannot be imported) is skipped
    there, while a real worktree on the other side measures: each process imports the engine of
    its side, not the one the environment or this checkout holds."""
    broken = tmp_path / "engine" / "taskorch"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('not an engine')\n")
    runner = Runner(ROOT, Path(sys.executable))
    with sides(ROOT, "HEAD") as (good,):
        bad = Side("broken", tmp_path / "engine", tmp_path)
        found = trial(runner, CLAIM, good, bad, {}, first=2, most=2)
    assert found.weighing is None
    assert found.skipped.startswith("skipped after: taskorch is not importable here")
    assert len(found.before) == 1 and 1e-7 < found.before[0] < 1e-2
