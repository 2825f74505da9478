"""Every shared workload, timed by pytest-benchmark (the same definitions asv times).

Each benchmark's group pairs a taskorch operation with its raw sqlite3 reference, so
``--benchmark-only`` prints them side by side.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from perfkit.workloads import WORKLOADS, references

GROUP = {**{raw: ours for ours, raw in references().items()}, **{o: o for o in references()}}
STORED = {"get", "status", "ready_query"}  # read a prebuilt store: share it across the session


def cases() -> list[Any]:
    out = []
    for name, workload in sorted(WORKLOADS.items()):
        keys = sorted(workload.params)
        grid = itertools.product(*(workload.params[k] for k in keys))
        for i, values in enumerate(grid):
            params = dict(zip(keys, values, strict=True))
            label = ",".join(f"{k}={v}" for k, v in params.items())
            out.append(pytest.param(name, params, i == 0, id=f"{name}[{label}]" if label else name))
    return out


@pytest.mark.parametrize(("name", "params", "first"), cases())
def test_workload(
    benchmark: Any,
    timing: bool,
    name: str,
    params: dict[str, Any],
    first: bool,
    tmp_path: Path,
    store_dir: Path,
) -> None:
    if not first and not timing:
        pytest.skip("the full parameter grid runs with --benchmark-only")
    benchmark.group = GROUP.get(name, name) + "".join(f" {k}={v}" for k, v in params.items())
    benchmark.extra_info.update(params)
    directory = store_dir if name in STORED else tmp_path
    with WORKLOADS[name].session(directory, **params) as step:
        benchmark(step)
