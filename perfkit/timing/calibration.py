"""A/A calibration of the timing verdict: how often does it call identical code different?

One commit is measured in a pool of fresh processes per benchmark (:mod:`perfkit.timing.trials`, the
processes the nightly job would run). Each simulated night then deals every benchmark's pool
out into the two sides of a trial, in a fresh random order, exactly as the nightly job would
consume processes (``FIRST`` a side, then ``STEP`` more while the answer is unknown, up to
``MOST``), and weighs them by the regression rule. A night is red when any benchmark comes out
slower. Every observation is a real process; only the pairing is resampled, so many nights cost
one pool.

``--merge`` calibrates some benchmarks (``--bench``) into an existing file: the other benchmarks
keep their thresholds and pools, and the record lists each part measured (``parts``: its commit,
benchmarks, processes, and the machine's load average before and after measuring, since a
calibration under load finds a wider spread and sets wider thresholds than a quiet machine
would).

From the same pool each benchmark gets its threshold: the relative change beyond which at most
one resampled A/A trial in a thousand is also significant, with a margin, and never below
:data:`FLOOR`. The thresholds are written to ``calibration/<machine>.json``, where the
nightly job, the report and the site read them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorch.errors import ConfigurationError

from ..data.files import write_text_atomic
from ..data.gitrepo import git, toplevel
from ..data.nightly_file import read_trials
from ..kit.command import guarded
from ..kit.exits import Exit
from ..kit.options import (
    Parser,
    UsageError,
    add_bench,
    add_machine,
    add_repo,
    integer,
)
from ..verdict.calibration_data import read_calibration
from ..verdict.history import calibration_file
from ..verdict.regression import ALPHA, DEFAULT_THRESHOLD, Answer, Weighing, threshold_of, weigh
from .timings import nightly_benchmarks
from .trials import (
    FIRST,
    MOST,
    Benchmark,
    Runner,
    TrialError,
    can_still_answer,
    environment_python,
    schedule,
    sides,
)

__all__ = [
    "CAP",
    "FLOOR",
    "Judged",
    "Night",
    "deal",
    "judged",
    "main",
    "measure_pool",
    "power",
    "resolvable",
    "simulate",
    "thresholds_from",
]

# The smallest threshold calibration sets: below it the spread within one process (1-2 %) and
# the machine's slow drift decide more than the code does.
FLOOR = 0.03
# The share of resampled A/A trials a threshold may let through (about 30 benchmarks a night:
# one red night in 30 at most, before the margin), the margin over it, and the trials dealt.
RATE = 0.001
MARGIN = 1.25
SPLITS = 2000
# The factors of plain ``asv continuous`` shown beside the weighing.
ASV_FACTORS = (1.1, 1.15)
# A threshold no tighter than the night can resolve: at least the half-width the 90 % interval
# of the ratio reaches at the most processes a side (the farther end from 1) in this share of
# resampled A/A trials, so that identical code comes out "the same" instead of inconclusive.
RESOLVED = 0.9
# The slowdown a night must call red, and how often: a benchmark whose resampled trials call a
# slowdown of SLOWDOWN red less often than POWER at its threshold cannot be judged by a night.
SLOWDOWN = 0.10
POWER = 0.9
# The largest threshold a night judges with, clearly below SLOWDOWN: the injected 10 %
# slowdowns measured x1.081-1.123 at the process's 5th percentile (docs/benchmarks.md, "A/B:
# injected slowdowns"), so a threshold must stay under the lowest of them, and at 7 % a
# benchmark the power check lets through (its ratio's standard error at most about 2 % at 16
# processes a side, which p <= 0.001 on a 10 % move needs) still sees a 10 % move beyond it
# in nine trials of ten. A benchmark that needs more is left to the history.
CAP = 0.07


def measure_pool(
    runner: Runner, benchmarks: Sequence[Benchmark], commit: str, processes: int
) -> dict[str, list[float]]:
    """``processes`` fresh processes of each benchmark at ``commit``: their values, by name.
    Benchmarks skipped at the commit are left out."""
    pool: dict[str, list[float]] = {}
    with sides(runner.root, commit) as (side,):
        for i, bench in enumerate(benchmarks, 1):
            start = time.monotonic()
            values = [runner.once(side, bench) for _ in range(processes)]
            if any(math.isnan(v) for v in values):
                print(f"[{i}/{len(benchmarks)}] {bench.name}: skipped", file=sys.stderr)
                continue
            pool[bench.name] = values
            print(f"[{i}/{len(benchmarks)}] {bench.name}: median {statistics.median(values):.4g}"
                  f" ({time.monotonic() - start:.0f} s)", file=sys.stderr, flush=True)  # fmt: skip
    return pool


def deal(
    values: Sequence[float],
    rng: random.Random,
    threshold: float,
    first: int = FIRST,
    most: int = MOST,
    alpha: float = ALPHA,
    factor: float = 1.0,
) -> Weighing:
    """One trial dealt from a pool: the values shuffled, then taken as the nightly job takes
    processes (:func:`perfkit.timing.trials.schedule`, stopping where more could no longer
    make it conclusive, :func:`perfkit.timing.trials.can_still_answer`); the second side's
    values times ``factor`` (1: an A/A trial; 1.1: a slowdown of 10 %)."""
    if len(values) < 2 * most:
        raise ValueError(f"a pool of {len(values)} cannot fill two sides of {most}")
    order = list(values)
    rng.shuffle(order)
    for n in schedule(first, most):
        after = [v * factor for v in order[most : most + n]]
        weighing = weigh(order[:n], after, threshold, alpha)
        if weighing.answer is not Answer.UNKNOWN or not can_still_answer(weighing, most, alpha):
            break
    return weighing


def thresholds_from(
    pool: Mapping[str, Sequence[float]], rng: random.Random, trials: int = SPLITS
) -> dict[str, float]:
    """Each benchmark's threshold from its pool: the smallest relative change that leaves at
    most :data:`RATE` of resampled A/A trials (dealt as the nightly job takes processes) both
    significant and beyond it, times :data:`MARGIN`, at least :data:`FLOOR`, rounded up to half
    a percent."""
    out = {}
    for name, values in pool.items():
        beyond = []
        for _ in range(trials):
            w = deal(values, rng, FLOOR)
            beyond.append(abs(math.log(w.ratio)) if w.p <= ALPHA else 0.0)
        beyond.sort()
        edge = math.expm1(beyond[min(len(beyond) - 1, int((1 - RATE) * len(beyond)))]) * MARGIN
        out[name] = max(FLOOR, math.ceil(edge * 200) / 200)
    return out


def _pc(x: float) -> str:
    """A share as the docs write it: ``6.5 %``."""
    return f"{x * 100:.1f}".removesuffix(".0") + " %"


def _half_percent(x: float) -> float:
    return math.ceil(x * 200 - 1e-9) / 200


def resolvable(values: Sequence[float], rng: random.Random, trials: int = SPLITS) -> float:
    """The smallest threshold the night can resolve for a benchmark of this pool: the relative
    change that holds the 90 % interval of the ratio of ``MOST`` processes a side, both ends,
    in :data:`RESOLVED` of resampled A/A trials, rounded up to half a percent."""
    ends = []
    for _ in range(trials):
        order = list(values)
        rng.shuffle(order)
        w = weigh(order[:MOST], order[MOST : 2 * MOST], FLOOR)
        ends.append(max(-math.log(w.low), math.log(w.high)))
    ends.sort()
    return _half_percent(math.expm1(ends[min(len(ends) - 1, int(RESOLVED * len(ends)))]))


def power(
    values: Sequence[float], rng: random.Random, threshold: float, trials: int = SPLITS
) -> float:
    """The share of trials dealt from the pool, one side :data:`SLOWDOWN` slower, that the rule
    calls slower at ``threshold``."""
    red = 0
    for _ in range(trials):
        w = deal(values, rng, threshold, factor=1 + SLOWDOWN)
        red += w.answer is Answer.DIFFERENT and w.ratio > 1
    return red / trials


@dataclass(frozen=True, slots=True)
class Judged:
    """What the calibration found for one benchmark: ``threshold`` (what the night and the
    history weigh with), the thresholds the false alarms alone and the night's resolution alone
    ask for, the share of 10 % slowdowns called red at ``threshold``, and why a night cannot
    judge it at 10 % (empty: it can)."""

    threshold: float
    false_alarms: float
    resolvable: float
    power: float
    history_only: str = ""


def judged(
    values: Sequence[float], false_alarms: float, rng: random.Random, trials: int = SPLITS
) -> Judged:
    """A benchmark's threshold: the larger of what its false alarms ask for and what the night
    can resolve (:func:`resolvable`). Above :data:`CAP`, or when a 10 % slowdown would be red
    in fewer than :data:`POWER` of trials, a night cannot judge it at 10 %: it is left to the
    history (which weighs change points with the threshold), saying why."""
    res = resolvable(values, rng, trials)
    wanted = max(false_alarms, res)
    if wanted > CAP:
        cause = (
            f"{MOST} processes a side resolve" if res >= false_alarms else "its false alarms ask"
        )
        why = (f"needs a threshold of {_pc(wanted)} ({cause} no less), above the {_pc(CAP)}"
               " cap below a 10 % slowdown")  # fmt: skip
        return Judged(wanted, false_alarms, res, 0.0, why)
    caught = power(values, rng, wanted, trials)
    why = ""
    if caught < POWER:
        why = (f"a 10 % slowdown is red in only {_pc(caught)} of resampled trials at its"
               f" {_pc(wanted)} threshold (needs {_pc(POWER)})")  # fmt: skip
    return Judged(wanted, false_alarms, res, caught, why)


# What the file says of how its thresholds were set, for whoever reads it.
RULE = (
    f"threshold = the larger of false_alarms (the smallest change beyond which at most {RATE:.1%}"
    f" of resampled A/A trials are also significant, times {MARGIN}, at least {FLOOR:.0%}) and"
    f" resolvable (the half-width {MOST} processes a side give the 90 % interval of the ratio in"
    f" {RESOLVED:.0%} of resampled A/A trials: a tighter threshold only buys 'inconclusive');"
    f" history_only: a threshold above {CAP:.0%}, or a {SLOWDOWN:.0%} slowdown red in fewer"
    f" than {POWER:.0%} of resampled trials (power_10): a night cannot judge it at"
    f" {SLOWDOWN:.0%}, so it is left to the history, never called the same"
)


def _two_groups(
    values: Sequence[float], n: int, rng: random.Random
) -> tuple[list[float], list[float]]:
    chosen = rng.sample(list(values), 2 * n)
    return chosen[:n], chosen[n:]


@dataclass(frozen=True, slots=True)
class Night:
    """One simulated night: the benchmarks called slower or faster, and those left unknown."""

    slower: tuple[str, ...]
    faster: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def red(self) -> bool:
        return bool(self.slower)


def simulate(
    pool: Mapping[str, Sequence[float]],
    thresholds: Mapping[str, float],
    nights: int,
    rng: random.Random,
    most: int = MOST,
) -> list[Night]:
    """``nights`` resampled A/A nights over every benchmark of ``pool``."""
    out = []
    for _ in range(nights):
        slower: list[str] = []
        faster: list[str] = []
        unknown: list[str] = []
        for name, values in pool.items():
            w = deal(values, rng, threshold_of(name, thresholds), most=most)
            if w.answer is Answer.DIFFERENT:
                (slower if w.ratio > 1 else faster).append(name)
            elif w.answer is Answer.UNKNOWN:
                unknown.append(name)
        out.append(Night(tuple(slower), tuple(faster), tuple(unknown)))
    return out


def asv_nights(
    pool: Mapping[str, Sequence[float]], factor: float, nights: int, rng: random.Random
) -> list[Night]:
    """The same nights judged the way ``asv continuous --factor`` does with its default two
    rounds: two processes a side, slower when the ratio of the medians passes ``factor``. (Its
    rank test on the samples passes whenever two processes differ, since the samples of one
    process agree among themselves to 1-2 %; so the factor alone decides.)"""
    out = []
    for _ in range(nights):
        slower: list[str] = []
        faster: list[str] = []
        for name, values in pool.items():
            a, b = _two_groups(values, 2, rng)
            ratio = statistics.median(b) / statistics.median(a)
            if ratio > factor:
                slower.append(name)
            elif ratio < 1 / factor:
                faster.append(name)
        out.append(Night(tuple(slower), tuple(faster), ()))
    return out


def table(
    pool: Mapping[str, Sequence[float]],
    before: Sequence[Night],
    after: Sequence[Night],
    thresholds: Mapping[str, float],
) -> str:
    """Per benchmark: the process spread, the threshold, and how often a resampled A/A trial
    called it different with the default threshold and with the calibrated one."""
    rows = [f"{'benchmark':<52} {'spread':>7} {'thresh':>7} {'FA default':>10} {'FA calib':>9}"]
    for name, values in pool.items():
        centre = statistics.median(values)
        spread = statistics.median(abs(v / centre - 1) for v in values)
        rate = [
            sum(name in n.slower or name in n.faster for n in nights) / max(1, len(nights))
            for nights in (before, after)
        ]
        rows.append(f"{name:<52} {spread:>6.1%} {thresholds.get(name, 0):>6.1%}"
                    f" {rate[0]:>10.2%} {rate[1]:>9.2%}")  # fmt: skip
    return "\n".join(rows)


def red_nights(runs: Mapping[str, Sequence[Night]]) -> str:
    """How many nights each way of judging called red."""
    rows = []
    for title, nights in runs.items():
        red = sum(n.red for n in nights)
        rows.append(f"nights red, {title}: {red} of {len(nights)}"
                    f" ({red / max(1, len(nights)):.2%})")  # fmt: skip
    return "\n".join(rows)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = Parser(description=(__doc__ or "").split("\n\n")[0])
    add_repo(parser)
    add_machine(parser, ": whose thresholds these are")
    parser.add_argument("--commit", default="HEAD", help="the code measured (default: HEAD)")
    add_bench(parser, " (of those the nightly weighs)")
    parser.add_argument(
        "--processes",
        type=integer(2 * MOST, 100_000),
        default=2 * MOST,
        help=f"processes per benchmark in the pool (default and least: {2 * MOST})",
    )
    parser.add_argument(
        "--nights",
        type=integer(1, 1_000_000),
        default=1000,
        help="nights to resample (default: 1000)",
    )
    parser.add_argument("--seed", type=integer(0), default=0, help="of the resampling (default: 0)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pool", type=Path, help="reuse the pool of an earlier calibration file")
    source.add_argument(
        "--from-nights",
        type=Path,
        nargs="+",
        metavar="NIGHTLY_JSON",
        help="pool the processes of nightly reports (.asv/nightly.json) of identical code on"
        " both sides, instead of measuring",
    )
    parser.add_argument("--out", type=Path, help="default: calibration/<machine>.json")
    parser.add_argument(
        "--note",
        help="what the record should say of the parts this run adds (the load beside it, ...)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the benchmarks of the existing --out file that this calibration does not"
        " measure (their thresholds and pools), instead of replacing the file",
    )
    return parser.parse_args(list(argv))


def _kept_pool(path: Path) -> tuple[dict[str, list[float]], str]:
    """The pool and commit of an earlier calibration file."""
    try:
        kept = read_calibration(path)
    except ConfigurationError as exc:
        raise UsageError(f"--pool {exc}") from exc
    if kept is None or kept.pool is None or kept.commit is None:
        said = "does not exist" if kept is None else "holds no pool and commit"
        raise UsageError(f"--pool {path}: {said}")
    pool, commit = kept.pool, kept.commit
    for name, values in pool.items():
        if len(values) < 2 * MOST or not all(math.isfinite(v) and v > 0 for v in values):
            raise UsageError(f"--pool {path}: {name} needs {2 * MOST} positive values")
    return pool, commit


def _nights_pool(paths: Sequence[Path]) -> tuple[dict[str, list[float]], str]:
    """The process values of nightly A/A reports, both sides of every trial, by benchmark; a
    benchmark with fewer than two full sides of processes is left out, saying so."""
    pool: dict[str, list[float]] = {}
    targets = []
    for path in paths:
        try:
            target, trials = read_trials(path)
        except ValueError as exc:
            raise UsageError(f"--from-nights {path}: {exc}") from exc
        targets.append(target)
        for t in trials:
            pool.setdefault(t.benchmark, []).extend((*t.before, *t.after))
    for name in sorted(pool):
        if len(pool[name]) < 2 * MOST:
            print(f"{name}: {len(pool[name])} processes, fewer than {2 * MOST}; left out",
                  file=sys.stderr)  # fmt: skip
            del pool[name]
    if not pool:
        raise UsageError("--from-nights: no benchmark has enough processes")
    return pool, ",".join(sorted(set(targets)))


def _say(what: str) -> None:
    """Progress of a long step, on the standard error (the results go to the standard output)."""
    print(what, file=sys.stderr, flush=True)


def _load() -> list[float]:
    """The machine's load average over 1, 5 and 15 minutes."""
    return [round(x, 2) for x in os.getloadavg()]


