"""Result folders in asv's own format, written by asv's own classes (``asv.results.Results``,
``asv.util.write_json``), so that the readers, the regression rule and the nightly job are tested
on real files without running a benchmark.

A benchmark's values are given one per parameter set: a list of samples (asv computes the median
and its statistics, as ``asv run`` does), a plain number (a ``track_`` value, no statistics),
``None`` (the benchmark failed) or NaN (it was skipped).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from asv import util  # type: ignore[import-untyped]
from asv.results import Results  # type: ignore[import-untyped]
from asv.runner import BenchmarkResult  # type: ignore[import-untyped]

Value = Sequence[float] | float | None
ENV = "virtualenv-py3.11"


def write_results(
    results: Path,
    machine: str,
    commit: str,
    values: Mapping[str, Sequence[Value]],
    *,
    date: int,
    params: Mapping[str, list[list[str]]] | None = None,
    units: Mapping[str, str] | None = None,
    versions: Mapping[str, str] | None = None,
) -> Path:
    """Write ``commit``'s result file (and ``machine.json``, ``benchmarks.json``); returns it."""
    params, units, versions = params or {}, units or {}, versions or {}
    (results / machine).mkdir(parents=True, exist_ok=True)
    util.write_json(str(results / machine / "machine.json"), {"machine": machine}, api_version=1)
    described = _described(results)
    saved = Results({"machine": machine}, {}, commit, date, "3.11", ENV, {})
    for name, per_param in values.items():
        benchmark = {
            "name": name,
            "params": params.get(name, []),
            "param_names": [f"param{i + 1}" for i in range(len(params.get(name, [])))],
            "version": versions.get(name, "1"),
            "unit": units.get(name, "seconds"),
            "type": name.rsplit(".", 1)[-1].split("_", 1)[0],
        }
        combos = len(list(itertools.product(*benchmark["params"])))
        assert combos == len(per_param), f"{name}: {combos} parameter sets, {len(per_param)} values"
        saved.add_result(benchmark, _result(per_param), record_samples=True)
        described[name] = benchmark
    saved.save(str(results))
    util.write_json(str(results / "benchmarks.json"), described, api_version=2)
    return results / machine / f"{commit[:8]}-{ENV}.json"


def _result(per_param: Sequence[Value]) -> Any:
    value: list[float | None] = []
    samples: list[list[float] | None] = []
    number: list[int | None] = []
    for v in per_param:
        if isinstance(v, Sequence):
            value.append(v[0])  # replaced by the samples' median when asv adds the result
            samples.append(list(v))
            number.append(1)
        else:
            value.append(v)
            samples.append(None)
            number.append(None)
    return BenchmarkResult(value, samples, number, 0, "", None)


def _described(results: Path) -> dict[str, Any]:
    try:
        found = util.load_json(str(results / "benchmarks.json"), api_version=2)
    except (OSError, util.UserError):
        return {}
    return dict(found)


def spread(center: float, n: int = 20, width: float = 0.01) -> list[float]:
    """``n`` samples tightly around ``center`` (± ``width`` relative), deterministic."""
    return [center * (1 + width * math.sin(i)) for i in range(n)]


def noisy(n: int, seed: int, sigma: float = 0.02, center: float = 1e-5) -> list[float]:
    """``n`` values around ``center``, each off by a log-normal factor of spread ``sigma``, as
    the medians of separate runs are; the same for the same seed."""
    r = random.Random(seed)
    return [center * math.exp(r.gauss(0, sigma)) for _ in range(n)]


def step(values: list[float], at: int, factor: float) -> list[float]:
    """``values`` with those from index ``at`` on multiplied by ``factor``: a new level."""
    return [v * (factor if i >= at else 1) for i, v in enumerate(values)]


#: The smallest configuration asv accepts, for a toy repository.
TOY_CONFIG = """// comments and trailing commas are allowed
{"version": 1, "project": "toy", "repo": ".", "branches": ["main"],
 "results_dir": "results", "html_dir": "html",}
"""


def toy_repository(root: Path, commits: int) -> list[str]:
    """A git repository at ``root`` with an asv configuration and ``commits`` commits, each
    changing one file; returns their hashes, oldest first."""
    from perfkit.data.gitrepo import git

    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "asv.conf.json").write_text(TOY_CONFIG)
    hashes = []
    for i in range(commits):
        (root / "code.txt").write_text(f"version {i}\n")
        git(root, "add", ".")
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
            "commit", "-q", "-m", f"commit {i}")  # fmt: skip
        hashes.append(git(root, "rev-parse", "HEAD"))
    return hashes
