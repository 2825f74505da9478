"""Fixtures shared by the engine tests: a fresh database per test on every configured backend.

The SQLite backend always runs. The PostgreSQL backend runs when ``TASKORCH_TEST_POSTGRES_URL``
names a server (``scripts/test`` starts one when the PostgreSQL binaries are installed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import taskorch
from taskorch.testing import FakeClock

from .support import BACKENDS, drop_schema, fresh_url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = fresh_url(request.param, tmp_path)
    yield url
    if request.param == "postgresql":
        drop_schema(url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def orch(db_url: str, clock: FakeClock) -> Iterator[taskorch.Orchestrator]:
    with taskorch.open(db_url, clock=clock) as o:
        yield o
