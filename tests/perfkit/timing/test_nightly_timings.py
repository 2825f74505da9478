"""Which timings the nightly job weighs on the reference machine, and with what thresholds."""

from __future__ import annotations

import json

from perfkit.timing.timings import nightly_benchmarks
from perfkit.verdict.calibration_data import load_thresholds
from perfkit.verdict.history import calibration_file
from tests.support import ROOT

POSTGRES = r"^(postgres\.|raw\.RawPg)"


def test_the_postgresql_fleets_are_left_to_the_history_and_the_rest_weighed() -> None:
    weighed = {b.name for b in nightly_benchmarks(ROOT, POSTGRES)}
    assert not [n for n in weighed if "Fleet" in n]
    assert {"postgres.PgReadyQuery.time_pg_ready_query(10000)",
            "raw.RawPgReadyQuery.time_raw_pg_ready_query(10000)",
            "postgres.PgPool.time_pg_pool(4)"} <= weighed  # fmt: skip


def test_every_postgresql_timing_weighed_has_a_calibrated_threshold() -> None:
    # Without one a timing is weighed against the default 5 %, which the calibration found
    # too tight or too loose for most of them: the night ends inconclusive, or misjudges.
    thresholds = load_thresholds(calibration_file(ROOT, "ref-2core"))
    weighed = [b.name for b in nightly_benchmarks(ROOT, POSTGRES)]
    assert len(weighed) == 14
    assert [n for n in weighed if n not in thresholds] == []


def test_the_reference_calibration_leaves_to_the_history_what_a_night_cannot_judge() -> None:
    """Every timing the file leaves to the history says why, and needs a threshold above the
    cap or catches a 10 % slowdown too rarely; every other is judged within the cap, often
    enough, and no tighter than the night resolves."""
    from perfkit.timing.calibration import CAP, POWER

    data = json.loads(calibration_file(ROOT, "ref-2core").read_text())
    left, thresholds = data["history_only"], data["thresholds"]
    assert left and all(left.values())
    for name, threshold in thresholds.items():
        beyond = threshold > CAP or data["power_10"][name] < POWER
        assert beyond == (name in left), name
        assert threshold >= data["resolvable"][name] and threshold >= data["false_alarms"][name]
