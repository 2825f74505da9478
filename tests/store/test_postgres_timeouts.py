"""Every network wait of the PostgreSQL backend has a bound by default; no server needed: a socket
that accepts connections and never answers stands in for a hung one."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

import taskorch

psycopg = pytest.importorskip("psycopg")

from taskorch.store.postgres_options import parse_url  # noqa: E402  (needs psycopg)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port whose listener accepts every connection and never sends a byte."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()
    for conn in accepted:
        conn.close()


def test_opening_a_hung_server_fails_within_connect_timeout(silent_server: int) -> None:
    url = f"postgresql://nobody@127.0.0.1:{silent_server}/db"
    started = time.monotonic()
    with pytest.raises(taskorch.StorageError, match="cannot reach") as info:
        taskorch.open(url, pool_timeout=2, connect_timeout=2)
    assert time.monotonic() - started < 8
    assert info.value.retryable
    started = time.monotonic()
    with pytest.raises(taskorch.StorageError, match="timeout"):
        taskorch.open(f"{url}?connect_timeout=2&pool_timeout=2")
    assert time.monotonic() - started < 8


def test_every_wait_has_a_bound_by_default() -> None:
    conninfo, options = parse_url("postgresql://u@db.example/x", {})
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    assert params["connect_timeout"] == "10"
    assert params["keepalives"] == "1" and int(params["keepalives_idle"]) <= 60
    settings = options.settings()
    assert settings["statement_timeout"] == "60000ms" and settings["lock_timeout"] == "5000ms"
    assert options.pool_timeout == 30


def test_the_bounds_are_options_of_the_url_and_of_open() -> None:
    conninfo, options = parse_url(
        "postgresql://u@h/x?connect_timeout=3.5&statement_timeout=0.25&keepalives_idle=5", {}
    )
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    assert params["connect_timeout"] == "4" and params["keepalives_idle"] == "5"
    assert options.settings()["statement_timeout"] == "250ms"
    _, options = parse_url("postgresql://u@h/x?statement_timeout=1", {"statement_timeout": 0})
    assert options.settings()["statement_timeout"] == "0ms"  # 0: no limit, said explicitly


def test_a_short_statement_timeout_is_never_zero() -> None:
    # "0ms" would mean no limit at all; the shortest limit is 1 ms, as for lock_timeout.
    _, options = parse_url("postgresql://u@h/x?statement_timeout=0.0004", {})
    assert options.settings()["statement_timeout"] == "1ms"


@pytest.mark.parametrize("name", ["busy_timeout", "statement_timeout"])
def test_timeouts_fit_the_servers_millisecond_int(name: str) -> None:
    _, options = parse_url(f"postgresql://u@h/x?{name}=2147483", {})
    assert max(int(v[:-2]) for v in options.settings().values() if v.endswith("ms")) < 2**31
    with pytest.raises(taskorch.InvalidArgumentError) as caught:
        parse_url(f"postgresql://u@h/x?{name}=2147484", {})
    assert caught.value.argument == name


def test_a_statement_timeout_is_a_retryable_error_naming_the_option() -> None:
    from psycopg import errors as pg

    from taskorch.store.postgres_errors import translate

    _, options = parse_url("postgresql://u@h/x?statement_timeout=2.5", {})
    error = translate(
        pg.QueryCanceled("canceling statement due to statement timeout"), "fake", options
    )
    assert type(error) is taskorch.StorageError and error.retryable
    assert "statement_timeout=2.5s" in str(error), error
