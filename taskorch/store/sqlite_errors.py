"""sqlite3's exceptions turned into taskorch's, at the store boundary.

A lock held past the busy timeout becomes a retryable :class:`~taskorch.DatabaseLockedError`; a
file that is not a database or is damaged, :class:`~taskorch.CorruptDatabaseError`; anything else
a :class:`~taskorch.StorageError` naming the file.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from ..errors import CorruptDatabaseError, DatabaseLockedError, StorageError


class HasPath(Protocol):
    """What :func:`translated` reads of the store whose methods it wraps."""

    path: str


S = TypeVar("S", bound=HasPath)
P = ParamSpec("P")
R = TypeVar("R")


def translated(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[S, P], R]:
    """Turn sqlite3's exceptions into taskorch's, at the store boundary."""

    @functools.wraps(method)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    return wrapper


def translate(exc: sqlite3.Error, path: str) -> StorageError:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return DatabaseLockedError(
            f"{path}: database is locked by another connection ({message}); retry later, or raise"
            " ?busy_timeout= in the URL"
        )
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in message or "malformed" in message or "corrupt" in message
    ):
        return CorruptDatabaseError(
            f"{path}: not a readable taskorch database ({message}); restore it from a backup or"
            " point taskorch at another file"
        )
    return StorageError(f"{path}: {message}")
