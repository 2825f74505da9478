"""How well the history's change points match annotated changes on public performance series.

Scoring follows the convention of the Turing change point benchmark (TCPDBench): a detection
within ``margin`` indices of an annotated change is a true positive, each annotation is matched
at most once (to its nearest unmatched detection), precision is true positives over detections
and recall true positives over annotations. Unlike TCPDBench, the trivial change point at the
first index is not added to both sides: it would count a free hit for every series.

Two public sources are read, both Apache-2.0 packages on PyPI (``pip download --no-deps
--no-binary :all: NAME==VERSION`` fetches the sdist; unpack it anywhere):

- ``apache-otava`` 0.8.0: its test ``tests/tigerbeetle_test.py`` holds one real benchmark series
  (TigerBeetle, as published for Nyrkiö's demo), annotated in its docstring by the indices on
  the axis of its sketch;
- ``otava-test-data`` 0.1.9: ``otava-gen generate --output-dir DIR --seed 42`` writes synthetic
  performance-like series (steps, a regression and its fix, outliers, variance changes, bands)
  and ``manifest.json``, the indices and kinds of their changes.

Three detectors are compared: plain PELT (:func:`perfkit.verdict.changepoints.candidates`, no
t-test), the history's change points as alerts (regressions and improvements, what the site lists),
and the same with each transient counted at its start and at its return.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..data.asvdata import Measurement
from ..kit.exits import Exit
from ..kit.options import Parser, UsageError, integer
from .changepoints import Label, candidates, shifts

__all__ = ["DETECTORS", "MARGIN", "Score", "Series", "evaluate", "load", "score"]

# The TCPDBench margin: a detection up to five indices from an annotation finds it.
MARGIN = 5
_OBTAIN = (
    "pass an unpacked apache-otava 0.8.0 sdist (pip download --no-deps --no-binary :all:"
    " apache-otava==0.8.0) or a directory written by otava-gen generate --output-dir DIR"
    " --seed 42 (pip install otava-test-data==0.1.9)"
)


@dataclass(frozen=True, slots=True)
class Score:
    hits: int
    annotations: int
    detections: int

    @property
    def precision(self) -> float:
        return self.hits / self.detections if self.detections else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.annotations if self.annotations else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(self.hits + other.hits, self.annotations + other.annotations,
                     self.detections + other.detections)  # fmt: skip


def score(annotations: Sequence[int], detections: Sequence[int], margin: int = MARGIN) -> Score:
    """Annotations matched by detections within ``margin`` indices, each match used once."""
    free = sorted(set(detections))
    hits = 0
    for truth in sorted(set(annotations)):
        near = [d for d in free if abs(d - truth) <= margin]
        if near:
            free.remove(min(near, key=lambda d: (abs(d - truth), d)))
            hits += 1
    return Score(hits, len(set(annotations)), len(set(detections)))


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float, ...]
    annotations: tuple[int, ...]


def load(path: Path) -> list[Series]:
    """The annotated series under ``path``: an apache-otava source tree or an otava-gen
    directory (its ``manifest.json``)."""
    tigerbeetle = path / "tests" / "tigerbeetle_test.py"
    if tigerbeetle.is_file():
        return [_tigerbeetle(tigerbeetle)]
    if (path / "manifest.json").is_file():
        return _generated(path)
    raise FileNotFoundError(f"{path}: no annotated series found; {_OBTAIN}")


def _tigerbeetle(path: Path) -> Series:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_get_series":
            doc = ast.get_docstring(node) or ""
            axis = doc.strip().splitlines()[-1]  # the numbers under the sketch's time axis
            values = next(ast.literal_eval(n.value) for n in node.body
                          if isinstance(n, ast.Return) and n.value is not None)  # fmt: skip
            marks = tuple(int(m) for m in re.findall(r"\d+", axis))
            return Series("tigerbeetle", tuple(float(v) for v in values), marks)
    raise ValueError(f"{path}: no _get_series() in it")


def _generated(path: Path) -> list[Series]:
    out = []
    manifest = path / "manifest.json"
    try:
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            with (path / entry["filename"]).open(newline="", encoding="utf-8") as f:
                values = tuple(float(row["value"]) for row in csv.DictReader(f))
            marks = tuple(int(i) for i in entry["change_point_indices"])
            out.append(Series(entry["filename"], values, marks))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{manifest}: not a manifest otava-gen writes ({exc!r})") from None
    return out


Detector = Callable[[Sequence[float]], list[int]]


def plain_pelt(values: Sequence[float]) -> list[int]:
    return candidates([math.log(v) for v in values])


def _history(values: Sequence[float], transients: bool) -> list[int]:
    points = [Measurement("series", f"{i:040x}", i, v, unit="seconds")
              for i, v in enumerate(values)]  # fmt: skip
    found = []
    for s in shifts("series", points, {}):
        if s.label is not Label.TRANSIENT:
            found.append(s.index)
        elif transients and s.end is not None:
            found += [s.index, s.end]
    return found


DETECTORS: dict[str, Detector] = {
    "plain PELT": plain_pelt,
    "history, alerts": lambda v: _history(v, transients=False),
    "history, with transients": lambda v: _history(v, transients=True),
}


def evaluate(series: Sequence[Series], detector: Detector, margin: int = MARGIN) -> Score:
    """The summed score of ``detector`` over ``series`` (those with a value not positive are
    left out: the history reads logarithms)."""
    total = Score(0, 0, 0)
    for s in series:
        if all(v > 0 and math.isfinite(v) for v in s.values):
            total += score(s.annotations, detector(s.values), margin)
    return total


def main(argv: list[str]) -> int:
    """``scripts/evaluate_changepoints.py``: exit status 0; 8 when a path holds no usable series
    (nothing was scored there: its row says so, never a perfect score); 64 when a path holds no
    data or data that cannot be read."""
    parser = Parser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="exit status: 0 every path scored; 8 a path held no usable series (no score);"
        " 64 bad usage, or a path without annotated series",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="where the annotated series are")
    parser.add_argument("--margin", type=integer(0), default=MARGIN, help=f"default: {MARGIN}")
    options = parser.parse_args(argv)
    found = {}
    for path in options.paths:  # every path read before anything is printed
        try:
            series = load(path)
        except (FileNotFoundError, ValueError) as exc:
            raise UsageError(str(exc)) from exc
        found[path] = [s for s in series if all(v > 0 and math.isfinite(v) for v in s.values)]
    print("| data | series | annotations | detector | detections | hits | P | R | F1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    status = Exit.OK
    for path, usable in found.items():
        if not usable:
            print(f"| {path.name} | 0 | — | — | — | — | — | — | — |")
            print(f"evaluate-changepoints: {path}: no usable series (every value must be"
                  " positive and finite): nothing scored", file=sys.stderr)  # fmt: skip
            status = Exit.NOT_JUDGED
            continue
        for name, detector in DETECTORS.items():
            t = evaluate(usable, detector, options.margin)
            print(f"| {path.name} | {len(usable)} | {t.annotations} | {name} | {t.detections}"
                  f" | {t.hits} | {t.precision:.2f} | {t.recall:.2f} | {t.f1:.2f} |")  # fmt: skip
    return status