def _parts_of(path: Path, pool: Mapping[str, Sequence[float]]) -> list[dict[str, Any]]:
    """The parts an earlier calibration file recorded, for the benchmarks of ``pool``; none
    when it recorded none."""
    found = json.loads(path.read_text(encoding="utf-8")).get("parts") or []
    out = []
    for part in found:
        names = [n for n in part.get("benchmarks", ()) if n in pool]
        if names:
            out.append({**part, "benchmarks": names})
    return out


def _merged_into(path: Path) -> dict[str, Any]:
    """The calibration file ``--merge`` adds to: its record, which must hold thresholds and a
    pool for the same benchmarks."""
    try:
        found = read_calibration(path)
    except ConfigurationError as exc:
        raise UsageError(f"--merge: {exc}") from exc
    if found is None or found.thresholds is None or found.pool is None:
        said = "does not exist" if found is None else "holds no thresholds and pool"
        raise UsageError(f"--merge: {path} {said}")
    if set(found.thresholds) != set(found.pool):
        raise UsageError(f"--merge: {path}: its thresholds and its pool name other benchmarks")
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def _merge(
    kept: Mapping[str, Any],
    pool: Mapping[str, list[float]],
    thresholds: Mapping[str, float],
    new: list[dict[str, Any]],
) -> tuple[dict[str, list[float]], dict[str, float], list[dict[str, Any]]]:
    """The kept file's benchmarks that were not measured now, with the new ones: pools,
    thresholds, and the parts measured (a file written before parts were recorded is one part,
    its commit, its benchmarks, its processes, its load unknown)."""
    old = {n: v for n, v in kept["pool"].items() if n not in pool}
    merged_pool = {**old, **pool}
    # What the false alarms asked for, where the file says (else its threshold, as before the
    # night's resolution was taken into account).
    asked = {**kept["thresholds"], **(kept.get("false_alarms") or {})}
    merged = {**{n: float(asked[n]) for n in old}, **thresholds}
    whole = {"commit": kept.get("commit"), "benchmarks": sorted(kept["pool"]),
             "processes": kept.get("processes"), "load_before": None,
             "load_after": None}  # fmt: skip
    earlier = kept.get("parts") or [whole]
    parts = []
    for p in earlier:
        left = [n for n in p["benchmarks"] if n in old]
        if left:
            parts.append({**p, "benchmarks": left})
    return dict(sorted(merged_pool.items())), dict(sorted(merged.items())), [*parts, *new]


