"""psycopg's exceptions turned into taskorch's, at the store boundary.

Lock conflicts (a row lock held past ``busy_timeout``, a deadlock, a serialization failure) become
:class:`~taskorch.DatabaseLockedError`; a pool with no free connection,
:class:`~taskorch.PoolTimeoutError`; a lost or refused connection, a retryable
:class:`~taskorch.StorageError`. An operation that is not inside a caller's transaction is retried
a few times after a deadlock: PostgreSQL rolled it back whole, so running it again is safe. A
statement cancelled by ``statement_timeout`` is a retryable :class:`~taskorch.StorageError`
naming the option.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeAlias, TypeVar

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout

from ..errors import DatabaseLockedError, PoolTimeoutError, StorageError
from .postgres_options import Options

Conn: TypeAlias = psycopg.Connection[tuple[Any, ...]]


class Translatable(Protocol):
    """What :func:`translated` reads of the store whose methods it wraps."""

    options: Options

    @property
    def in_transaction(self) -> bool: ...

    def describe(self) -> str: ...


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=Translatable)

# Conflicts that PostgreSQL resolves by aborting one transaction: safe to run the operation again.
RETRYABLE = (pg.DeadlockDetected, pg.SerializationFailure)
ATTEMPTS = 3


def translated(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[S, P], R]:
    """Turn psycopg's exceptions into taskorch's; retry an operation that lost a deadlock."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        attempts = 1 if self.in_transaction else ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                return method(self, *args, **kwargs)
            except RETRYABLE as exc:
                if attempt == attempts:
                    raise translate(exc, self.describe(), self.options) from exc
            except psycopg.Error as exc:
                raise translate(exc, self.describe(), self.options) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


def translate(exc: psycopg.Error, where: str, options: Options) -> StorageError:
    """The taskorch error for a psycopg error raised while working on the database ``where``
    describes, with the limits of ``options``."""
    if isinstance(exc, PoolTimeout):
        return PoolTimeoutError(
            f"{where}: no database connection became free within {options.pool_timeout:g}s"
            f" (pool_size={options.pool_size}, all in use by other threads); raise ?pool_size="
            " (within the server's max_connections) or ?pool_timeout= in the URL, or run fewer"
            " threads per process"
        )
    if isinstance(exc, pg.LockNotAvailable):
        return DatabaseLockedError(
            f"{where}: a row stayed locked by another transaction for longer than"
            f" busy_timeout={options.busy_timeout:g}s ({exc.diag.message_primary}); retry later,"
            " or raise ?busy_timeout= in the URL"
        )
    if isinstance(exc, RETRYABLE):
        return DatabaseLockedError(
            f"{where}: the transaction conflicted with another one and was rolled back"
            f" ({exc.diag.message_primary}); retry it"
        )
    if isinstance(exc, pg.QueryCanceled):  # SQLSTATE 57014: statement_timeout ran out
        return _retryable(
            f"{where}: a statement ran longer than"
            f" statement_timeout={options.statement_timeout:g}s and was cancelled"
            f" ({_message(exc)}); the transaction was rolled back, so retry it, or raise"
            " ?statement_timeout= in the URL (0: no limit)"
        )
    if _connection_lost(exc):
        return _retryable(
            f"{where}: the connection to the server was lost ({_message(exc)}); an operation"
            " that writes may or may not have been applied, so read the task before retrying it"
        )
    return _generic(exc, where)


def connect_error(exc: psycopg.Error, where: str) -> StorageError:
    """The taskorch error for a failure while connecting or creating the schema."""
    if isinstance(exc, pg.InsufficientPrivilege):
        return StorageError(
            f"{where}: not allowed to create taskorch's tables ({exc.diag.message_primary});"
            " grant CREATE on the database, or point ?schema= at a schema you own"
        )
    return _generic(exc, where)


def _generic(exc: psycopg.Error, where: str) -> StorageError:
    message = _message(exc)
    if isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None:
        return _retryable(  # the server may come back
            f"cannot reach {where}: {message}; check that the server is running and the URL"
            " (host, port, user, password, database) is right"
        )
    if isinstance(exc, pg.TooManyConnections):
        return _retryable(
            f"{where}: the server refuses more connections ({message}); lower ?pool_size= or"
            " raise the server's max_connections"
        )
    return StorageError(f"{where}: {message}")


def _connection_lost(exc: psycopg.Error) -> bool:
    """A broken connection (class 08), or the server shutting down or ending the session."""
    state = exc.sqlstate
    if state is None:
        return isinstance(exc, psycopg.OperationalError)
    return state.startswith("08") or state in ("57P01", "57P02", "57P03")


def _retryable(message: str) -> StorageError:
    error = StorageError(message)
    error.retryable = True
    return error


def _message(exc: psycopg.Error) -> str:
    return str(exc).strip()
