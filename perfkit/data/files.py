"""Files written whole or not at all.

A reader (a web server, the next job, a person) sees the old file or the new one, never half of
one: the data goes to a temporary file in the same directory, which then replaces the target in
one rename. A failure leaves the target as it was and removes the temporary file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["write_bytes_atomic", "write_text_atomic"]


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step; an existing file keeps its permissions."""
    target = Path(path)
    # Same directory: a rename across file systems would not be atomic.
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        # "x": never reuse a file someone else created under that name.
        with open(temporary, "xb") as out:
            out.write(data)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``text`` in one step (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode(encoding))
