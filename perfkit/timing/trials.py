"""Timings judged on per-process evidence: two commits measured in many fresh processes each,
alternated benchmark by benchmark.

On a shared machine a call runs 1.2 to 1.5 times slower for stretches of a fraction of a second
to several seconds while something else has the core; a process's median is then as noisy as the
stretches it happened to meet. Interference only ever adds time, so one process is one
observation: the fast end of its samples (their 5th percentile), the call's cost while nothing
interfered. For each benchmark the two commits run in turns, in the order A B B A A B ..., so that
a noisy stretch of minutes falls on both sides alike, and the process values are weighed by the
regression rule (:func:`perfkit.verdict.regression.weigh`). An inconclusive answer measures more
processes, up to a limit, before it says anything.

Each process is asv's own benchmark runner (``asv/benchmark.py run``, from ``asv_runner``) in the
asv environment's interpreter, with the benchmarks of the working tree and the engine of the
commit: a git worktree of it first on the path (``ASV_PYTHONPATH``, which asv's runner script
reads), ahead of whatever the environment installed. A benchmark with a ``setup_cache`` gets it
once per commit, in a directory its processes share.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any

from ..data import asvdata
from ..data.gitrepo import worktree
from ..data.leftovers import TRIAL, prefix
from ..verdict.regression import ALPHA, Answer, Weighing, threshold_of, weigh

__all__ = [
    "FIRST",
    "MOST",
    "Benchmark",
    "Course",
    "Side",
    "Trial",
    "TrialError",
    "can_still_answer",
    "environment_python",
    "process_value",
    "schedule",
    "sides",
    "timed_benchmarks",
    "trial",
]

# Processes per commit before the first weighing, and the most a benchmark gets when the answer
# stays unknown; each further weighing adds STEP to both sides.
FIRST = 8
STEP = 4
MOST = 16
# Each process samples for a second (at least 3 samples, for the calls of a second), and its
# value is the 5th percentile of them. Across 16 processes of a claim, the logs of the process
# medians had a standard deviation of 0.10, those of the 5th percentiles 0.07, and 0.014 once the
# slowest fifth of the processes is trimmed, as the weighing does.
EXTRA = {"repeat": [3, 1_000_000, 1.0], "warmup_time": 0.1}
PERCENTILE = 5


class TrialError(Exception):
    """A benchmark process failed, or the environment to run it in is missing."""


@dataclass(frozen=True, slots=True)
class Benchmark:
    """One benchmark with one set of parameters: ``name`` as asv's results name it
    (``database.Get.time_get(1000)``), ``id`` as its runner takes it
    (``database.Get.time_get-0``)."""

    name: str
    id: str
    unit: str
    setup_cache_key: str | None = None
    timeout: float = 120.0


@dataclass
class Side:
    """One commit under test: the engine's worktree, and where its processes' files and cached
    setups live."""

    commit: str
    engine: Path
    scratch: Path
    caches: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Trial:
    """The evidence on one benchmark: each commit's process values, in the order they ran, and
    the weighing of them (None when the benchmark was skipped on either commit)."""

    benchmark: Benchmark
    before: tuple[float, ...]
    after: tuple[float, ...]
    weighing: Weighing | None
    skipped: str = ""
    # Which side a process of failed or ran past its timeout on: "before", "after" or "both".
    failed: str = ""
    # Why an unknown trial ended before the most processes, or was never weighed (the night's
    # time for timings ran out): reported with it as inconclusive, never as the same.
    note: str = ""

    @property
    def answer(self) -> Answer | None:
        return None if self.weighing is None else self.weighing.answer

    def as_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark.name,
            "unit": self.benchmark.unit,
            "before": list(self.before),
            "after": list(self.after),
            "weighing": None if self.weighing is None else self.weighing.as_dict(),
            "skipped": self.skipped,
            "failed": self.failed,
            "note": self.note,
        }


# Runs one process: (argv, cwd, env, timeout) -> what it printed; the default is
# subprocess.run. A process that fails raises TrialError.
Launch = Callable[[Sequence[str], Path, Mapping[str, str], float], str]

# What asv's runner prints for a benchmark whose setup raised NotImplementedError.
_SKIPPED = re.compile(r"^asv: skipped: \w*\((.*)\)\s*$", re.MULTILINE)


def skip_reason(output: str) -> str:
    """The reason a benchmark process printed for skipping (its ``NotImplementedError``'s
    message), or ``""``."""
    found = _SKIPPED.search(output or "")
    if not found:
        return ""
    try:
        said = ast.literal_eval(found.group(1))
    except (ValueError, SyntaxError):
        return found.group(1)
    return said if isinstance(said, str) else found.group(1)


def _launch(argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float) -> str:
    try:
        done = subprocess.run(list(argv), cwd=cwd, env=dict(env), timeout=timeout,
                              capture_output=True, text=True)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise TrialError(f"{argv[4]} ran past its timeout of {timeout:g} s") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise TrialError(f"{argv[4]} failed (exit status {done.returncode}):\n{tail}")
    return f"{done.stdout}{done.stderr}"


def environment_python(root: Path) -> Path:
    """The interpreter of ``root``'s asv environment; :class:`TrialError` when there is none."""
    python = asvdata.environment_python(root)
    if python is None:
        raise TrialError("no asv environment yet: run `asv setup` (or any `asv run`) first")
    return python


