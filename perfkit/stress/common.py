"""What the stress runs share: the failure a run reports, and the result printed as JSON and
kept in a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["StressFailure", "emit"]


class StressFailure(Exception):
    """A stress run saw what must not happen: a broken invariant, a child that made no
    progress; the command exits ``Exit.FAILED``, saying what."""


def emit(result: dict[str, Any], out: str | Path | None) -> None:
    """Print ``result`` as JSON, and write it to ``out`` when given."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
