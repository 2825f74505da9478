"""Several processes opening one new database at once, on every backend: the schema is created
once, and no process sees it half-made."""

from __future__ import annotations

import multiprocessing

import taskorch
from tests.support import chain


def _cold_open(args: tuple[str, int]) -> list[int]:
    url, n = args
    ids = []
    with taskorch.open(url) as orch:
        for _ in range(n):
            ids.extend(orch.plan("g", chain(2)).task_ids)
    return ids


def test_many_processes_opening_a_new_database_at_once(db_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        results = pool.map(_cold_open, [(db_url, 5)] * 6)
    ids = [i for r in results for i in r]
    assert len(ids) == len(set(ids)) == 60
    with taskorch.open(db_url) as orch:
        assert orch.status().total == 60


def _claim_all(args: tuple[str, str]) -> list[int]:
    url, agent = args
    ids = []
    with taskorch.open(url) as orch:
        while (task := orch.claim(agent, lease_seconds=3600)) is not None:
            ids.append(task.id)
    return ids


def test_many_processes_claiming_at_once_never_share_a_task(db_url: str) -> None:
    with taskorch.open(db_url) as orch:
        planned = orch.plan(
            "g", [{"key": f"k{i}", "title": "t", "specialist": "s"} for i in range(120)]
        )
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        results = pool.map(_claim_all, [(db_url, f"agent-{i}") for i in range(6)])
    ids = [i for r in results for i in r]
    assert len(ids) == len(set(ids)) and set(ids) == set(planned.task_ids)
