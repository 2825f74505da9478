"""What every benchmark module shares: the workloads, loaded from the working tree, and a base
class that runs one of them.

asv takes the benchmarks from the working tree but measures the taskorch installed from the commit
under test, which may have no ``perfkit`` or an older one. So the ``perfkit`` package is imported
from the working tree, after the engine; its workloads use only the engine's public API, and what
an old engine lacks turns into ``NotImplementedError`` in ``setup`` (asv records the benchmark as
skipped for that commit, not failed).

Sessions persist for the life of the benchmark process. asv re-runs ``setup`` and ``teardown``
around every timed call; a fresh database per call would measure a cold connection instead of the
operation, so ``setup`` hands back the same open session every time (asv forks one process per
benchmark and parameter set, and runs it in a temporary directory that it deletes afterwards).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Step = Callable[[], object]

_module: ModuleType | None = None
_sessions: dict[tuple[str, tuple[tuple[str, Any], ...]], Step] = {}
_open = ExitStack()  # never closed under asv: the process ends with os._exit, the dir is deleted


def workloads() -> ModuleType:
    """The working tree's ``perfkit.workloads``, or ``NotImplementedError`` if this commit has
    no engine."""
    global _module
    if _module is None:
        try:
            import taskorch  # noqa: F401  (the installed engine of the commit under test)
        except ImportError as exc:
            raise NotImplementedError(f"taskorch is not importable here: {exc}") from exc
        _import_working_tree("perfkit")
        _module = importlib.import_module("perfkit.workloads")
    return _module


def _import_working_tree(name: str) -> None:
    """Import package ``name`` from the repository root, whatever the environment holds."""
    loaded = sys.modules.get(name)
    if loaded is not None and Path(loaded.__file__ or "").resolve().parent == ROOT / name:
        return
    spec = importlib.machinery.PathFinder.find_spec(name, [str(ROOT)])
    assert spec is not None and spec.loader is not None, f"{name}/ is missing from {ROOT}"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def working_tree_module(name: str) -> ModuleType:
    """Package ``name`` (``leakcheck``) from the working tree, after the engine."""
    workloads()
    _import_working_tree(name)
    return sys.modules[name]


def perfkit_module(name: str) -> ModuleType:
    """``perfkit.<name>`` from the working tree (after the engine, as :func:`workloads`)."""
    workloads()
    return importlib.import_module(f"perfkit.{name}")


def require(*names: str) -> None:
    """Skip (``NotImplementedError``) unless the installed engine has every dotted ``name``,
    e.g. ``"Orchestrator.batch"`` or ``"EventBus"``."""
    workloads().require(*names)


def scratch_dir() -> Path:
    """A directory for databases: under ``$TASKORCH_BENCH_TMP`` if set (e.g. ``/dev/shm`` to
    measure without the disk), else under the working directory asv gives the benchmark (asv
    deletes it after the run)."""
    root = os.environ.get("TASKORCH_BENCH_TMP") or os.getcwd()
    directory: Path = perfkit_module("harness.store").new_directory(root, "taskorch-bench-")
    return directory


def session(name: str, directory: Path | None = None, **params: Any) -> Step:
    """The step of workload ``name``, opened once per process and then reused."""
    key = (name, tuple(sorted(params.items())))
    step = _sessions.get(key)
    if step is None:
        workload = workloads().WORKLOADS[name]
        step = _open.enter_context(workload.session(directory or scratch_dir(), **params))
        _sessions[key] = step
    return step


class WorkloadBenchmark:
    """Times the step of one shared workload; ``params`` map onto the workload's parameters.

    Subclasses set ``workload`` and ``param_names``/``params``, and define one ``time_*`` method
    that calls ``self.step()``. What the engine must have is the workload's own declaration: its
    session raises ``NotImplementedError`` at a commit that lacks it, which asv records as a skip.
    """

    workload = ""
    param_names: list[str] = []
    params: list[list[Any]] = []
    # One operation per sample, many samples, and asv reports their median: on a shared machine
    # most of the noise is time spent preempted by other processes, which lands in a few samples
    # and leaves the median alone (docs/benchmarks.md: spread 1-5 % per call, 60-400 % for sums of
    # 200 calls). asv times each call on its own anyway when a benchmark has a setup.
    number = 1
    repeat = (50, 400, 2.0)
    warmup_time = 0.05

    def setup(self, *params: Any) -> None:
        self.step = session(self.workload, None, **self.workload_params(params))

    def workload_params(self, params: tuple[Any, ...]) -> Mapping[str, Any]:
        return dict(zip(self.param_names, params, strict=True))


def quick_run() -> bool:
    """Whether this is ``asv run --quick``: asv 0.6.6 hands each benchmark process its extra
    parameters as a JSON argument, and --quick sets these three. A quick run saves no results, so
    benchmarks that are expensive by nature (counting under valgrind, long leak loops) only check
    there that their operation runs."""
    quick = {"number": 1, "repeat": 1, "warmup_time": 0}
    for arg in sys.argv[1:]:
        try:
            extra = json.loads(arg)
        except ValueError:
            continue
        if isinstance(extra, dict) and all(extra.get(k) == v for k, v in quick.items()):
            return True
    return False
