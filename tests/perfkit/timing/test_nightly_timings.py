"""Which timings the nightly job weighs on the reference machine, and with what thresholds."""

from __future__ import annotations

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
