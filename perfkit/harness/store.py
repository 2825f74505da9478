"""Fresh SQLite databases for measurements: a new file in a given directory, leftovers removed.

A measurement must not start on what an earlier run left: a database file with its ``-wal`` and
``-shm`` companions would be reopened, with its rows and its page cache. Every harness takes its
databases from here. Only ``taskorch.open`` is used, so this runs against old engines too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import taskorch

__all__ = [
    "fresh_path",
    "fresh_url",
    "new_directory",
    "open_fresh",
    "remove_database",
    "scratch_url",
    "temporary_directory",
]

# The files SQLite keeps for a database in WAL mode: the database, its log, its shared memory.
_SUFFIXES = ("", "-wal", "-shm")


def remove_database(path: str | Path) -> None:
    """Delete a SQLite database file and its WAL companions; missing files are fine."""
    for suffix in _SUFFIXES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def fresh_path(directory: str | Path, name: str) -> Path:
    """``directory/name.db``, with whatever an earlier run left there removed."""
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"a database name is one file name without suffix, got {name!r}")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.db"
    remove_database(path)
    return path


def fresh_url(directory: str | Path, name: str, **query: Any) -> str:
    """The URL of :func:`fresh_path`; ``query`` becomes store options in the URL, e.g.
    ``durability="off"`` (for code that takes a URL, such as a fleet in another process)."""
    url = f"sqlite:///{fresh_path(directory, name)}"
    return f"{url}?{urlencode(query)}" if query else url


def open_fresh(directory: str | Path, name: str, **options: Any) -> taskorch.Orchestrator:
    """An orchestrator on a new SQLite file ``name.db`` in ``directory``; ``options`` go to
    ``taskorch.open`` (``durability``, ``context_cache_size``, ``lease_seconds`` ...)."""
    return taskorch.open(f"sqlite:///{fresh_path(directory, name)}", **options)


@contextmanager
def temporary_directory(
    prefix: str = "perfkit-", parent: str | Path | None = None
) -> Iterator[Path]:
    """A new directory (under ``parent``, else the system's temporary directory), removed with
    everything in it on exit."""
    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=parent) as folder:
        yield Path(folder)


@contextmanager
def scratch_url(name: str = "scratch", *, prefix: str = "perfkit-", **query: Any) -> Iterator[str]:
    """:func:`fresh_url` in a :func:`temporary_directory`: a database for one run, gone after."""
    with temporary_directory(prefix) as folder:
        yield fresh_url(folder, name, **query)


def new_directory(parent: str | Path, prefix: str = "perfkit-") -> Path:
    """A new directory under ``parent`` that outlives the call: for a harness whose runner
    deletes ``parent`` itself (asv deletes each benchmark's working directory)."""
    Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
