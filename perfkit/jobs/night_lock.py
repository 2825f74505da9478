"""One nightly job at a time in a repository: two would race on its results and its report.

The lock is ``.asv/nightly.lock``, held (``flock``) for the whole night; a second night finds it
held and is refused at once, leaving the running night's report alone. Once the lock is taken,
what a killed night left behind (its worktrees and trial folders,
:mod:`perfkit.data.leftovers`) is removed, saying so.
"""

from __future__ import annotations

import contextlib
import fcntl
import sys
from collections.abc import Iterator
from pathlib import Path

from ..data.leftovers import clean

__all__ = ["Running", "one_night"]


class Running(Exception):
    """Another night holds the repository."""


@contextlib.contextmanager
def one_night(root: Path) -> Iterator[None]:
    """One night at a time in a repository (two would race on its results and its report);
    what a killed run left behind is removed first, saying so."""
    lock = root / ".asv" / "nightly.lock"
    lock.parent.mkdir(exist_ok=True)
    with open(lock, "a") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Running(f"another nightly job is running in {root} ({lock} is held)") from None
        for line in clean(root):
            print(f"nightly: {line}", file=sys.stderr)
        yield
