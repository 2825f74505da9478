"""Immutable results of a leak check, and their JSON and text forms."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FORMAT_VERSION", "Frame", "Location", "Report", "Timings"]

#: Version of the JSON layout written by :meth:`Report.to_dict`; bumped on incompatible changes.
FORMAT_VERSION = 1

#: How many locations a report keeps; the rest are summed into the totals only.
MAX_LOCATIONS = 20


@dataclass(frozen=True, slots=True)
class Frame:
    """One Python stack frame: where code was running when memory was allocated."""

    function: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}


@dataclass(frozen=True, slots=True)
class Location:
    """Memory kept alive by one line of code during the measured window.

    ``bytes_per_iteration`` counts the bytes allocated there during the first half of the
    window that were still alive at its end, divided by the iterations of that half.
    ``growth`` holds the change of that line's live bytes over each segment of the window,
    and ``growth_per_iteration`` the slowest of the second half's segments, per iteration.
    The line is ``steady`` when every segment of the second half grew and some of its
    first-half memory survived; it then keeps ``kept_per_iteration``, the smaller of the two
    estimates.
    """

    frame: Frame
    bytes_per_iteration: float
    allocations_per_iteration: float
    growth: tuple[int, ...]
    growth_per_iteration: float
    stack: tuple[Frame, ...] = ()

    @property
    def steady(self) -> bool:
        return self.growth_per_iteration > 0 and self.bytes_per_iteration > 0

    @property
    def kept_per_iteration(self) -> float:
        if not self.steady:
            return 0.0
        return min(self.bytes_per_iteration, self.growth_per_iteration)

    @property
    def file(self) -> str:
        return self.frame.file

    @property
    def line(self) -> int:
        return self.frame.line

    @property
    def function(self) -> str:
        return self.frame.function

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.frame.to_dict(),
            "bytes_per_iteration": self.bytes_per_iteration,
            "allocations_per_iteration": self.allocations_per_iteration,
            "steady": self.steady,
            "kept_per_iteration": self.kept_per_iteration,
            "growth": list(self.growth),
            "growth_per_iteration": self.growth_per_iteration,
            "stack": [frame.to_dict() for frame in self.stack],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Location:
        return cls(
            frame=_frame(data),
            bytes_per_iteration=float(data["bytes_per_iteration"]),
            allocations_per_iteration=float(data.get("allocations_per_iteration", 0.0)),
            growth=tuple(int(g) for g in data.get("growth", ())),
            growth_per_iteration=float(data.get("growth_per_iteration", 0.0)),
            stack=tuple(_frame(f) for f in data.get("stack", ())),
        )


@dataclass(frozen=True, slots=True)
class Timings:
    """Wall-clock seconds spent in each phase of a check."""

    warmup: float = 0.0
    loop: float = 0.0  # the tracked iterations only, without the pauses at segment boundaries
    tracked: float = 0.0  # everything under the Tracker: pauses, writing the capture
    analysis: float = 0.0
    flamegraph: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {
            "warmup": self.warmup,
            "loop": self.loop,
            "tracked": self.tracked,
            "analysis": self.analysis,
            "flamegraph": self.flamegraph,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict of one check: did memory grow steadily, by how much, and where.

    ``bytes_per_iteration`` sums what the steady locations keep per iteration; ``leaked`` is
    true when that sum is at least ``threshold``. ``locations`` lists the steady locations
    first, largest first, then the largest other survivors (bounded growth).
    """

    leaked: bool
    bytes_per_iteration: float
    iterations: int
    warmup: int
    threshold: float
    locations: tuple[Location, ...]
    timings: Timings = field(default_factory=Timings)
    allocations: int = 0  # allocation events memray recorded in the window
    warnings: tuple[str, ...] = ()
    workload: str = ""
    capture: Path | None = None
    flamegraph: Path | None = None

    @property
    def leaks(self) -> tuple[Location, ...]:
        """The steadily growing locations, largest first."""
        return tuple(loc for loc in self.locations if loc.steady)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "workload": self.workload,
            "leaked": self.leaked,
            "bytes_per_iteration": self.bytes_per_iteration,
            "iterations": self.iterations,
            "warmup": self.warmup,
            "threshold": self.threshold,
            "locations": [loc.to_dict() for loc in self.locations],
            "timings": self.timings.to_dict(),
            "allocations": self.allocations,
            "warnings": list(self.warnings),
            "capture": None if self.capture is None else str(self.capture),
            "flamegraph": None if self.flamegraph is None else str(self.flamegraph),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        timings = data.get("timings", {})
        capture, flamegraph = data.get("capture"), data.get("flamegraph")
        return cls(
            leaked=bool(data["leaked"]),
            bytes_per_iteration=float(data["bytes_per_iteration"]),
            iterations=int(data["iterations"]),
            warmup=int(data.get("warmup", 0)),
            threshold=float(data.get("threshold", 0.0)),
            locations=tuple(Location.from_dict(loc) for loc in data["locations"]),
            timings=Timings(**{k: float(v) for k, v in timings.items()}),
            allocations=int(data.get("allocations", 0)),
            warnings=tuple(data.get("warnings", ())),
            workload=str(data.get("workload", "")),
            capture=None if capture is None else Path(capture),
            flamegraph=None if flamegraph is None else Path(flamegraph),
        )

    def describe(self, *, max_locations: int = 5) -> str:
        """A few lines for people: the verdict, then the locations that matter most."""
        name = f"{self.workload}: " if self.workload else ""
        if self.leaked:
            head = f"{name}LEAK: {self.bytes_per_iteration:.3g} B/iteration kept"
        else:
            head = f"{name}no leak: {self.bytes_per_iteration:.3g} B/iteration of steady growth"
        lines = [
            f"{head} (threshold {self.threshold:g} B/iteration, "
            f"{self.iterations} iterations after {self.warmup} warm-up)"
        ]
        shown = self.leaks if self.leaked else self.locations
        for loc in shown[:max_locations]:
            if loc.steady:
                lines.append(f"  {loc.kept_per_iteration:10.3g} B/it  steady   {loc.frame}")
            else:
                lines.append(f"  {loc.bytes_per_iteration:10.3g} B/it  bounded  {loc.frame}")
            # The allocating frame, when the line above only calls into a library.
            if loc.stack and loc.stack[0] != loc.frame:
                lines.append(f"{'':31}allocated in {loc.stack[0]}")
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def _frame(data: dict[str, Any]) -> Frame:
    return Frame(function=str(data["function"]), file=str(data["file"]), line=int(data["line"]))
