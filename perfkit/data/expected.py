"""Changes a commit declares on purpose: ``Expected-Change:`` trailers in commit messages.

A commit that makes an operation do more work on purpose says so in its message, one trailer per
line, each naming one or more benchmarks (comma-separated) as asv names them, with or without
their parameters, ``*`` matching anything::

    Expected-Change: instructions.Instructions.track_instructions('claim')
    Expected-Change: lifecycle.Plan.time_plan, instructions.Instructions.track_instructions(*)

The nightly job reads the trailers of every commit in the range it judges and reports what they
name as expected rather than regressed (or improved). Bumping a benchmark's ``version`` is the
other way to say it, for a change of what the benchmark measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .gitrepo import git

__all__ = ["TRAILER", "declared", "parse"]

TRAILER = "Expected-Change"
_LINE = re.compile(rf"^\s*{TRAILER}\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def parse(message: str) -> list[str]:
    """The benchmark patterns one commit message declares."""
    found = []
    for match in _LINE.finditer(message):
        found += [p.strip() for p in _split(match.group(1)) if p.strip()]
    return found


def _split(value: str) -> Iterable[str]:
    # Commas inside a benchmark's parameters, ``f(1, 2)``, do not separate patterns.
    depth, start = 0, 0
    for i, char in enumerate(value):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            yield value[start:i]
            start = i + 1
    yield value[start:]


def declared(root: Path, baseline: str, target: str) -> dict[str, str]:
    """Every pattern declared by a commit after ``baseline`` up to ``target``, mapped to the
    (first) commit declaring it."""
    log = git(root, "log", "--reverse", "--format=%H%x00%B%x01", f"{baseline}..{target}")
    out: dict[str, str] = {}
    for entry in log.split("\x01"):
        commit, sep, message = entry.strip().partition("\x00")
        if sep:
            for pattern in parse(message):
                out.setdefault(pattern, commit)
    return out
