"""A reader of callgrind's output files: the total and each function's inclusive cost.

The format (valgrind's "Callgrind Format Specification"): ``fn=`` opens a function, cost lines
``POSITION... COST`` add to its own cost, and a ``calls=COUNT TARGET`` line is followed by one
cost line that is the inclusive cost of those calls. Names are compressed: ``fn=(12) name`` the
first time, ``fn=(12)`` after. Only the first event (``Ir``, instructions) is read.

A function's inclusive cost here is its own cost plus that of the calls it makes to other
functions; calls to itself are not added again. Mutual recursion through other functions (the
interpreter loop calling C code calling the interpreter loop) is counted at every level, as
``callgrind_annotate --inclusive=yes`` does; functions of the same name (static functions of
different files) are added together.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Profile", "parse"]


@dataclass(frozen=True, slots=True)
class Profile:
    """One callgrind dump: its total instructions and each function's inclusive instructions."""

    total: int
    inclusive: dict[str, int] = field(default_factory=dict)


def _cost(line: str, positions: int) -> int:
    parts = line.split()
    return int(parts[positions]) if len(parts) > positions else 0


def parse(text: str) -> Profile:
    """Read a callgrind output file's text."""
    names: dict[str, str] = {}
    inclusive: dict[str, int] = {}
    positions = 1
    total: int | None = None
    current = ""
    callee = ""
    after_calls = False
    own = 0

    def name(spec: str) -> str:
        spec = spec.strip()
        if spec.startswith("("):
            ref, _, rest = spec.partition(")")
            rest = rest.strip()
            if rest:
                names[ref] = rest
            return names.get(ref, ref + ")")
        return spec

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if after_calls:
            after_calls = False
            if callee != current:
                inclusive[current] = inclusive.get(current, 0) + _cost(line, positions)
            continue
        head = line[0]
        if head.isdigit() or head in "+-*":
            cost = _cost(line, positions)
            own += cost
            if current:
                inclusive[current] = inclusive.get(current, 0) + cost
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
            if key == "positions":
                positions = len(value.split())
            elif key in ("summary", "totals"):
                total = int(value.split()[0]) if value.split() else 0
            continue
        if key == "fn":
            current = name(value)
            inclusive.setdefault(current, 0)
        elif key == "cfn":
            callee = name(value)
        elif key == "calls":
            after_calls = True
    if total is None:
        total = own  # no summary line: the sum of every function's own cost is the total
    return Profile(total, inclusive)
