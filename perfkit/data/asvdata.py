"""The asv data of a repository: its ``asv.conf.json`` and the result files asv saved.

Read with asv's own modules (``asv.config``, ``asv.results``, ``asv.util``), so a file means here
what it means to ``asv compare`` and ``asv publish``; nothing parses asv's text output. Benchmarks
are named as asv names them, parameters included: ``database.Get.time_get(1000)``.

asv is imported on first use. Without it (``pip install -e '.[dev]'`` brings it) every reader
raises :class:`~taskorch.errors.ConfigurationError` saying so; the performance report catches that
and leaves the history out. A damaged or foreign result file never stops a reader: it is left out
and named in :attr:`Scan.skipped`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskorch.errors import ConfigurationError

__all__ = [
    "AsvConfig",
    "Measurement",
    "Run",
    "Scan",
    "benchmark_list",
    "environment_python",
    "expand",
    "load_commit",
    "load_config",
    "machines",
    "one_sample_runs",
    "parameter_sets",
    "results_dir",
    "revisions",
    "runner_script",
    "scan",
    "units",
]

CONFIG_FILE = "asv.conf.json"
# What asv's own loaders raise on a file they cannot use, besides their UserError.
_DAMAGED = (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError)


@dataclass(frozen=True, slots=True)
class AsvConfig:
    """What the toolkit needs from ``asv.conf.json``; relative paths resolved against ``root``."""

    root: Path
    results_dir: Path
    html_dir: Path
    branches: tuple[str, ...]
    regressions_thresholds: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Measurement:
    """One benchmark, with one set of parameters, at one commit, as asv saved it.

    ``value`` is NaN when the benchmark was skipped or ``failed`` (asv saves None for a failure).
    ``stats`` holds asv's statistics of the samples (``ci_99_a``, ``ci_99_b``, ``q_25``, ``q_75``,
    ``repeat``...) when it computed them, ``samples`` the samples when they were recorded
    (``asv continuous`` records them, ``asv run`` does not).
    """

    benchmark: str
    commit: str
    date: int  # the commit's date, ms since the epoch
    value: float
    failed: bool = False
    unit: str = ""
    version: str | None = None
    stats: Mapping[str, float] | None = None
    samples: tuple[float, ...] | None = None
    # Whether asv ran it: asv records a duration for every benchmark it ran, failed or not, and
    # none for those it marked failed without running (the commit did not install, the suite
    # did not import, a setup_cache failed).
    ran: bool = True

    @property
    def name(self) -> str:
        """The benchmark without its parameters: ``database.Get.time_get``."""
        return self.benchmark.split("(", 1)[0]

    @property
    def params(self) -> str:
        """The parameters as asv writes them (``1000``, ``'claim'``), or ``""``."""
        _, _, rest = self.benchmark.partition("(")
        return rest[:-1] if rest else ""

    @property
    def one_sample(self) -> bool:
        """Whether the value stands on one sample (what ``asv run --quick`` saves: one repeat,
        its confidence interval infinite); never a point of a history."""
        return self.stats is not None and self.stats.get("repeat") == 1

    @property
    def usable(self) -> bool:
        """Whether there is a number to compare (the benchmark neither failed nor was skipped)."""
        return not self.failed and math.isfinite(self.value)


@dataclass(frozen=True, slots=True)
class Run:
    """The results of one commit in one environment on one machine: one result file."""

    machine: str
    commit: str
    date: int
    env: str
    measurements: tuple[Measurement, ...]


@dataclass(frozen=True, slots=True)
class Scan:
    """Every readable result file of one machine (oldest commit first), and what was not."""

    machine: str
    runs: tuple[Run, ...]
    skipped: tuple[str, ...] = ()  # "file: why", one per file left out


def _asv() -> Any:
    try:
        import asv.benchmarks  # type: ignore[import-untyped]
        import asv.commands.compare  # type: ignore[import-untyped]
        import asv.config  # type: ignore[import-untyped]
        import asv.environment  # type: ignore[import-untyped]
        import asv.repo  # type: ignore[import-untyped]
        import asv.results  # type: ignore[import-untyped]
        import asv.util  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ConfigurationError(
            "reading asv's configuration and results needs asv: pip install -e '.[dev]'"
        ) from exc
    return asv


def load_config(root: Path) -> AsvConfig:
    """``root/asv.conf.json`` as asv reads it (comments and trailing commas allowed)."""
    asv = _asv()
    path = root / CONFIG_FILE
    try:
        conf = asv.config.Config.load(str(path))
        thresholds = {str(k): float(v) for k, v in dict(conf.regressions_thresholds).items()}
        return AsvConfig(
            root=root,
            results_dir=root / str(conf.results_dir),
            html_dir=root / str(conf.html_dir),
            branches=tuple(str(b) for b in conf.branches if b is not None),
            regressions_thresholds=thresholds,
        )
    except (asv.util.UserError, *_DAMAGED) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from exc


def benchmark_list(root: Path) -> dict[str, dict[str, Any]]:
    """What asv discovered of ``root``'s benchmarks (its ``benchmarks.json``), by name; empty
    before the first ``asv run`` or ``asv check``."""
    asv = _asv()
    try:
        conf = asv.config.Config.load(str(root / CONFIG_FILE))
        conf.results_dir = str(root / conf.results_dir)  # asv would take it from the cwd
        found = asv.benchmarks.Benchmarks.load(conf)
    except (asv.util.UserError, *_DAMAGED):
        return {}
    return {str(name): dict(found[name]) for name in found}


def parameter_sets(name: str, info: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each parameter set of benchmark ``name`` (described by ``info``, an entry of
    :func:`benchmark_list`): the name its results carry (``database.Get.time_get(1000)``) and
    the id asv's runner takes (``database.Get.time_get-0``)."""
    params = info.get("params") or []
    if not params:
        return [(name, name)]
    return [(f"{name}({', '.join(combo)})", f"{name}-{index}")
            for index, combo in enumerate(itertools.product(*params))]  # fmt: skip


