"""The run's PostgreSQL server and its watchdog: once the run's folder is gone, the throw-away
server is stopped and deleted, and on a server the user named the run's schemas are dropped."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from perfkit.harness import pg_server, postgres
from tests.support import POSTGRES_URL

psycopg = pytest.importorskip("psycopg")


def eventually(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def schemas(url: str, prefix: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
        ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.skipif(not POSTGRES_URL, reason="set TASKORCH_TEST_POSTGRES_URL")
def test_on_a_named_server_the_runs_schemas_are_dropped_after_the_run(tmp_path: Path) -> None:
    assert POSTGRES_URL
    marker, prefix = tmp_path / "run", postgres.run_prefix()
    marker.mkdir()
    server = pg_server.start_watched(marker, os.getpid(), POSTGRES_URL, prefix)
    assert server.url == POSTGRES_URL and server.folder is None
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for name in ("a", "b"):
            conn.execute(f'CREATE SCHEMA "{prefix}{name}"')
        conn.execute('CREATE SCHEMA IF NOT EXISTS "bench_other_keep"')
    time.sleep(1.5)  # the watchdog waits while the run's folder exists
    assert len(schemas(POSTGRES_URL, prefix)) == 2
    marker.rmdir()
    assert eventually(lambda: schemas(POSTGRES_URL, prefix) == [])
    assert schemas(POSTGRES_URL, "bench_other_keep") == ["bench_other_keep"]
    postgres.drop_schema(POSTGRES_URL, "bench_other_keep")


@pytest.mark.skipif(
    pg_server.binaries_problem() is not None, reason="no PostgreSQL server binaries"
)
def test_a_throw_away_server_is_stopped_and_deleted_after_the_run(tmp_path: Path) -> None:
    marker = tmp_path / "run"
    marker.mkdir()
    server = pg_server.start_watched(marker, os.getpid(), None, postgres.run_prefix())
    assert server.folder is not None and server.folder.is_dir()
    with psycopg.connect(server.url, autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    marker.rmdir()
    assert eventually(lambda: not server.folder.exists())  # type: ignore[union-attr]
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)


@pytest.mark.skipif(
    pg_server.binaries_problem() is not None, reason="no PostgreSQL server binaries"
)
def test_a_night_without_a_named_server_starts_one_and_stops_it_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (postgres.ENV_URL, postgres.ENV_TEST_URL, postgres.ENV_SWITCH):
        monkeypatch.delenv(name, raising=False)
    # ended by an interrupt: stopped all the same
    with pytest.raises(KeyboardInterrupt), pg_server.for_the_night() as server:
        assert server.url is not None and "throw-away server" in server.said
        with psycopg.connect(server.url, autocommit=True, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        raise KeyboardInterrupt
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)


def test_a_night_uses_the_server_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(postgres.ENV_SWITCH, raising=False)
    monkeypatch.setenv(postgres.ENV_URL, "postgresql://u:secret@db.example:5432/bench")
    with pg_server.for_the_night() as server:
        assert server.url == "postgresql://u:secret@db.example:5432/bench"
        assert "$TASKORCH_BENCH_POSTGRES_URL" in server.said and "secret" not in server.said
    monkeypatch.setenv(postgres.ENV_SWITCH, "no")
    with pg_server.for_the_night() as server:
        assert server.url is None and "TASKORCH_BENCH_POSTGRES=no" in server.said
