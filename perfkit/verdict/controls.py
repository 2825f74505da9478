"""The raw sqlite3 references as controls: a change the machine made is not a regression.

The ``raw.*`` benchmarks do the engine's physical work with code that never changes, so a shift
of theirs is the machine (another job, a slower disk, a new kernel), never the code. Three rules,
applied to the shifts of one history (:mod:`perfkit.verdict.changepoints`); the nightly job applies
the first two (:func:`machine_reason`) to the timings it weighs on two commits
(:mod:`perfkit.timing.timings`):

1. every shift of a ``raw.*`` benchmark is labelled
:attr:`~perfkit.verdict.changepoints.Label.MACHINE`; 2. a shift of an engine benchmark is labelled
machine when its raw twin
   (:func:`raw_twins`) shifted in the same direction at the same commit;
3. when at least half of the raw benchmarks shifted in one direction at a commit, every shift at
   that commit is labelled machine.

"At the same commit" allows the neighbouring measured commit either side: two series cut by the
same event may place the cut one commit apart when the noise is large.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from ..workloads.references import references
from .changepoints import Label, Shift

__all__ = ["NEAR", "RAW_PREFIX", "is_raw", "label_machine", "machine_reason", "operation",
           "raw_twins"]  # fmt: skip

RAW_PREFIX = "raw."
# How many measured commits apart two shifts may be and still count as one event.
NEAR = 1


def is_raw(benchmark: str) -> bool:
    return benchmark.startswith(RAW_PREFIX)


def machine_reason(benchmark: str, twin: str | None, twin_moved_alike: bool) -> str:
    """Why a move of ``benchmark`` is the machine's by rules 1 and 2 ("" when they do not say
    so): it is a raw reference, or its raw ``twin`` moved the same way at the same time."""
    if is_raw(benchmark):
        return "a raw sqlite3 reference"
    if twin is not None and twin_moved_alike:
        return f"its raw reference {twin} moved alike"
    return ""


def label_machine(
    shifts: Sequence[Shift],
    commits: Sequence[str],
    twins: Mapping[str, str],
    raw: Sequence[str],
) -> list[Shift]:
    """``shifts`` with those the machine explains labelled machine. ``commits`` orders the
    history (oldest first), ``twins`` maps an engine benchmark to its raw reference, ``raw``
    names every raw benchmark of the history."""
    position = {c: i for i, c in enumerate(commits)}
    moved: dict[tuple[str, bool], list[int]] = {}  # (raw benchmark, up) -> positions
    for s in shifts:
        if is_raw(s.benchmark) and s.commit in position:
            moved.setdefault((s.benchmark, s.ratio > 1), []).append(position[s.commit])

    def near(benchmark: str, up: bool, at: int) -> bool:
        return any(abs(p - at) <= NEAR for p in moved.get((benchmark, up), ()))

    out = []
    for s in shifts:
        at, up = position.get(s.commit), s.ratio > 1
        twin = twins.get(s.benchmark)
        alike = at is not None and twin is not None and near(twin, up, at)
        reason = machine_reason(s.benchmark, twin, alike)
        if not reason and at is not None and raw:
            for direction in (True, False):
                together = sum(near(r, direction, at) for r in raw)
                if 2 * together >= len(raw):
                    reason = f"{together} of {len(raw)} raw references moved at this commit"
                    break
        out.append(replace(s, label=Label.MACHINE, reason=reason) if reason else s)
    return out


def operation(benchmark: str) -> str | None:
    """The workload a ``time_`` benchmark times: its method's name without the prefix
    (``lifecycle.Plan.time_plan(10)`` times ``plan``)."""
    method = benchmark.split("(", 1)[0].rsplit(".", 1)[-1]
    kind, _, name = method.partition("_")
    return name if kind == "time" and name else None


def raw_twins(benchmarks: Iterable[str]) -> dict[str, str]:
    """Each benchmark timing an operation that has a raw reference
    (:func:`perfkit.workloads.references.references`), mapped to the benchmark timing that
    reference with the same parameters, where both are among ``benchmarks``."""
    names = list(benchmarks)
    by_operation = {(operation(n), _params(n)): n for n in names}
    refs: Mapping[str, str] = references()
    twins = {}
    for name in names:
        reference = refs.get(operation(name) or "")
        twin = by_operation.get((reference, _params(name))) if reference else None
        if twin is not None:
            twins[name] = twin
    return twins


def _params(benchmark: str) -> str:
    return benchmark.partition("(")[2]
