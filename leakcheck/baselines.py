"""Other ways of finding leaks, run on the corpus for comparison.

- *tracemalloc snapshot diff*: snapshot after warm-up, run the loop, collect garbage,
  snapshot again; a leak when the net growth per iteration reaches the threshold, located at
  the line with the largest growth.
- *pytest-memray* ``limit_leaks``: the loop is the body of a test whose fixture opened the
  session and warmed it up; a leak when any one allocation stack left more than
  ``threshold * iterations`` bytes alive at the end of the test call.

Each runs in a child process so that no detector sees another's state. ``python -m
leakcheck.baselines tracemalloc CASE N W THRESHOLD`` prints one JSON verdict.
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import tracemalloc
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import leakcheck
from leakcheck import corpus
from leakcheck.corpus import CASES

__all__ = ["Verdict", "child_environment", "run_pytest_memray", "run_tracemalloc"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One detector's answer on one case; ``leaked`` is None when the detector failed."""

    case: str
    detector: str
    leaked: bool | None
    location: str | None = None  # "file:line" named first, if any
    bytes_per_iteration: float | None = None
    error: str | None = None


def child_environment() -> dict[str, str]:
    """The environment for child processes: this leakcheck first on the import path."""
    root = str(Path(leakcheck.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def tracemalloc_verdict(name: str, iterations: int, warmup: int, threshold: float) -> Verdict:
    """The snapshot-diff rule, in this process."""
    case = CASES[name]
    with tempfile.TemporaryDirectory() as scratch, case.session(Path(scratch)) as step:
        for _ in range(warmup):
            step()
        gc.collect()
        tracemalloc.start(1)
        before = tracemalloc.take_snapshot()
        for _ in range(iterations):
            step()
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    # The snapshots and this loop are the harness, as in leakcheck.
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, __file__),
    ]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    growth = sum(stat.size_diff for stat in stats) / iterations
    top = max(stats, key=lambda stat: stat.size_diff, default=None)
    location = None
    if top is not None and top.size_diff > 0:
        frame = top.traceback[0]
        location = f"{frame.filename}:{frame.lineno}"
    return Verdict(name, "tracemalloc", growth >= threshold, location, growth)


def run_tracemalloc(name: str, iterations: int, warmup: int, threshold: float) -> Verdict:
    """:func:`tracemalloc_verdict` in a child process."""
    command = [
        sys.executable, "-m", "leakcheck.baselines", "tracemalloc",
        name, str(iterations), str(warmup), str(threshold),
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, env=child_environment(), check=False
    )
    if result.returncode != 0:
        return Verdict(name, "tracemalloc", None, error=result.stderr.strip()[-500:])
    return Verdict(**json.loads(result.stdout))


_TEST_MODULE = """\
import pytest
from leakcheck.corpus import CASES

@pytest.fixture(params={names!r})
def step(request, tmp_path):
    with CASES[request.param].session(tmp_path) as run:
        for _ in range({warmup}):
            run()
        yield run

@pytest.mark.limit_leaks("{limit}B")
def test_corpus(step):
    for _ in range({iterations}):
        step()
"""

# pytest-memray prints each offending stack innermost first as "function:file:line", under
# a "____ test_corpus[NAME] ____" header; a reader would look for the first corpus line.
_TEST_HEADER = re.compile(r"^_{3,} test_corpus\[", re.MULTILINE)
_FRAME = re.compile(r"(?P<file>/[^\s:]+\.py):(?P<line>\d+)")


def run_pytest_memray(
    names: Sequence[str], iterations: int, warmup: int, threshold: float
) -> dict[str, Verdict]:
    """Run every case as a ``limit_leaks`` test under ``pytest --memray`` in one child."""
    limit = max(1, round(threshold * iterations))
    with tempfile.TemporaryDirectory(prefix="leakcheck-pytest-memray-") as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (root / "test_corpus.py").write_text(
            _TEST_MODULE.format(
                names=list(names), warmup=warmup, iterations=iterations, limit=limit
            ),
            encoding="utf-8",
        )
        report = root / "report.xml"
        command = [
            sys.executable, "-m", "pytest", "--memray", "-q", "-p", "no:cacheprovider",
            "--stacks=64", "-c", str(root / "pytest.ini"), "--rootdir", str(root),
            f"--junitxml={report}", str(root / "test_corpus.py"),
        ]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, env=child_environment(), cwd=root, check=False
        )
        if not report.exists():
            error = (result.stdout + result.stderr).strip()[-500:]
            return {n: Verdict(n, "pytest-memray", None, error=error) for n in names}
        return _parse_junit(report, _locations(result.stdout))


def _locations(output: str) -> dict[str, str]:
    """The first corpus line of the first leaked stack pytest-memray printed for each test."""
    corpus_file = str(Path(corpus.__file__).resolve())
    found: dict[str, str] = {}
    for block in _TEST_HEADER.split(output)[1:]:
        header, _, body = block.partition("\n")
        name = header.partition("]")[0]
        body = body.split("\n=====")[0]  # the summary sections that follow name other tests
        frames = [m for m in _FRAME.finditer(body) if m.group("file") == corpus_file]
        if frames:
            found[name] = f"{frames[0].group('file')}:{frames[0].group('line')}"
    return found


def _parse_junit(report: Path, locations: dict[str, str]) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = {}
    for testcase in ElementTree.parse(report).getroot().iter("testcase"):
        match = re.search(r"\[(.+)\]$", testcase.get("name", ""))
        if match is None:
            continue
        name = match.group(1)
        failure = testcase.find("failure")
        error = testcase.find("error")
        if error is not None:
            verdicts[name] = Verdict(name, "pytest-memray", None, error=error.get("message"))
        elif failure is None:
            verdicts[name] = Verdict(name, "pytest-memray", False)
        else:
            verdicts[name] = Verdict(name, "pytest-memray", True, locations.get(name))
    return verdicts


def _main(argv: Sequence[str]) -> int:
    detector, name, iterations, warmup, threshold = argv
    if detector != "tracemalloc":
        print(f"unknown detector {detector!r}", file=sys.stderr)
        return 2
    verdict = tracemalloc_verdict(name, int(iterations), int(warmup), float(threshold))
    print(json.dumps(asdict(verdict)))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
