"""Decide which line of code an allocation belongs to.

memray records the whole Python stack of every allocation. A leak report is only useful when
it names the workload's own line, so frames are sorted into four kinds:

- *tracer*: memray's own Python code; skipped wherever it appears innermost.
- *harness*: the loop that drives the workload. Only allocations made below the harness
  function that calls the workload belong to the workload; the rest (loop counters, markers,
  the library code the harness itself calls) is dropped, and frames outside the harness
  (the command line, pytest) are never blamed.
- *library*: the standard library and generated code (``<string>``, ``<frozen ...>``).
- *user*: everything else, third-party packages included.

An allocation is attributed to its innermost *user* frame inside the harness, so a leak made
by ``json.dumps`` on behalf of the workload names the workload's line; when every frame is a
library frame, the innermost one is named instead.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path

import memray

from leakcheck.report import Frame

__all__ = ["NO_PYTHON_FRAME", "Attribution", "FrameKind"]

#: Where allocations made with no Python code on the stack (interpreter or native threads) go.
NO_PYTHON_FRAME = Frame(function="<no Python frame>", file="<native>", line=0)

#: memray's stack element: (function, file, line).
StackElement = tuple[str, str, int]


class FrameKind(Enum):
    TRACER = "tracer"
    HARNESS = "harness"
    LIBRARY = "library"
    USER = "user"


def _stdlib_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib") if key in paths}
    return tuple(sorted(root + os.sep for root in roots))


class Attribution:
    """Classifies frames by file and maps a memray stack to the :class:`Frame` to blame."""

    def __init__(self, harness_files: Iterable[str | Path], workload_caller: str) -> None:
        """``workload_caller`` names the harness function whose calls run the workload."""
        self._harness = frozenset(os.path.realpath(f) for f in harness_files)
        self._workload_caller = workload_caller
        self._tracer_root = os.path.realpath(Path(memray.__file__).parent) + os.sep
        self._stdlib_roots = _stdlib_roots()
        self._kinds: dict[str, FrameKind] = {}

    def kind(self, file: str) -> FrameKind:
        """The kind of the code in ``file`` (cached: a capture names few distinct files)."""
        kind = self._kinds.get(file)
        if kind is None:
            kind = self._kinds[file] = self._classify(file)
        return kind

    def _classify(self, file: str) -> FrameKind:
        if file.startswith("<"):
            return FrameKind.LIBRARY
        path = os.path.realpath(file)
        if path in self._harness:
            return FrameKind.HARNESS
        if path.startswith(self._tracer_root):
            return FrameKind.TRACER
        parts = Path(path).parts
        if "site-packages" in parts or "dist-packages" in parts:
            return FrameKind.USER
        if path.startswith(self._stdlib_roots):
            return FrameKind.LIBRARY
        return FrameKind.USER

    def locate(self, stack: Sequence[StackElement]) -> Frame | None:
        """The frame to blame for an allocation with this stack (innermost first).

        Returns None for the harness's own allocations. A stack that never reaches the harness
        comes from a thread the workload started.
        """
        frames = [f for f in stack if self.kind(f[1]) is not FrameKind.TRACER]
        if not frames:
            return NO_PYTHON_FRAME
        blamed: Frame | None = None
        for index, (function, file, line) in enumerate(frames):
            kind = self.kind(file)
            if kind is FrameKind.HARNESS:
                if index == 0 or function != self._workload_caller:
                    return None
                break
            if kind is FrameKind.USER and blamed is None:
                blamed = Frame(function, file, line)
        if blamed is not None:
            return blamed
        function, file, line = frames[0]
        return Frame(function, file, line)

    def context(self, stack: Sequence[StackElement], depth: int = 6) -> tuple[Frame, ...]:
        """The innermost ``depth`` frames below the harness, for showing where memory went."""
        out: list[Frame] = []
        for function, file, line in stack:
            kind = self.kind(file)
            if kind is FrameKind.HARNESS or len(out) == depth:
                break
            if kind is not FrameKind.TRACER:
                out.append(Frame(function, file, line))
        return tuple(out)
