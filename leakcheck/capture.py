"""Read a memray capture into per-stack allocation lifetimes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import memray

from leakcheck.attribution import StackElement
from leakcheck.errors import TrackerError

__all__ = ["CaptureContents", "Lifetimes", "Span", "SpanLike", "read_capture"]

# FileReader thins memory snapshots out beyond this many, which would blur segment boundaries.
_ALL_SNAPSHOTS = 2**31 - 1


class SpanLike(Protocol):
    """Allocations from one stack that share their birth and death snapshots (memray's Interval)."""

    @property
    def allocated_before_snapshot(self) -> int: ...

    @property
    def deallocated_before_snapshot(self) -> int | None: ...

    @property
    def n_allocations(self) -> int: ...

    @property
    def n_bytes(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Span:
    """A plain :class:`SpanLike`, for building lifetimes without a capture."""

    allocated_before_snapshot: int
    deallocated_before_snapshot: int | None
    n_allocations: int
    n_bytes: int


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """Everything allocated from one Python stack (innermost frame first) and how long it lived.

    An allocation made and freed between two memory snapshots is absent: it never counted.
    """

    stack: tuple[StackElement, ...]
    spans: tuple[SpanLike, ...]


@dataclass(frozen=True, slots=True)
class CaptureContents:
    """The lifetimes of a capture, and how many allocation events memray recorded."""

    allocations: int
    lifetimes: tuple[Lifetimes, ...]


def read_capture(path: Path) -> CaptureContents:
    """Read the capture at ``path``: one :class:`Lifetimes` per stack, threads merged.

    There are few distinct stacks even when there are millions of allocations, so the result
    is small; memray's reader does the per-allocation work in native code.
    """
    try:
        reader = memray.FileReader(path, max_memory_records=_ALL_SNAPSHOTS)
    except OSError as exc:
        raise TrackerError(f"cannot read the memray capture {path}: {exc}") from exc
    try:
        lifetimes = tuple(
            Lifetimes(tuple(record.stack_trace()), tuple(record.intervals))
            for record in reader.get_temporal_allocation_records(merge_threads=True)
        )
        return CaptureContents(reader.metadata.total_allocations, lifetimes)
    finally:
        reader.close()
