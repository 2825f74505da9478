"""Input files a user may name by mistake or in malice: a FIFO nobody writes to, a device that
never ends, a document nested 100,000 deep. Tests of every command that reads a file use them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: JSON (and a TOML value) nested far deeper than any parser's recursion allows.
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_TOML = b"[budgets]\ntask_creation_ms = " + DEEP_JSON + b"\n"
#: A device that reads as an endless stream of zero bytes.
ENDLESS = Path("/dev/zero")


@contextmanager
def fifo(path: Path) -> Iterator[Path]:
    """A FIFO at ``path``. A reader that blocks on it is let go every second (a writer opens and
    closes it, so the reader sees an empty file), so that a test of a command that would block
    fails instead of hanging the suite."""
    os.mkfifo(path)
    done = threading.Event()

    def let_go() -> None:
        while not done.wait(1.0):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader waiting: nothing to let go
                continue
            os.close(fd)

    thread = threading.Thread(target=let_go, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        done.set()
        thread.join()


@contextmanager
def hostile_files(
    folder: Path, deep_text: bytes = DEEP_JSON
) -> Iterator[dict[str, tuple[Path, str]]]:
    """Each hostile file, by name, with words the refusal must contain; the deep one holds
    ``deep_text``."""
    deep = folder / "deep.json"
    deep.write_bytes(deep_text)
    with fifo(folder / "fifo.json") as pipe:
        yield {
            "fifo": (pipe, "is a FIFO"),
            "endless": (ENDLESS, "is a character device"),
            "deep": (deep, "nested too deeply"),
        }
