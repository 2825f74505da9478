"""The PostgreSQL workloads on a real server: each step does its operation, each session leaves no
schema behind, and each fleet and pool round holds its invariants; without a server they skip,
saying why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from perfkit.harness import postgres
from perfkit.workloads.pg_pool import PoolRound
from perfkit.workloads.pg_workloads import WORKLOADS
from tests.support import POSTGRES_URL

needs_server = pytest.mark.skipif(
    not POSTGRES_URL, reason="set TASKORCH_TEST_POSTGRES_URL (scripts/test starts a server)"
)
psycopg = pytest.importorskip("psycopg")

STEPS = 3
SMALL = {"n": 1000}  # the read workloads' store, small enough to build in a test


def schemas(prefix: str) -> list[str]:
    assert POSTGRES_URL
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (prefix,)
        ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def prefix() -> Iterator[str]:
    """A schema prefix of the test's own; what it left is dropped afterwards."""
    made = postgres.run_prefix()
    yield made
    if POSTGRES_URL:
        postgres.drop_schemas(POSTGRES_URL, made)


def fleet_ok(rounds: list[Any]) -> bool:
    return all(r.tasks == 200 and r.processes == 2 and r.loops_per_second > 0 for r in rounds)


def pool_ok(rounds: list[Any]) -> bool:
    return all(r.completed == 12 and r.timeouts == 1 for r in rounds)


# What the steps of each workload (its first parameters) return.
CHECKS: dict[str, Callable[[list[Any]], bool]] = {
    "pg_plan": lambda rs: [len(r.task_ids) for r in rs] == [1] * STEPS,
    "raw_pg_plan": lambda rs: [len(r) for r in rs] == [1] * STEPS,
    "pg_claim_complete": lambda rs: len(set(rs)) == STEPS,
    "raw_pg_claim_complete": lambda rs: len(set(rs)) == STEPS,
    "pg_get": lambda rs: [r.id for r in rs] == [500] * STEPS,
    "raw_pg_get": lambda rs: [r[0][0] for r in rs] == [500] * STEPS,
    "pg_status": lambda rs: all(r["completed"] == 800 and r.total == 1000 for r in rs),
    "raw_pg_status": lambda rs: all(dict(r)["completed"] == 808 for r in rs),  # + 8 parents
    # 2 unfinished plans of 100 at n = 1,000: their 2 roots ready, 1 of them claimed
    "pg_ready_query": lambda rs: [[t.status.value for t in r] for r in rs] == [["ready"]] * STEPS,
    "raw_pg_ready_query": lambda rs: [[t[6] for t in r] for r in rs] == [["ready"]] * STEPS,
    "pg_pool": pool_ok,
    "raw_pg_pool": pool_ok,
    "pg_fleet": fleet_ok,
    "raw_pg_fleet": fleet_ok,
}


def test_every_workload_has_a_check_and_a_raw_twin_with_its_parameters() -> None:
    assert set(CHECKS) == set(WORKLOADS)
    ours = [w for w in WORKLOADS.values() if not w.name.startswith("raw_")]
    assert {w.name: w.reference for w in ours} == {w.name: f"raw_{w.name}" for w in ours}
    for w in ours:
        assert w.reference is not None and WORKLOADS[w.reference].params == w.params


@needs_server
@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_each_step_does_its_operation_and_cleans_up(name: str, prefix: str) -> None:
    workload = WORKLOADS[name]
    params = {k: v[0] for k, v in workload.params.items()}
    if name.endswith(("_get", "_status", "_ready_query")):
        params.update(SMALL)
    if name.endswith("_pool"):
        params["pool_timeout"] = 0.5  # generous: the queued callers must not time out here
    with workload.session(Path("/nonexistent"), url=POSTGRES_URL, prefix=prefix, **params) as step:
        results = [step() for _ in range(STEPS)]
    assert CHECKS[name](results), f"{name}: {results!r}"
    if name.endswith("_pool"):
        assert all(isinstance(r, PoolRound) and r.recovery_retries == 0 for r in results)
    # A session's own schemas are gone; the shared stores stay for the prefix's owner.
    assert [s for s in schemas(prefix) if "store_" not in s] == []


@needs_server
def test_a_session_that_made_its_prefix_drops_everything(tmp_path: Path) -> None:
    before = set(schemas("bench_"))
    with WORKLOADS["pg_get"].session(tmp_path, url=POSTGRES_URL, **SMALL) as step:
        assert step().id == 500
        made = set(schemas("bench_")) - before
        assert any(s.endswith("_store_1000") for s in made)
    assert made.isdisjoint(schemas("bench_"))


@needs_server
def test_the_fleet_notices_a_lost_task(prefix: str) -> None:
    from perfkit.workloads.pg_fleet import Fleet

    url = postgres.with_schema(POSTGRES_URL or "", postgres.new_schema(prefix, "lost"))
    import taskorch

    with taskorch.open(url) as orch, Fleet("taskorch", 2, url) as fleet:
        plan = orch.plan("round", [{"key": f"k{i}", "title": "t", "specialist": "s"}
                                   for i in range(10)])  # fmt: skip
        with pytest.raises(AssertionError, match="1 lost"):
            fleet.round([*plan.task_ids, 10**12])  # an id no worker can complete


def test_bad_fleet_arguments_are_refused() -> None:
    from perfkit.workloads.pg_fleet import Fleet

    with pytest.raises(ValueError, match="processes"):
        Fleet("taskorch", 0, "postgresql://nowhere")
    with pytest.raises(ValueError, match="kind"):
        Fleet("sqlite", 2, "postgresql://nowhere")


def test_without_a_server_each_session_skips_saying_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (postgres.ENV_URL, "TASKORCH_TEST_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    for workload in WORKLOADS.values():
        with pytest.raises(NotImplementedError, match="no PostgreSQL server: set TASKORCH_BENCH"):
            workload.session(tmp_path).__enter__()


def test_turned_off_it_skips_even_with_a_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(postgres.ENV_URL, "postgresql://somewhere/db")
    monkeypatch.setenv(postgres.ENV_SWITCH, "no")
    assert postgres.server_url() is None
    with pytest.raises(NotImplementedError, match="no PostgreSQL server"):
        WORKLOADS["pg_plan"].session(tmp_path).__enter__()


def test_an_engine_without_the_backend_skips(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "taskorch.store.postgres", None)  # import fails
    with pytest.raises(NotImplementedError, match="no PostgreSQL backend"):
        WORKLOADS["pg_plan"].session(tmp_path, url="postgresql://unused").__enter__()


def test_schema_names_are_checked() -> None:
    with pytest.raises(ValueError, match="schema name"):
        postgres.with_schema("postgresql://h/db", 'x"; DROP TABLE tasks; --')
    assert postgres.with_schema("postgresql://h/db?sslmode=disable", "bench_x") == (
        "postgresql://h/db?sslmode=disable&schema=bench_x"
    )