def timed_benchmarks(root: Path, pattern: str | None = None) -> list[Benchmark]:
    """The ``time_`` benchmarks asv discovered, one per parameter set, whose name matches the
    regular expression ``pattern`` when given."""
    found = asvdata.benchmark_list(root)
    if not found:
        raise TrialError("no benchmark list: run `asv run` or `asv check` first")
    wanted = re.compile(pattern) if pattern else None
    out = []
    for name, info in sorted(found.items()):
        if info.get("type") != "time":
            continue
        for full, runner_id in asvdata.parameter_sets(name, info):
            if wanted is not None and not wanted.search(full):
                continue
            out.append(
                Benchmark(
                    name=full,
                    id=runner_id,
                    unit=str(info.get("unit") or "seconds"),
                    setup_cache_key=info.get("setup_cache_key"),
                    timeout=float(info.get("timeout") or 120),
                )
            )
    return out


@contextmanager
def sides(root: Path, *commits: str) -> Iterator[list[Side]]:
    """A :class:`Side` for each commit (a git worktree of it), removed afterwards."""
    with ExitStack() as stack:
        out = []
        for commit in commits:
            engine = stack.enter_context(worktree(root, commit))
            temporary = tempfile.TemporaryDirectory(prefix=prefix(TRIAL))
            scratch = Path(stack.enter_context(temporary))
            out.append(Side(commit, engine, scratch))
        yield out


def process_value(result: Any) -> float:
    """The one observation a benchmark process gives: the :data:`PERCENTILE` of its samples (a
    timing), or its value (a ``track_``); NaN when it was skipped."""
    if isinstance(result, dict):
        samples = [float(s) for s in result.get("samples") or []]
        if len(samples) < 2:
            return samples[0] if samples else math.nan
        return statistics.quantiles(samples, n=100, method="inclusive")[PERCENTILE - 1]
    if result is None:
        return math.nan
    return float(result)


