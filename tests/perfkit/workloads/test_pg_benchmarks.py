"""The PostgreSQL benchmarks: their parameters are fixed whatever the commit or the machine, each
timing has its bare-psycopg twin where the history's controls look for it, and without a server
they are skipped, saying why."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from typing import Any

import pytest

from benchmarks import _pg, postgres, raw
from perfkit.harness import postgres as pg_env
from perfkit.verdict.controls import is_raw
from perfkit.verdict.history import raw_twins
from perfkit.workloads.pg_workloads import WORKLOADS
from tests.support import ROOT

CLASSES = [
    c
    for module in (postgres, raw)
    for c in vars(module).values()
    if isinstance(c, type) and issubclass(c, _pg.PgBenchmark) and c.__module__ == module.__name__
]


def asv_names(cls: type[Any]) -> list[str]:
    """The names asv gives the class's benchmarks, one per parameter set."""
    module = cls.__module__.removeprefix("benchmarks.")
    methods = [m for m in vars(cls) if m.startswith(("time_", "track_"))]
    grid = itertools.product(*cls.params) if cls.params else [()]
    combos = [f"({', '.join(map(repr, p))})" if p else "" for p in grid]
    return [f"{module}.{cls.__name__}.{m}{c}" for m in methods for c in combos]


def test_every_postgresql_workload_is_benchmarked_with_its_declared_parameters() -> None:
    assert {c.workload for c in CLASSES} == set(WORKLOADS)
    for cls in CLASSES:
        declared = WORKLOADS[cls.workload].params
        assert cls.param_names == list(declared), cls.__name__
        assert cls.params == [list(v) for v in declared.values()], cls.__name__


PROBE = """
import json, sys
sys.modules["psycopg"] = None  # no driver, no server: what an old commit or bare machine has
sys.modules["psycopg_pool"] = None
from benchmarks import postgres, raw
print(json.dumps({f"{m.__name__}.{n}": [c.param_names, c.params] for m in (postgres, raw)
                  for n, c in sorted(vars(m).items()) if hasattr(c, "workload")}))
"""


def test_the_parameters_do_not_depend_on_the_commit_or_the_server() -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    bare = json.loads(done.stdout)
    here = {f"{c.__module__}.{c.__name__}": [c.param_names, c.params] for c in CLASSES}
    assert {k: v for k, v in bare.items() if k in here} == json.loads(json.dumps(here))


def test_each_timing_has_its_raw_twin_and_the_twins_are_controls() -> None:
    names = [n for c in CLASSES for n in asv_names(c)]
    ours = [n for n in names if n.startswith("postgres.") and ".time_" in n]
    twins = raw_twins(names)
    assert sorted(twins) == sorted(ours) and len(ours) == 8
    assert twins["postgres.PgPlan.time_pg_plan(1000)"] == "raw.RawPgPlan.time_raw_pg_plan(1000)"
    assert all(is_raw(t) for t in twins.values())


def test_without_a_server_the_benchmarks_skip_saying_why(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (pg_env.ENV_URL, "TASKORCH_TEST_POSTGRES_URL", pg_env.ENV_SWITCH):
        monkeypatch.delenv(name, raising=False)  # (.ci/run sets the switch to yes)
    monkeypatch.setenv("PATH", "/nonexistent")  # no server binaries either
    found = _pg.server_for_run()
    assert "no PostgreSQL server: set TASKORCH_BENCH_POSTGRES_URL" in found["skip"]
    with pytest.raises(NotImplementedError, match="no PostgreSQL server"):
        postgres.PgPlan().setup(found, 1)


def test_turned_off_they_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pg_env.ENV_SWITCH, "no")
    assert _pg.server_for_run() == {
        "skip": "PostgreSQL benchmarks turned off (TASKORCH_BENCH_POSTGRES=no)"
    }


def test_required_a_missing_server_fails_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (pg_env.ENV_URL, "TASKORCH_TEST_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv(pg_env.ENV_SWITCH, "yes")
    with pytest.raises(RuntimeError, match=r"no PostgreSQL server.*TASKORCH_BENCH_POSTGRES=yes"):
        _pg.server_for_run()
