"""The subtask lists that every harness plans, generated in one place.

Pure data, deterministic, no engine import: the workloads (run by asv against old commits), the
demo fleets and stress runs, the validation's baseline process and the peer comparison (in the
peer's own environment) all take their plans from here.

- :func:`subtasks`: each subtask depends on up to ``fan_in`` earlier ones, a tree-shaped DAG;
  what the core-operation workloads plan (their shape is part of the benchmark history);
- :func:`independent`: no dependencies, all ready at once: a pool of work;
- :func:`demo_subtasks`: layers of ``width``, each subtask depending on ``fan_in`` of the layer
  before: the large graphs of the fleets and stress runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEMO_SPECIALISTS", "SPECIALISTS", "demo_subtasks", "independent", "subtasks"]

#: The roles :func:`subtasks` cycles through.
SPECIALISTS = ("researcher", "implementer", "tester")
#: The roles :func:`demo_subtasks` cycles through.
DEMO_SPECIALISTS = ("researcher", "architect", "implementer", "tester", "documenter")


def _count(n: int, name: str = "n") -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {n!r}")


def subtasks(n: int, fan_in: int = 1, prefix: str = "k") -> list[dict[str, Any]]:
    """``n`` subtasks keyed ``{prefix}0`` ...; subtask ``i`` depends on up to ``fan_in`` of the
    subtasks ``(i - 1 - j) // 2`` (``fan_in=1``: each on the one "above" it in a binary tree)."""
    _count(n)
    _count(fan_in, "fan_in")
    out = []
    for i in range(n):
        deps = {f"{prefix}{(i - 1 - j) // 2}" for j in range(fan_in) if i - 1 - j >= 0}
        out.append(
            {
                "key": f"{prefix}{i}",
                "title": f"subtask {i}",
                "specialist": SPECIALISTS[i % len(SPECIALISTS)],
                "description": f"carry out step {i} of the plan",
                "depends_on": sorted(deps),
            }
        )
    return out


def independent(n: int) -> list[dict[str, Any]]:
    """``n`` subtasks with no dependencies and no description: all ready at once."""
    _count(n)
    return [
        {"key": f"k{i}", "title": f"subtask {i}", "specialist": "implementer"} for i in range(n)
    ]


def demo_subtasks(
    n: int, fan_in: int = 0, width: int = 1000, specialist: str | None = None
) -> list[dict[str, Any]]:
    """``n`` subtasks in layers of ``width``; each depends on ``fan_in`` subtasks of the layer
    before (0: all independent). Their roles cycle through :data:`DEMO_SPECIALISTS`, or are all
    ``specialist`` when given."""
    _count(n)
    _count(fan_in, "fan_in")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    out: list[dict[str, Any]] = []
    for i in range(n):
        layer, pos = divmod(i, width)
        deps: list[str] = []
        if layer and fan_in:
            base = (layer - 1) * width
            deps = sorted({f"t{base + (pos + k * 7) % width}" for k in range(fan_in)})
        out.append(
            {
                "key": f"t{i}",
                "title": f"demo subtask {i}",
                "specialist": specialist or DEMO_SPECIALISTS[i % len(DEMO_SPECIALISTS)],
                "depends_on": deps,
            }
        )
    return out
