"""Which commit moved a count, and what grew: the nightly job's follow-up on each counted
regression.

Counts are deterministic, so the first commit of a range where a count moved is found by
bisection, counting only the operations that moved (:func:`first_moved`). The evidence is what
grew between the baseline and the target: C functions by inclusive instructions (callgrind), and
Python functions by inclusive bytecodes (:func:`perfkit.counts.instructions.count_bytecodes`, since
callgrind sees only the interpreter's C functions).

Every commit is counted the same way (:class:`WorktreeCounter`: a git worktree of the commit as
the engine, this checkout's workloads, this interpreter), the baseline and the target included:
numbers are compared only with numbers counted alike.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.gitrepo import worktree
from ..verdict.regression import COUNT_THRESHOLD, Change
from .instructions import Count, CountError, count, count_bytecodes, grown

__all__ = [
    "Counter",
    "Finding",
    "WorktreeCounter",
    "first_moved",
    "investigate",
    "operation_of",
    "safely",
]

# Counts the given operations at a commit: (commit, operations) -> counts by operation.
Counter = Callable[[str, Sequence[str]], Mapping[str, Count]]
Row = tuple[str, float, float]

_OPERATION = re.compile(r"^instructions\.\w+\.track_instructions\('(\w+)'\)$")


def operation_of(benchmark: str) -> str | None:
    """The counted operation of an instruction-count benchmark, else None."""
    match = _OPERATION.match(benchmark)
    return match.group(1) if match else None


def first_moved(commits: Sequence[str], moved: Callable[[str], bool]) -> str:
    """The first of ``commits`` (oldest first) for which ``moved`` holds, knowing it holds for
    the last; bisection, so ``moved`` is asked about log2(len) commits."""
    lo, hi = 0, len(commits) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if moved(commits[mid]):
            hi = mid
        else:
            lo = mid + 1
    return commits[lo]


@dataclass(frozen=True, slots=True)
class Finding:
    """What the follow-up found for one counted regression. ``before``/``after`` are the counts
    of baseline and target counted again; ``culprit`` is None when it could not be told
    (``reason`` says why)."""

    benchmark: str
    operation: str
    culprit: str | None
    before: float | None = None
    after: float | None = None
    c_functions: tuple[Row, ...] = ()
    py_functions: tuple[Row, ...] = ()
    reason: str = ""
    counted: tuple[str, ...] = field(default_factory=tuple)  # commits counted, in that order

    def as_dict(self) -> dict[str, Any]:
        def rows(found: Sequence[Row]) -> list[dict[str, Any]]:
            return [{"function": f, "before": b, "after": a} for f, b, a in found]

        return {
            "benchmark": self.benchmark,
            "operation": self.operation,
            "culprit": self.culprit,
            "before": self.before,
            "after": self.after,
            "c_functions": rows(self.c_functions),
            "py_functions": rows(self.py_functions),
            "reason": self.reason,
            "counted": list(self.counted),
        }


class _Memo:
    """Counts each commit once, every operation of interest in one process."""

    def __init__(self, counter: Counter, operations: Sequence[str]) -> None:
        self.counter, self.operations = counter, list(operations)
        self.found: dict[str, Mapping[str, Count]] = {}

    def __call__(self, commit: str) -> Mapping[str, Count]:
        if commit not in self.found:
            self.found[commit] = self.counter(commit, self.operations)
        return self.found[commit]


def _moved(before: Count, after: Count, threshold: float) -> bool:
    if before.instructions is None or after.instructions is None or before.instructions <= 0:
        return False
    return after.instructions > before.instructions * (1 + threshold)


def _moved_at(counts: _Memo, before: Count, op: str, threshold: float) -> Callable[[str], bool]:
    return lambda commit: _moved(before, counts(commit)[op], threshold)


def investigate(
    commits: Sequence[str],
    baseline: str,
    regressions: Sequence[Change],
    counter: Counter,
    bytecodes: Counter | None = None,
    threshold: float = COUNT_THRESHOLD,
) -> list[Finding]:
    """For each counted regression (its benchmark names an operation), the first commit of
    ``commits`` (the range after ``baseline``, oldest first) where its count grew beyond
    ``threshold`` over the baseline's, and the functions that grew most from baseline to target.
    Other regressions are left out."""
    moved = {c.benchmark: op for c in regressions if (op := operation_of(c.benchmark))}
    if not moved or not commits:
        return []
    target = commits[-1]
    counts = _Memo(counter, sorted(set(moved.values())))
    base, last = counts(baseline), counts(target)
    python: tuple[Mapping[str, Count], Mapping[str, Count]] | None = None
    if bytecodes is not None:
        ops = sorted(set(moved.values()))
        python = bytecodes(baseline, ops), bytecodes(target, ops)
    findings = []
    for benchmark, op in sorted(moved.items()):
        before, after = base[op], last[op]
        culprit: str | None = None
        reason = ""
        if before.instructions is None or after.instructions is None:
            reason = after.skipped or before.skipped
        elif not _moved(before, after, threshold):
            reason = "the move did not show when counted again outside asv"
        else:
            culprit = first_moved(commits, _moved_at(counts, before, op, threshold))
        py: tuple[Row, ...] = ()
        if python is not None:
            # The harness is left out of bytecode counts: an engine function that holds nearly
            # all of the operation is what changed, not a root to leave out.
            py = tuple(grown(python[0][op], python[1][op], root_share=math.inf))
        findings.append(
            Finding(
                benchmark=benchmark,
                operation=op,
                culprit=culprit,
                before=before.instructions,
                after=after.instructions,
                c_functions=tuple(grown(before, after)),
                py_functions=py,
                reason=reason,
                counted=tuple(counts.found),
            )
        )
    return findings


class WorktreeCounter:
    """Counts at a commit of ``root``: a detached git worktree of the commit is the engine.
    ``bytecodes=True`` counts Python bytecodes instead of instructions (no valgrind)."""

    def __init__(self, root: Path, python: str | None = None, bytecodes: bool = False) -> None:
        self.root, self.python, self.bytecodes = root, python or sys.executable, bytecodes

    def __call__(self, commit: str, operations: Sequence[str]) -> Mapping[str, Count]:
        with worktree(self.root, commit) as tree:
            if self.bytecodes:
                return count_bytecodes(operations, python=self.python, engine=tree)
            return count(operations, python=self.python, engine=tree)


def safely(counter: Counter) -> Counter:
    """``counter`` with a failure to count turned into skipped counts (the follow-up must not
    stop the job)."""

    def run(commit: str, operations: Sequence[str]) -> Mapping[str, Count]:
        try:
            return counter(commit, operations)
        except (CountError, subprocess.CalledProcessError, OSError) as exc:
            return {op: Count(op, None, skipped=f"not counted: {exc}") for op in operations}

    return run
