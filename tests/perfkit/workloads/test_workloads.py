"""Every shared workload sets up, does its one operation per step, and cleans up; a session
whose engine lacks what it needs says so with NotImplementedError."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import taskorch
from perfkit.workloads import WORKLOADS, build_store, realistic_context, require
from perfkit.workloads.references import references

STEPS = 3
Check = Callable[[list[Any], Path], bool]


def _store(tmp_path: Path, name: str) -> taskorch.Status:
    with taskorch.open(f"sqlite:///{tmp_path}/{name}.db") as orch:
        return orch.status()


def _raw_rows(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "raw.db") as conn:
        count: int = conn.execute("SELECT count(*) FROM tasks").fetchone()[0]
    return count


# What the steps of each workload (its first parameters) return, and what they leave behind.
CHECKS: dict[str, Check] = {
    "plan": lambda rs, _: (
        [len(r.task_ids) for r in rs] == [1] * STEPS and len({r.parent_id for r in rs}) == STEPS
    ),
    "claim_complete": lambda rs, d: _store(d, "claim_complete")["completed"] == STEPS,
    "claim": lambda rs, _: (
        all(r.status is taskorch.TaskStatus.CLAIMED for r in rs)
        and len({r.id for r in rs}) == STEPS
    ),
    "complete": lambda rs, d: _store(d, "complete")["completed"] == STEPS,
    "lifecycle": lambda rs, _: [r["status"] for r in rs] == ["completed"] * STEPS,
    "context": lambda rs, _: all(len(r["dependencies"]) == 3 for r in rs),
    "get": lambda rs, _: [r.id for r in rs] == [500] * STEPS,
    "status": lambda rs, _: all(r.total == 1000 and r["completed"] == 800 for r in rs),
    "status_plans": lambda rs, _: all(r["ready"] == 100 for r in rs),
    "ready_query": lambda rs, _: all(
        0 < len(r) <= 10 and {t.status for t in r} == {taskorch.TaskStatus.READY} for r in rs
    ),
    "publish": lambda rs, _: rs == list(range(1, STEPS + 1)),
    "encode_context": lambda rs, _: all(json.loads(r) == realistic_context() for r in rs),
    "decode_context": lambda rs, _: all(r == realistic_context() for r in rs),
    "drain": lambda rs, _: rs == [1000] * STEPS,
    "agent_fleet": lambda rs, d: (
        [r.counters.completed for r in rs] == [10] * STEPS and not list(d.glob("fleet-*"))
    ),  # 10 subtasks an agent (1); each fleet's database removed after its run
    "raw_insert": lambda rs, d: _raw_rows(d) == 2 * STEPS,  # the parent and one subtask
    "raw_get": lambda rs, _: [r[0][0] for r in rs] == [500] * STEPS,
}


def test_every_workload_has_a_check() -> None:
    assert set(CHECKS) == set(WORKLOADS)


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_each_step_does_its_operation(name: str, tmp_path: Path) -> None:
    workload = WORKLOADS[name]
    params = {k: v[0] for k, v in workload.params.items()}
    with workload.session(tmp_path, **params) as step:
        results = [step() for _ in range(STEPS)]
    assert CHECKS[name](results, tmp_path), f"{name}: {results!r}"


def test_each_reference_is_a_raw_workload_with_the_same_parameters() -> None:
    from perfkit.workloads.pg_workloads import WORKLOADS as PG

    refs = references()
    pg = ("plan", "claim_complete", "get", "status", "ready_query", "pool", "fleet")
    assert refs == {"plan": "raw_insert", "get": "raw_get",
                    **{f"pg_{op}": f"raw_pg_{op}" for op in pg}}  # fmt: skip
    every = {**WORKLOADS, **PG}
    for ours, raw in refs.items():
        assert raw.startswith("raw_") and every[raw].params == every[ours].params


def test_a_missing_engine_feature_skips_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(taskorch, "EventBus")
    with pytest.raises(NotImplementedError, match=r"taskorch\.EventBus"):
        WORKLOADS["publish"].session(tmp_path)
    with pytest.raises(NotImplementedError, match=r"taskorch\.Orchestrator\.teleport"):
        require("Orchestrator.teleport")
    with pytest.raises(NotImplementedError, match="no_such_module"):
        require("no_such_module.x")
    require("agents.Fleet", "codec.dumps", "Orchestrator.batch")  # present: no error


def test_claim_complete_refills_when_drained(tmp_path: Path) -> None:
    with WORKLOADS["claim_complete"].session(tmp_path) as step:
        ready = _store(tmp_path, "claim_complete").subtasks["ready"]
        for _ in range(ready + 1):
            step()
    assert _store(tmp_path, "claim_complete").subtasks == {"completed": ready + 1, "ready": 999}


def test_built_store_has_the_documented_shape(tmp_path: Path) -> None:
    path = build_store(tmp_path / "s.db", 1000)
    with taskorch.open(f"sqlite:///{path}") as orch:
        status = orch.status()
    assert status.total == 1000
    assert status["completed"] == 800 and status["claimed"] >= 1 and status["ready"] >= 1
    assert build_store(tmp_path / "s.db", 1000) == path  # reused, not rebuilt


def test_the_claim_complete_store_starts_larger_than_sqlites_page_cache(tmp_path: Path) -> None:
    # Otherwise the cache fills during a long loop, and the leak check sees it grow.
    with WORKLOADS["claim_complete"].session(tmp_path) as step:
        step()
        [db] = tmp_path.glob("*.db")
        with contextlib.closing(sqlite3.connect(db)) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            size = conn.execute("PRAGMA page_size").fetchone()[0]
            cache = conn.execute("PRAGMA cache_size").fetchone()[0]  # negative: KiB
    assert cache < 0 and pages * size > 1.5 * -cache * 1024
