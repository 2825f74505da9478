"""Fixtures shared by the engine tests: a fresh database per test on every configured backend.

The SQLite backend always runs. The PostgreSQL backend runs when ``TASKORCH_TEST_POSTGRES_URL``
names a server (``scripts/test`` starts one when the PostgreSQL binaries are installed).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import taskorch
from taskorch.testing import FakeClock

POSTGRES_URL = os.environ.get("TASKORCH_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def fresh_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/taskorch.db"
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"  # one schema per test keeps tests independent
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}schema={schema}"


def drop_schema(url: str) -> None:
    """Drop the per-test schema of a PostgreSQL URL made by :func:`fresh_url`."""
    import psycopg

    base, _, schema = url.rpartition("schema=")
    with psycopg.connect(base.rstrip("?&"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


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


def chain(n: int, specialist: str = "implementer") -> list[dict[str, object]]:
    """n subtasks, each depending on the one before."""
    return [
        {
            "key": f"k{i}",
            "title": f"step {i}",
            "specialist": specialist,
            "description": f"do step {i}",
            "depends_on": [f"k{i - 1}"] if i else [],
        }
        for i in range(n)
    ]
