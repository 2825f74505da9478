"""Reading a file a user named on the command line (a plan, a budgets file, a results file).

Only a regular file is read, and only up to :data:`MAX_BYTES`: a FIFO would block the command
forever and ``/dev/zero`` would be read until memory runs out. The file is opened without
blocking and checked on its descriptor, so it cannot be swapped for a FIFO between a check and
the read. A parser's ``RecursionError`` (a document nested thousands deep) is refused like any
other malformed content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .errors import InvalidArgumentError

T = TypeVar("T")

#: The largest input file read. Plan, budgets and results files are text written by hand or by
#: the toolkit: a plan of 100,000 subtasks is about 15 MiB, so this leaves room while keeping a
#: mistaken path (a disk image, a log) from filling the memory of a small machine.
MAX_BYTES = 64 * 2**20

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_bytes(path: str | Path) -> bytes:
    """The bytes of the regular file ``path``.

    Raises OSError when it cannot be opened (FileNotFoundError when it does not exist), and
    :class:`~taskorch.InvalidArgumentError` naming the file when it is not a regular file or is
    larger than :data:`MAX_BYTES`.
    """
    name = str(path)
    # O_NONBLOCK: opening a FIFO that has no writer would otherwise wait for one.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise InvalidArgumentError(name, f"is {kind}; give a regular file")
        chunks = []
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, min(MAX_BYTES + 1 - size, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        raise InvalidArgumentError(name, f"is larger than {MAX_BYTES // 2**20} MiB")
    return b"".join(chunks)


def load(path: str | Path, parse: Callable[[str], T], language: str = "JSON") -> T:
    """``parse`` applied to the UTF-8 text of the regular file ``path`` (e.g. ``json.loads``, of
    a document in ``language``, for messages).

    Raises OSError when it cannot be opened, and :class:`~taskorch.InvalidArgumentError` naming
    the file for anything else: not a regular file, too large, not UTF-8, refused by ``parse``
    (its ValueError), or nested too deeply for it.
    """
    raw = read_bytes(path)
    try:
        return parse(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(str(path), f"is not UTF-8 text ({exc})") from None
    except RecursionError:
        raise InvalidArgumentError(str(path), "is nested too deeply to be read") from None
    except ValueError as exc:
        raise InvalidArgumentError(str(path), f"is not valid {language} ({exc})") from exc
