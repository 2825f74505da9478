"""pytest-benchmark over the shared workloads.

``pytest tests/performance/ -v --benchmark-only`` times every workload over its whole parameter
grid. In a plain ``pytest`` run the benchmarks are disabled (each step runs once, as a smoke
test) and only the first parameters of each workload run, so the suite stays quick; pass
``--benchmark-enable`` to time them there too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def timing(pytestconfig: pytest.Config) -> bool:
    """Whether this run times the benchmarks (``--benchmark-only`` or ``--benchmark-enable``)."""
    return bool(
        pytestconfig.getoption("benchmark_only") or pytestconfig.getoption("benchmark_enable")
    )


@pytest.fixture(autouse=True)
def smoke_unless_timing(request: pytest.FixtureRequest, timing: bool) -> None:
    if timing or "benchmark" not in request.fixturenames:
        return
    bench = request.getfixturevalue("benchmark")
    bench.disabled = True  # run once, untimed


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One folder for the prebuilt stores, shared by the read benchmarks of the session."""
    yield tmp_path_factory.mktemp("stores")


@pytest.fixture(scope="session")
def pg_prefix() -> Iterator[str]:
    """One schema prefix for the PostgreSQL workloads of the session (their shared stores are
    built once under it); every schema of it is dropped at the end."""
    from perfkit.harness import postgres

    prefix = postgres.run_prefix()
    yield prefix
    url = postgres.server_url()
    if url and postgres.driver_problem() is None:
        postgres.drop_schemas(url, prefix)
