"""The nightly job reads asv's comparison right and exits with the documented status."""

from __future__ import annotations

from perfkit import nightly

# What `asv compare` 0.6.6 prints (tablefmt="github"; column padding shortened).
TABLE = """
| Change | Before [9295de92] <main> | After [f8ccfd06] <demo-slow> | Ratio | Benchmark (Parameter) |
|----------|----------------------------|--------------------------------|---------|-------------------------|
| + | 12.4±0.1μs | 15.1±0.2μs | 1.22 | database.Get.time_get(1000) |
| - | 2.00±0.01ms | 1.50±0.01ms | 0.75 | lifecycle.Plan.time_plan(10) |
| | 100±1μs | 101±1μs | 1.01 | lifecycle.Claim.time_claim |
| | 4.0 | 4.0 | 1.00 | counters.SQLStatements.track_statements('claim') |
| ! | 3.0±0.1μs | failed | n/a | codec.Encode.time_encode |
| | failed | failed | n/a | codec.Decode.time_decode |
| + | 5000 | 6000 | 1.20 | agents.ConcurrentAgents.track_loops_per_second(50) |
| x | 1.0 | 2.0 | 2.00 | memory.ObjectSizes.mem_task |
"""


def test_compare_table_is_read_row_by_row() -> None:
    regressed, improved, broke = nightly.read_compare(TABLE)
    assert [c.benchmark for c in regressed] == ["database.Get.time_get(1000)"]
    assert regressed[0].ratio == "1.22"
    # more loops per second is better: asv's "+" is an improvement there
    assert [c.benchmark for c in improved] == [
        "lifecycle.Plan.time_plan(10)",
        "agents.ConcurrentAgents.track_loops_per_second(50)",
    ]
    assert [c.benchmark for c in broke] == ["codec.Encode.time_encode", "codec.Decode.time_decode"]


def test_exit_status_tells_regressed_from_broke() -> None:
    report = nightly.Report("a", "b", 1.15)
    assert report.status == 0
    report.broke.append(nightly.Change("x", "1", "failed", "n/a"))
    assert report.status == 2
    report.regressed.append(nightly.Change("y", "1", "2", "2.00"))
    assert report.status == 3
    report.broke.clear()
    assert report.status == 1
    assert "REGRESSED" in nightly.summary(report) and "y" in nightly.summary(report)
