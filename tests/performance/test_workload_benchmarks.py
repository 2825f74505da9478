"""Every shared workload, timed by pytest-benchmark (the same definitions asv times).

Each benchmark's group pairs a taskorch operation with its raw reference (sqlite3, or psycopg for
the PostgreSQL workloads), so ``--benchmark-only`` prints them side by side. The PostgreSQL
workloads run on the server the environment names (``TASKORCH_TEST_POSTGRES_URL``, which
``scripts/test`` sets), and are skipped, saying why, without one.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from perfkit.workloads import WORKLOADS, Workload
from perfkit.workloads.pg_workloads import WORKLOADS as PG_WORKLOADS
from perfkit.workloads.references import references

GROUP = {**{raw: ours for ours, raw in references().items()}, **{o: o for o in references()}}
STORED = {"get", "status", "ready_query"}  # read a prebuilt store: share it across the session
EVERY: dict[str, Workload] = {**WORKLOADS, **PG_WORKLOADS}


def cases() -> list[Any]:
    out = []
    for name, workload in sorted(EVERY.items()):
        keys = sorted(workload.params)
        grid = itertools.product(*(workload.params[k] for k in keys))
        for i, values in enumerate(grid):
            params = dict(zip(keys, values, strict=True))
            label = ",".join(f"{k}={v}" for k, v in params.items())
            out.append(pytest.param(name, params, i == 0, id=f"{name}[{label}]" if label else name))
    return out


@pytest.mark.parametrize(("name", "params", "first"), cases())
def test_workload(
    request: pytest.FixtureRequest,
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
    if name in PG_WORKLOADS:  # the stores of the read workloads are built once a session
        params = {**params, "prefix": request.getfixturevalue("pg_prefix")}
    try:
        session = EVERY[name].session(directory, **params)
        step = session.__enter__()
    except NotImplementedError as exc:
        pytest.skip(str(exc))
    try:
        benchmark(step)
    finally:
        session.__exit__(None, None, None)
