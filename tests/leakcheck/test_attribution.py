"""Which frame gets the blame for an allocation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import memray
import pytest

from leakcheck.attribution import NO_PYTHON_FRAME, Attribution, FrameKind
from leakcheck.report import Frame

HARNESS = "/opt/harness/loop.py"
USER = "/home/me/project/work.py"
STDLIB = str(Path(json.__file__).resolve())
THIRD_PARTY = str(Path(pytest.__file__).resolve())
TRACER = str(Path(memray.__file__).resolve())


@pytest.fixture
def attribution() -> Attribution:
    return Attribution([HARNESS], workload_caller="loop")


@pytest.mark.parametrize(
    ("file", "kind"),
    [
        (HARNESS, FrameKind.HARNESS),
        (USER, FrameKind.USER),
        (STDLIB, FrameKind.LIBRARY),
        (THIRD_PARTY, FrameKind.USER),
        (TRACER, FrameKind.TRACER),
        ("<string>", FrameKind.LIBRARY),
        ("<frozen importlib._bootstrap>", FrameKind.LIBRARY),
    ],
)
def test_kinds(attribution: Attribution, file: str, kind: FrameKind) -> None:
    assert attribution.kind(file) is kind


def test_library_allocation_is_blamed_on_the_calling_user_line(attribution: Attribution) -> None:
    stack = [
        ("iterencode", STDLIB, 258),
        ("dumps", STDLIB, 231),
        ("step", USER, 12),
        ("loop", HARNESS, 5),
    ]
    assert attribution.locate(stack) == Frame("step", USER, 12)
    assert attribution.context(stack)[0] == Frame("iterencode", STDLIB, 258)
    assert len(attribution.context(stack)) == 3  # stops at the harness


def test_harness_allocations_are_dropped(attribution: Attribution) -> None:
    assert attribution.locate([("loop", HARNESS, 5), ("main", USER, 1)]) is None
    assert attribution.locate([("start", TRACER, 3), ("loop", HARNESS, 5)]) is None
    # Library code the harness calls for itself, not on the workload's behalf.
    assert attribution.locate([("enter_context", STDLIB, 519), ("setup", HARNESS, 90)]) is None


def test_threads_the_workload_started_never_reach_the_harness(attribution: Attribution) -> None:
    stack = [("worker", USER, 30), ("run", STDLIB, 975), ("_bootstrap", STDLIB, 995)]
    assert attribution.locate(stack) == Frame("worker", USER, 30)


def test_frames_outside_the_harness_are_never_blamed(attribution: Attribution) -> None:
    # Only library code below the harness: the innermost frame is named, not the caller
    # of the harness.
    stack = [("compile", STDLIB, 761), ("loop", HARNESS, 5), ("cli", USER, 99)]
    assert attribution.locate(stack) == Frame("compile", STDLIB, 761)


def test_allocation_without_python_frames(attribution: Attribution) -> None:
    assert attribution.locate([]) is NO_PYTHON_FRAME


def test_paths_are_compared_resolved(tmp_path: Path) -> None:
    real = tmp_path / "loop.py"
    real.write_text("")
    link = tmp_path / "link.py"
    os.symlink(real, link)
    assert Attribution([real], workload_caller="loop").kind(str(link)) is FrameKind.HARNESS