def expand(root: Path, pattern: str | None = None) -> dict[str, dict[str, Any]]:
    """Every benchmark asv discovered (:func:`benchmark_list`), one entry per parameter set,
    by the name its results carry, with its description; only the names the regular expression
    ``pattern`` finds something in, when it is given."""
    wanted = re.compile(pattern) if pattern else None
    return {
        full: info
        for name, info in sorted(benchmark_list(root).items())
        for full, _ in parameter_sets(name, info)
        if wanted is None or wanted.search(full)
    }


def environment_python(root: Path) -> Path | None:
    """The interpreter of the first asv environment of ``root``'s configuration that exists;
    None before ``asv setup`` or a first ``asv run`` made one."""
    asv = _asv()
    try:
        conf = asv.config.Config.load(str(root / CONFIG_FILE))
        envs = list(asv.environment.get_environments(conf, None))
    except (asv.util.UserError, RuntimeError, *_DAMAGED) as exc:
        raise ConfigurationError(f"cannot read {root / CONFIG_FILE}: {exc}") from exc
    for env in envs:
        python = Path(env._path) / "bin" / "python"
        if python.is_file():
            return python
    return None


def revisions(root: Path, commits: set[str]) -> dict[str, int]:
    """Each of ``commits`` numbered as ``asv publish`` orders its graphs (the repository's
    commits, parents before children); empty when the repository cannot be read. Commit dates
    do not give this order: a rebased or cherry-picked commit keeps its author's date."""
    asv = _asv()
    try:
        conf = asv.config.Config.load(str(root / CONFIG_FILE))
        conf.repo = str(root)
        return {str(c): int(n) for c, n in asv.repo.get_repo(conf).get_revisions(commits).items()}
    except (asv.util.UserError, asv.util.ProcessError, *_DAMAGED):
        return {}


def runner_script() -> str:
    """asv's script that runs one benchmark in a process of its own (``run``, ``setup_cache``)."""
    _asv()
    from asv.runner import BENCHMARK_RUN_SCRIPT  # type: ignore[import-untyped]

    return str(BENCHMARK_RUN_SCRIPT)


def results_dir(root: Path) -> Path:
    """The results folder of ``root``'s asv configuration; ``.asv/results`` when there is none
    or it cannot be read (a report is made from whatever exists)."""
    try:
        return load_config(root).results_dir
    except ConfigurationError:
        return root / ".asv" / "results"