class Runner:
    """Runs benchmark processes for the sides of a trial."""

    def __init__(
        self,
        root: Path,
        python: Path,
        launch: Launch = _launch,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.root, self.python, self.launch = root, python, launch
        # What every process gets besides this one's environment (the night's server).
        self.extra = dict(env or {})
        self.skips: dict[tuple[str, str], str] = {}
        self.script = asvdata.runner_script()
        self.benchmark_dir = root / "benchmarks"

    def env(self, side: Side) -> dict[str, str]:
        """The benchmark process's environment: the side's engine first on its path. asv's
        runner script takes the path from ``ASV_PYTHONPATH``; it strips ``PYTHONPATH``'s
        entries from ``sys.path``, which would leave the environment's installed engine."""
        drop = ("PYTHONPATH", "ASV_PYTHONPATH", "PYTHONHASHSEED")
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update(self.extra)
        env["ASV_PYTHONPATH"] = str(side.engine)
        return env

    def workdir(self, side: Side, benchmark: Benchmark) -> Path:
        """Where a process of ``benchmark`` runs: the directory of its cached setup (made the
        first time), else a fresh one."""
        key = benchmark.setup_cache_key
        if key is None:
            return Path(tempfile.mkdtemp(dir=side.scratch))
        cached = side.caches.get(key)
        if cached is None:
            cached = Path(tempfile.mkdtemp(dir=side.scratch))
            argv = [str(self.python), self.script, "setup_cache", str(self.benchmark_dir),
                    benchmark.id, json.dumps(EXTRA)]  # fmt: skip
            self.launch(argv, cached, self.env(side), benchmark.timeout)
            side.caches[key] = cached
        return cached

    def once(self, side: Side, benchmark: Benchmark) -> float:
        """One fresh process of ``benchmark`` at ``side``'s commit: its value."""
        cwd = self.workdir(side, benchmark)
        out = Path(tempfile.mkstemp(dir=side.scratch, suffix=".json")[1])
        argv = [str(self.python), self.script, "run", str(self.benchmark_dir), benchmark.id,
                json.dumps(EXTRA), "None", str(out)]  # fmt: skip
        try:
            printed = self.launch(argv, cwd, self.env(side), benchmark.timeout)
            value = process_value(json.loads(out.read_text() or "null"))
            if math.isnan(value):
                self.skips[(side.commit, benchmark.name)] = skip_reason(printed)
            return value
        finally:
            out.unlink(missing_ok=True)
            if benchmark.setup_cache_key is None:
                shutil.rmtree(cwd, ignore_errors=True)


class Course:
    """One benchmark's trial under way, measured a weighing at a time: :meth:`step` runs the
    processes up to the next weighing (alternating the sides) and weighs them. The trial ends
    (:attr:`result`) when the rule answers, when ``most`` processes a side have left it unknown,
    when even ``most`` could no longer make it conclusive (:func:`can_still_answer`), when a
    process fails or is skipped, or when :meth:`stop` ends it (the night's time for timings ran
    out)."""

    def __init__(
        self,
        runner: Runner,
        benchmark: Benchmark,
        before: Side,
        after: Side,
        thresholds: Mapping[str, float],
        first: int = FIRST,
        most: int = MOST,
        alpha: float = ALPHA,
    ) -> None:
        if not 2 <= first <= most:
            raise ValueError(f"need 2 <= first <= most, not first={first}, most={most}")
        self.runner, self.benchmark, self.sides = runner, benchmark, (before, after)
        self.threshold = threshold_of(benchmark.name, thresholds)
        self.most, self.alpha = most, alpha
        self.values: tuple[list[float], list[float]] = ([], [])
        self.targets = schedule(first, most)
        self.turn = 0
        self.weighing: Weighing | None = None
        self.result: Trial | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def _end(self, weighing: Weighing | None, skipped: str = "", note: str = "") -> None:
        self.result = Trial(self.benchmark, tuple(self.values[0]), tuple(self.values[1]),
                            weighing, skipped=skipped, note=note)  # fmt: skip

    def step(self) -> None:
        """Measure up to the next weighing and weigh; the trial may end here."""
        if self.result is not None:
            return
        values, sides = self.values, self.sides
        target = next(self.targets)
        while len(values[1]) < target:
            order = (0, 1) if self.turn % 2 == 0 else (1, 0)
            for i in order:
                try:
                    values[i].append(self.runner.once(sides[i], self.benchmark))
                except TrialError as exc:
                    self.result = _failed(self.runner, self.benchmark, sides, values, i, exc)
                    return
            self.turn += 1
            if any(math.isnan(v) for side in values for v in side):
                self._end(None, _skipped(self.runner, self.benchmark, sides, values))
                return
        w = self.weighing = weigh(values[0], values[1], self.threshold, self.alpha)
        n = min(len(values[0]), len(values[1]))
        if w.answer is not Answer.UNKNOWN or n >= self.most:
            self._end(w)
        elif not can_still_answer(w, self.most, self.alpha):
            self._end(w, note=f"stopped at {n} processes a side: {self.most} could no longer"
                               " make it conclusive")  # fmt: skip

    def stop(self, why: str) -> Trial:
        """End the trial now: its last weighing (unknown) when it has one, else not weighed;
        ``why`` says why it ended."""
        if self.result is None:
            n = min(len(self.values[0]), len(self.values[1]))
            self._end(self.weighing, note=f"{why} at {n} processes a side" if n else why)
        assert self.result is not None
        return self.result


def trial(
    runner: Runner,
    benchmark: Benchmark,
    before: Side,
    after: Side,
    thresholds: Mapping[str, float],
    first: int = FIRST,
    most: int = MOST,
    alpha: float = ALPHA,
) -> Trial:
    """Measure ``benchmark`` at both sides in turns until the rule answers, or ``most`` processes
    a side have left it unknown, or more could no longer make it conclusive (:class:`Course`)."""
    course = Course(runner, benchmark, before, after, thresholds, first, most, alpha)
    while not course.done:
        course.step()
    assert course.result is not None
    return course.result


# Quantiles of the normal distribution: the 90 % interval's half-width in standard errors, and
# the allowance for how far more processes may still move the ratio (two standard errors).
_Z90 = NormalDist().inv_cdf(0.95)
_DRIFT = 2.0


def can_still_answer(w: Weighing, most: int, alpha: float = ALPHA) -> bool:
    """Whether a trial left unknown by ``w`` could still answer by ``most`` processes a side.

    The ratio's standard error is read from ``w``'s 90 % interval and shrinks as the square root
    of the processes; the ratio itself may still move by two standard errors of what the
    processes to come add. "The same" needs the interval at ``most`` inside the threshold,
    "different" a ratio beyond it and significant at ``alpha``; when neither is within reach
    even so, more processes would only cost time. The allowance is generous (normal quantiles
    where the test uses Student's), so a trial that could still answer is rarely cut short."""
    n = min(w.n_before, w.n_after)
    if n >= most:
        return False
    shift = abs(math.log(w.ratio))
    error = (math.log(w.high) - math.log(w.low)) / 2 / _Z90
    at_most = error * math.sqrt(n / most)
    drift = _DRIFT * error * math.sqrt(1 - n / most)
    bound = math.log1p(w.threshold)
    same = max(0.0, shift - drift) + _Z90 * at_most < bound
    reach = shift + drift
    different = reach >= bound and reach >= NormalDist().inv_cdf(1 - alpha / 2) * at_most
    return same or different


def schedule(first: int = FIRST, most: int = MOST) -> Iterator[int]:
    """The processes a side at each weighing of a trial: ``first``, then :data:`STEP` more while
    the answer is unknown, up to ``most``. The nightly job takes processes so, and the A/A
    calibration deals them out so."""
    n = first
    while True:
        yield n
        if n >= most:
            return
        n = min(most, n + STEP)


def _skipped(
    runner: Runner,
    benchmark: Benchmark,
    sides: tuple[Side, Side],
    values: tuple[list[float], list[float]],
) -> str:
    """Which side a benchmark was skipped on ("before", "after", "on both commits"), and the
    reason its process gave, when it gave one (a server missing on both, typically)."""
    nan = [any(math.isnan(v) for v in side) for side in values]
    which = "on both commits" if all(nan) else "before" if nan[0] else "after"
    skips = getattr(runner, "skips", {})
    reasons = dict.fromkeys(
        skips.get((side.commit, benchmark.name), "")
        for side, skipped in zip(sides, nan, strict=True)
        if skipped
    )
    said = "; ".join(r for r in reasons if r)
    return f"skipped {which}: {said}" if said else f"skipped {which}"


def _failed(
    runner: Runner,
    benchmark: Benchmark,
    sides: tuple[Side, Side],
    values: tuple[list[float], list[float]],
    side: int,
    error: TrialError,
) -> Trial:
    """The trial of a benchmark whose process failed at ``sides[side]``: when that is the
    baseline and the target has not run yet, one process of the target says whether it fails
    there too (a benchmark broken on both commits is broken; on the baseline only, it cannot be
    compared)."""
    failed = {side: str(error).splitlines()[0]}
    if side == 0 and not values[1]:
        try:
            values[1].append(runner.once(sides[1], benchmark))
        except TrialError as exc:
            failed[1] = str(exc).splitlines()[0]
    which = {0: "before", 1: "after"}
    said = "; ".join(f"{which[i]}: {why}" for i, why in sorted(failed.items()))
    return Trial(benchmark, tuple(values[0]), tuple(values[1]), None, f"failed {said}",
                 "both" if len(failed) == 2 else which[side])  # fmt: skip
