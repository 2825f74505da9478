"""Where the numbers come from: enough to tell two machines, or two set-ups, apart."""

from __future__ import annotations

import os
import platform
import sqlite3
from typing import Any

import taskorch

__all__ = ["environment"]


def environment() -> dict[str, Any]:
    """Python, SQLite, taskorch and its JSON codec, the platform and the number of CPUs."""
    from taskorch import codec

    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "taskorch": taskorch.__version__,
        "codec": getattr(codec, "BACKEND", "json"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