def machines(results: Path) -> list[str]:
    """The machines that have a ``machine.json`` in ``results``, by name."""
    if not results.is_dir():
        return []
    return sorted(d.name for d in results.iterdir() if (d / "machine.json").is_file())


def units(results: Path) -> dict[str, str]:
    """Each benchmark's unit (``seconds``, ``bytes``, ``loops/s``...) from ``benchmarks.json``."""
    asv = _asv()
    try:
        described = asv.util.load_json(str(results / "benchmarks.json"), api_version=2)
    except (asv.util.UserError, *_DAMAGED):
        return {}
    return {
        str(name): str(entry.get("unit") or "")
        for name, entry in described.items()
        if isinstance(entry, dict)
    }


def scan(results: Path, machine: str, commit: str | None = None) -> Scan:
    """Read the result files of ``machine``; only those of ``commit`` (a hash, or a prefix of
    one) when it is given."""
    asv = _asv()
    folder = results / machine
    described = units(results)
    runs: list[Run] = []
    skipped: list[str] = []
    try:
        asv.util.load_json(str(folder / "machine.json"), api_version=1)
    except (asv.util.UserError, *_DAMAGED) as exc:
        return Scan(machine, (), (f"{folder / 'machine.json'}: {exc}",))
    for path in sorted(folder.glob("*.json")):
        if path.name == "machine.json" or (commit and not path.name.startswith(commit[:8])):
            continue
        try:
            run = _read(asv, path, machine, described)
        except (asv.util.UserError, *_DAMAGED) as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        if commit is None or run.commit.startswith(commit):
            runs.append(run)
    runs.sort(key=lambda r: (r.date, r.commit))
    return Scan(machine, tuple(runs), tuple(skipped))


def load_commit(results: Path, machine: str, commit: str) -> dict[str, Measurement]:
    """Every measurement of ``commit`` on ``machine`` by benchmark name; empty when it has none.

    The configuration's matrix has one environment; should a commit have several, the file read
    last (by name) wins for a benchmark they share.
    """
    return {m.benchmark: m for run in scan(results, machine, commit).runs for m in run.measurements}


def _read(asv: Any, path: Path, machine: str, described: Mapping[str, str]) -> Run:
    result = asv.results.Results.load(str(path), machine_name=machine)
    commit, date = str(result.commit_hash), int(result.date)
    found = []
    for key in sorted(result.get_all_result_keys()):
        params = result.get_result_params(key)
        rows = asv.commands.compare.unroll_result(
            key,
            params,
            result.get_result_value(key, params),
            result.get_result_stats(key, params),
            result.get_result_samples(key, params),
        )
        version = result.benchmark_version.get(key)
        ran = result.duration.get(key) is not None
        for benchmark, value, stats, samples in rows:
            found.append(
                Measurement(
                    benchmark=str(benchmark),
                    commit=commit,
                    date=date,
                    value=math.nan if value is None else _number(value),
                    failed=value is None,
                    unit=described.get(key, ""),
                    version=None if version is None else str(version),
                    stats=_stats(stats),
                    samples=None if samples is None else tuple(float(s) for s in samples),
                    ran=ran,
                )
            )
    return Run(machine, commit, date, str(result.env_name), tuple(found))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {json.dumps(value)[:40]}")
    return float(value)


def _stats(stats: Any) -> dict[str, float] | None:
    if not isinstance(stats, dict):
        return None
    found = {str(k): float(v) for k, v in stats.items() if isinstance(v, (int, float))}
    return found or None


def one_sample_runs(results: Path) -> list[str]:
    """The result files of every machine in ``results`` holding one-sample values (``asv run
    --quick`` saves them), a line each naming the file and the benchmarks."""
    out = []
    for machine in machines(results):
        for run in scan(results, machine).runs:
            names = sorted(m.benchmark for m in run.measurements if m.one_sample and m.usable)
            if names:
                shown = ", ".join(names[:3]) + (
                    f" and {len(names) - 3} more" if len(names) > 3 else ""
                )
                out.append(f"{results / machine} {run.commit[:8]}: one-sample values ({shown})")
    return out