@guarded
def calibrate(options: argparse.Namespace) -> int:
    try:
        return _calibrate(options)
    except (TrialError, subprocess.CalledProcessError) as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return Exit.CANNOT_RUN


def _calibrate(options: argparse.Namespace) -> int:
    root = (options.repo or toplevel()).resolve()
    out = options.out or calibration_file(root, options.machine)
    kept = _merged_into(out) if options.merge else None
    # The load is known only for what is measured now; a part taken from a file keeps its own.
    load: dict[str, Any] = {"load_before": None, "load_after": None}
    earlier: list[dict[str, Any]] = []
    if options.pool:
        pool, commit = _kept_pool(options.pool)
        earlier = _parts_of(options.pool, pool)
    elif options.from_nights:
        pool, commit = _nights_pool(options.from_nights)
    else:
        load["load_before"] = _load()
        benchmarks = nightly_benchmarks(root, options.bench)
        if not benchmarks:
            raise UsageError(f"--bench {options.bench}: matches no timing the nightly weighs")
        commit = git(root, "rev-parse", options.commit)
        runner = Runner(root, environment_python(root))
        print(f"measuring {len(benchmarks)} benchmarks at {commit[:8]} in {options.processes}"
              " processes each", file=sys.stderr)  # fmt: skip
        pool = measure_pool(runner, benchmarks, commit, options.processes)
        load["load_after"] = _load()
    parts = earlier or [{"commit": commit, "benchmarks": sorted(pool),
                         "processes": len(next(iter(pool.values()), [])), **load}]  # fmt: skip
    if options.note:
        parts = [{**p, "note": options.note} for p in parts]
    rng = random.Random(options.seed)
    _say(f"resampling: the false alarms of {len(pool)} pools")
    thresholds = thresholds_from(pool, rng)
    if kept is not None:
        pool, thresholds, parts = _merge(kept, pool, thresholds, parts)
        commit = ",".join(dict.fromkeys(str(p["commit"]) for p in parts))
    false_alarms = thresholds
    found = {}
    for i, name in enumerate(pool, 1):
        _say(f"[{i}/{len(pool)}] what a night can resolve and catch: {name}")
        found[name] = judged(pool[name], false_alarms[name], rng)
    thresholds = {name: j.threshold for name, j in found.items()}
    left = {name: j.history_only for name, j in found.items() if j.history_only}
    nightly = {name: values for name, values in pool.items() if name not in left}
    _say(f"simulating {options.nights} A/A nights of {len(nightly)} timings, twice, and asv's")
    before = simulate(nightly, {name: DEFAULT_THRESHOLD for name in nightly}, options.nights, rng)
    after = simulate(nightly, thresholds, options.nights, rng)
    plain = {f: asv_nights(nightly, f, options.nights, rng) for f in ASV_FACTORS}
    print(table(pool, before, after, thresholds))
    for name, j in found.items():
        print(f"{name:<52} false alarms {j.false_alarms:>5.1%}  resolvable {j.resolvable:>5.1%}"
              f"  10 % red {j.power:>4.0%}  {j.history_only or 'judged a night'}")  # fmt: skip
    print(red_nights({
        **{f"asv continuous --factor {f} (2 processes a side)": n for f, n in plain.items()},
        "weighed, default 5 % threshold": before,
        "weighed, calibrated thresholds": after,
    }))  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "machine": options.machine,
        "commit": commit,
        "processes": max(len(values) for values in pool.values()),
        "nights": options.nights,
        "seed": options.seed,
        "red_nights_default": sum(n.red for n in before),
        "red_nights_calibrated": sum(n.red for n in after),
        "red_nights_asv": {str(f): sum(n.red for n in plain[f]) for f in ASV_FACTORS},
        "thresholds": thresholds,
        "rule": RULE,
        "false_alarms": false_alarms,
        "resolvable": {name: j.resolvable for name, j in found.items()},
        "power_10": {name: round(j.power, 3) for name, j in found.items()},
        "history_only": left,
        "parts": parts,
        "pool": pool,
    }
    # Whole or not at all: with --merge this file holds every other benchmark's threshold too.
    write_text_atomic(out, json.dumps(record, indent=1) + "\n")
    print(f"thresholds written to {out}")
    return Exit.OK


def main(argv: Sequence[str] | None = None) -> int:
    return calibrate(parse_args(sys.argv[1:] if argv is None else argv))
