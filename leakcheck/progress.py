"""Progress messages for long checks, written to stderr and rate-limited."""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

__all__ = ["Progress", "SilentProgress", "StreamProgress"]


class Progress(Protocol):
    """Receives the phases of a check and how far the current phase has got."""

    def phase(self, name: str, total: int = 0) -> None: ...

    def update(self, done: int) -> None: ...


class SilentProgress:
    """Says nothing: the default for the Python API and the pytest plugin."""

    def phase(self, name: str, total: int = 0) -> None:
        pass

    def update(self, done: int) -> None:
        pass


class StreamProgress:
    """Writes a line when a phase has run ``delay`` seconds, then every ``interval`` seconds.

    Short checks stay quiet; a long one shows it is alive and how far it is.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        label: str = "leakcheck",
        delay: float = 2.0,
        interval: float = 5.0,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._label = label
        self._delay = delay
        self._interval = interval
        self._name = ""
        self._total = 0
        self._created = self._started = self._last = time.monotonic()

    def phase(self, name: str, total: int = 0) -> None:
        self._name, self._total = name, total
        self._started = time.monotonic()
        self._last = self._started + self._delay - self._interval
        # Once a check has taken a while, each new phase is worth a line of its own.
        if self._started - self._created >= self._delay:
            print(f"{self._label}: {name}...", file=self._stream, flush=True)

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        elapsed = now - self._started
        if self._total:
            share = 100.0 * done / self._total
            msg = f"{self._name}: {done}/{self._total} iterations ({share:.0f}%), {elapsed:.0f} s"
        else:
            msg = f"{self._name}: {elapsed:.0f} s"
        print(f"{self._label}: {msg}", file=self._stream, flush=True)
