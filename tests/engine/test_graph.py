"""Property tests of the DAG logic, alone and through a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import taskorch
from taskorch import graph


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 30) -> tuple[list[str], list[list[str]]]:
    """Random DAGs: node i may only depend on nodes before it in a hidden order."""
    n = draw(st.integers(1, max_nodes))
    order = draw(st.permutations(range(n)))
    keys = [f"n{i}" for i in range(n)]
    deps: list[list[str]] = [[] for _ in range(n)]
    for pos in range(1, n):
        earlier = draw(st.lists(st.integers(0, pos - 1), max_size=4))
        deps[order[pos]] = [keys[order[e]] for e in earlier]
    return keys, deps


@st.composite
def cyclic_graphs(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A random DAG with one back edge added, which closes a cycle."""
    keys, deps = draw(dags(max_nodes=20))
    n = len(keys)
    length = draw(st.integers(1, max(1, min(n, 6))))
    members = draw(st.permutations(range(n)))[:length]
    for a, b in zip(members, members[1:] + members[:1], strict=True):
        deps[b] = [*deps[b], keys[a]]
    return keys, deps


@given(dags())
def test_dags_validate_and_order_topologically(dag: tuple[list[str], list[list[str]]]) -> None:
    keys, deps = dag
    g = graph.build(keys, deps)
    order = graph.topological_order(len(keys), g.edges)
    assert sorted(order) == list(range(len(keys)))
    assert graph.is_topological(order, g.edges)
    assert graph.find_cycle(len(keys), g.edges) == []


@given(cyclic_graphs())
def test_cycles_are_refused_with_a_real_cycle(dag: tuple[list[str], list[list[str]]]) -> None:
    keys, deps = dag
    with pytest.raises(taskorch.CycleError) as info:
        graph.build(keys, deps)
    cycle = info.value.cycle
    assert cycle
    index = {k: i for i, k in enumerate(keys)}
    for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
        assert a in deps[index[b]], f"{b} does not depend on {a}"


def test_is_topological_detects_a_bad_order() -> None:
    assert not graph.is_topological([1, 0], [(0, 1)])
    assert graph.is_topological([0, 1], [(0, 1)])


def as_subtasks(keys: list[str], deps: list[list[str]]) -> list[dict[str, object]]:
    return [
        {"key": k, "title": k, "specialist": "s", "depends_on": d}
        for k, d in zip(keys, deps, strict=True)
    ]


SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(dag=dags())
def test_random_dags_plan_and_drain_in_topological_order(
    dag: tuple[list[str], list[list[str]]], tmp_path: Path
) -> None:
    keys, deps = dag
    subtasks = as_subtasks(keys, deps)
    url = f"sqlite:///{tmp_path}/drain-{abs(hash((tuple(keys), str(deps))))}.db"
    with taskorch.open(url, durability="off") as orch:
        plan = orch.plan("g", subtasks)
        drained: list[int] = []
        while (task := orch.claim("agent")) is not None:
            drained.append(plan.task_ids.index(task.id))
            orch.complete(task.id, "agent", result=task.key)
        g = graph.build(keys, deps)
        assert sorted(drained) == list(range(len(keys)))
        assert graph.is_topological(drained, g.edges)
        assert orch.get(plan.parent_id).status is taskorch.TaskStatus.COMPLETED


@SETTINGS
@given(dag=cyclic_graphs())
def test_random_cyclic_plans_write_nothing(
    dag: tuple[list[str], list[list[str]]], tmp_path: Path
) -> None:
    keys, deps = dag
    subtasks = as_subtasks(keys, deps)
    with taskorch.open(f"sqlite:///{tmp_path}/cyclic.db", durability="off") as orch:
        before = orch.status().total
        with pytest.raises(taskorch.CycleError):
            orch.plan("g", subtasks)
        assert orch.status().total == before


OPS = st.lists(
    st.tuples(st.sampled_from(["claim", "complete", "fail", "retry", "release", "cancel", "plan"]),
              st.integers(0, 1000)),
    max_size=40,
)  # fmt: skip


@SETTINGS
@given(dag=dags(max_nodes=12), ops=OPS)
def test_status_matches_a_full_count_after_any_operations(
    dag: tuple[list[str], list[list[str]]], ops: list[tuple[str, int]], tmp_path: Path
) -> None:
    keys, deps = dag
    subtasks = as_subtasks(keys, deps)
    url = f"sqlite:///{tmp_path}/ops-{abs(hash((tuple(keys), str(deps), str(ops))))}.db"
    with taskorch.open(url, durability="off") as orch:
        plans = [orch.plan("g", subtasks).parent_id]
        held: list[int] = []
        for op, pick in ops:
            if op == "claim" and (task := orch.claim("a")) is not None:
                held.append(task.id)
            elif op == "plan":
                plans.append(orch.plan("g", subtasks).parent_id)
            elif op == "cancel":
                orch.cancel(plans[pick % len(plans)])
            elif held:
                task_id = held.pop(pick % len(held))
                if orch.get(task_id).status is not taskorch.TaskStatus.CLAIMED:
                    continue  # its plan was cancelled
                if op == "complete":
                    orch.complete(task_id, "a", result=pick)
                elif op == "fail":
                    orch.fail(task_id, "a", error="e")
                elif op == "retry":
                    orch.fail(task_id, "a", error="e", retry=True)
                else:
                    orch.release(task_id, "a")
            counted: dict[str, dict[str, int]] = {"subtasks": {}, "plans": {}}
            after = 0
            while page := orch.tasks(after=after, limit=500):
                for t in page:
                    group = counted["plans" if t.is_parent else "subtasks"]
                    group[t.status.value] = group.get(t.status.value, 0) + 1
                after = page[-1].id
            status = orch.status()
            assert status.subtasks == counted["subtasks"], op
            assert status.plans == counted["plans"], op
