"""The one formatter every report of the toolkit writes its values with."""

from __future__ import annotations

import math

import pytest

from perfkit.kit.numbers import amount


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.5e-5, "seconds", "15 µs"),
        (4.96e-5, "seconds", "49.6 µs"),
        (0.0123, "seconds", "12.3 ms"),
        (2.5, "seconds", "2.5 s"),
        (3e-10, "seconds", "0.3 ns"),
        (16_380_000, "bytes", "15.6 MiB"),
        (512, "bytes", "512 B"),
        (133_621.675, "instructions", "133,622 instructions"),
        (5541.03, "loops/s", "5,541 loops/s"),
        (0.97721, "", "0.9772"),
        (12.5, "ms", "12.5 ms"),
        (3, "agents", "3 agents"),
        (None, "seconds", "—"),
        (math.nan, "bytes", "n/a"),
        (math.inf, "ms", "inf ms"),
        ([1.5, None], "", "[1.5, —]"),
        ("n/a here", "", "n/a here"),
        (True, "", "True"),
    ],
)
def test_a_value_is_written_one_way_everywhere(value: object, unit: str, text: str) -> None:
    assert amount(value, unit) == text
