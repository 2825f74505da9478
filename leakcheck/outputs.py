"""The files a check writes: checked before the loop, then written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from leakcheck.errors import UsageError

__all__ = ["check_writable", "move_whole", "replacing", "write_text_whole"]


def check_writable(option: str, path: str | Path) -> Path:
    """``path`` as a :class:`Path`, or :class:`UsageError` naming ``option`` and ``path``.

    A loop can run for many minutes: an output that cannot be written must be refused before
    it starts. Missing directories are allowed (they are created), as long as the nearest
    existing one is a directory leakcheck can write in.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: cannot write in {parent}")
    return path


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; once the block succeeds it becomes ``path``.

    A reader of ``path`` sees the old file or the whole new one, never a part; if the block
    fails, ``path`` is untouched and the temporary file is removed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    partial = Path(name)
    # mkstemp makes the file private; the output gets the permissions of any new file.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` in UTF-8, whole or not at all."""
    with replacing(path) as partial:
        partial.write_text(text, encoding="utf-8")


def move_whole(source: Path, path: Path) -> None:
    """Move ``source`` to ``path``, which holds the whole file or is left as it was."""
    with replacing(path) as partial:
        shutil.move(source, partial)
