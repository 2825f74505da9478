"""Options of the PostgreSQL backend: taskorch's own, parsed out of the URL before libpq sees it."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import parse_qsl, urlencode

import psycopg
from psycopg import sql

from .. import checks
from ..errors import ConfigurationError

# durability → synchronous_commit. The server is another process, so a crash of the client never
# loses a commit: "normal" and "full" both wait for the WAL flush; "off" does not, and a crash of
# the server may lose the last transactions (never corrupt the database).
DURABILITY = {"normal": "on", "full": "on", "off": "off"}


#: TCP keepalives unless the URL sets them: a connection whose server vanished (a cable, a
#: crashed host) is noticed in about a minute instead of the kernel's two hours.
KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}


@dataclass(frozen=True, slots=True)
class Options:
    """taskorch's own settings for a PostgreSQL store (from the URL's query or keywords).

    Every wait on the network has a bound: ``connect_timeout`` for opening a connection (the
    server's handshake included), ``pool_timeout`` for a free pooled connection, ``busy_timeout``
    for a row lock and ``statement_timeout`` for any one statement (0: none).
    """

    schema: str = "taskorch"
    pool_size: int = 10
    pool_timeout: float = 30.0
    busy_timeout: float = 5.0
    durability: str | None = None  # None: the server's synchronous_commit
    connect_timeout: float = 10.0
    statement_timeout: float = 60.0

    def settings(self) -> dict[str, str]:
        """Server settings for every connection, sent when it opens (no extra round trip)."""
        settings = {
            "search_path": sql.Identifier(self.schema).as_string(None),
            # A writer waits this long for a row lock, then gets DatabaseLockedError
            # (0 means "forever" to PostgreSQL, so the shortest wait is 1 ms).
            "lock_timeout": f"{max(1, self._ms(self.busy_timeout))}ms",
            # 0 is "no limit"; any other value keeps at least 1 ms, lest rounding make it 0.
            "statement_timeout": f"{self._ms(self.statement_timeout)}ms",
        }
        if self.durability is not None:
            settings["synchronous_commit"] = DURABILITY[self.durability]
        return settings

    @staticmethod
    def _ms(seconds: float) -> int:
        return max(1, round(seconds * 1000)) if seconds else 0

    def libpq_timeout(self) -> str:
        """``connect_timeout`` as libpq takes it: whole seconds (libpq waits at least 2)."""
        return str(max(2, math.ceil(self.connect_timeout)))


def parse_url(url: str, keywords: dict[str, Any]) -> tuple[str, Options]:
    """Split taskorch's options from a PostgreSQL URL (keywords win over the URL's query);
    returns the libpq connection string and the options, checked."""
    rest = url.partition("://")[2]  # postgres://, postgresql+psycopg://: libpq wants one
    rest, _, query = rest.partition("?")
    # libpq refuses query parameters it does not know, so taskorch's are taken out first.
    pairs = parse_qsl(query, keep_blank_values=True)
    ours = {k: v for k, v in pairs if k in OPTION_NAMES}
    libpq_query = urlencode([(k, v) for k, v in pairs if k not in OPTION_NAMES])
    try:
        params = psycopg.conninfo.conninfo_to_dict(
            f"postgresql://{rest}" + (f"?{libpq_query}" if libpq_query else "")
        )
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(f"bad PostgreSQL URL {url!r}: {exc}") from exc
    unknown = set(keywords) - OPTION_NAMES
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {sorted(unknown)} for PostgreSQL; use: {sorted(OPTION_NAMES)}"
        )
    given: dict[str, Any] = {**ours, **{k: v for k, v in keywords.items() if v is not None}}
    options = Options(**{k: checks.store_option(k, v) for k, v in given.items()})
    params["connect_timeout"] = options.libpq_timeout()
    for name, value in KEEPALIVES.items():
        params.setdefault(name, value)
    return psycopg.conninfo.make_conninfo("", **params), options


OPTION_NAMES = frozenset(f.name for f in fields(Options))


def describe(conninfo: str, schema: str) -> str:
    """Where the data lives, for messages: host, port, database and schema (no password)."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    return f"postgresql://{host}:{port}/{params.get('dbname') or ''} (schema {schema!r})"
