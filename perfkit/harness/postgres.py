"""PostgreSQL for measurements: which server, and a schema of one's own on it.

The server is, in this order: ``$TASKORCH_BENCH_POSTGRES_URL``; ``$TASKORCH_TEST_POSTGRES_URL``
(the tests' server, which ``scripts/test`` starts); none when ``$TASKORCH_BENCH_POSTGRES`` is
``no`` (``yes``: a harness must fail rather than skip without a server). A harness that may
start a throw-away server of its own (the asv suite) does so with
:mod:`perfkit.harness.pg_server` when none of these names one.

Every measurement works in a schema it created (:func:`new_schema`), never in a user's data, and
drops it afterwards (:func:`drop_schema`); schemas share a prefix per run, so that what a killed
run left can be dropped by prefix (:func:`drop_schemas`). psycopg is imported only when a
server is used, so that this module loads where the driver is missing.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

__all__ = [
    "ENV_SWITCH",
    "ENV_URL",
    "driver_problem",
    "drop_schema",
    "drop_schemas",
    "new_schema",
    "required",
    "run_prefix",
    "server_url",
    "switched_off",
    "with_schema",
]

ENV_URL = "TASKORCH_BENCH_POSTGRES_URL"
ENV_TEST_URL = "TASKORCH_TEST_POSTGRES_URL"
ENV_SWITCH = "TASKORCH_BENCH_POSTGRES"  # "no": never use PostgreSQL for measurements
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def switched_off() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() in ("no", "0", "off", "false")


def required() -> bool:
    """``$TASKORCH_BENCH_POSTGRES`` is ``yes``: a missing server is an error, not a skip."""
    return os.environ.get(ENV_SWITCH, "").strip().lower() in ("yes", "1", "on", "true")


def server_url() -> str | None:
    """The server the environment names (see the module's docstring), else None."""
    if switched_off():
        return None
    return os.environ.get(ENV_URL) or os.environ.get(ENV_TEST_URL) or None


def driver_problem() -> str | None:
    """Why psycopg cannot be used here (None: it can)."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        return f"psycopg is not installed ({exc}): pip install 'taskorch[postgres]'"
    return None


def run_prefix() -> str:
    """A fresh schema prefix for one run: ``bench_`` and 8 hex digits, then ``_``."""
    return f"bench_{uuid.uuid4().hex[:8]}_"


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a plain PostgreSQL schema name: {name!r} (a-z, 0-9, _)")
    return name


def with_schema(url: str, schema: str, **options: Any) -> str:
    """``url`` with taskorch's ``schema`` option (and any other store ``options``) added."""
    query = "&".join(f"{k}={v}" for k, v in {"schema": _checked(schema), **options}.items())
    return f"{url}{'&' if '?' in url else '?'}{query}"


def new_schema(prefix: str, name: str) -> str:
    """A schema name nobody uses yet: ``prefix``, ``name`` and a random suffix (created by
    whoever opens it: taskorch creates its own, a raw reference issues CREATE SCHEMA)."""
    return _checked(f"{prefix}{name}_{uuid.uuid4().hex[:6]}")


def _conninfo(url: str) -> str:
    """``url`` without taskorch's own options (libpq refuses them)."""
    from urllib.parse import parse_qsl, urlencode

    base, _, query = url.partition("?")
    ours = {"schema", "pool_size", "pool_timeout", "busy_timeout", "durability",
            "connect_timeout", "statement_timeout"}  # fmt: skip
    rest = [(k, v) for k, v in parse_qsl(query) if k not in ours]
    return f"{base}?{urlencode(rest)}" if rest else base


def drop_schema(url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it, if it exists."""
    import psycopg

    with psycopg.connect(_conninfo(url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{_checked(schema)}" CASCADE')


def drop_schemas(url: str, prefix: str) -> list[str]:
    """Drop every schema whose name starts with ``prefix`` (one run's); the names dropped."""
    import psycopg

    _checked(prefix)
    with psycopg.connect(_conninfo(url), autocommit=True, connect_timeout=10) as conn:
        names = [
            str(row[0])
            for row in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
            )
        ]
        for name in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{_checked(name)}" CASCADE')
    return names
