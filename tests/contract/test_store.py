"""The Store contract itself, on every backend: what the engine reads from a store."""

from __future__ import annotations

import taskorch
from taskorch.store import Store
from tests.support import chain


def test_the_backend_fulfils_the_store_protocol(orch: taskorch.Orchestrator) -> None:
    assert isinstance(orch.store, Store)
    assert isinstance(orch.store.thread_safe, bool)
    where = orch.store.describe()
    assert where


def test_describe_never_shows_the_password(db_url: str) -> None:
    secret = "Xq7-secret-pw"
    if db_url.startswith("sqlite"):
        url = db_url  # a file has no password: nothing to leak, describe() must still work
    else:
        scheme, _, rest = db_url.partition("://")
        userinfo, at, host = rest.partition("@")
        user = userinfo.partition(":")[0] if at else "postgres"
        url = f"{scheme}://{user}:{secret}@{host if at else rest}"
    with taskorch.open(url) as orch:
        where = orch.store.describe()
    assert where and secret not in where


def test_get_many_keeps_the_order_asked_for_and_skips_unknown_ids(
    orch: taskorch.Orchestrator,
) -> None:
    plan = orch.plan("g", chain(4))
    a, b, _, d = plan.task_ids
    asked = [d, 999_999, b, plan.parent_id, a]
    assert [t.id for t in orch.store.get_many(asked)] == [d, b, plan.parent_id, a]
    assert orch.store.get_many([]) == []


def test_dependencies_come_in_the_order_the_plan_lists_them(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "g",
        [
            {"key": "x", "title": "X", "specialist": "s"},
            {"key": "y", "title": "Y", "specialist": "s"},
            {"key": "z", "title": "Z", "specialist": "s", "depends_on": ["y", "x"]},
        ],
    )
    deps = orch.store.dependencies(plan.id_of("z"))
    assert [t.key for t in deps] == ["y", "x"]
    assert orch.store.dependencies(plan.id_of("x")) == []
