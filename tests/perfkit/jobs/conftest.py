"""The nightly job's tests run no PostgreSQL server of their own: the night's server is a
stand-in that names none (tests/perfkit/harness/test_pg_server.py starts real ones)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from perfkit.harness.pg_server import NightServer
from perfkit.jobs import nightly


@contextmanager
def no_server() -> Iterator[NightServer]:
    yield NightServer(None, "none: the tests' stand-in")


@pytest.fixture(autouse=True)
def _no_night_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nightly, "for_the_night", no_server)
