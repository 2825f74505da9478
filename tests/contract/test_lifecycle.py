"""Claim, context, complete, fail, leases, cancel, synthesize and status."""

from __future__ import annotations

import pytest

import taskorch
from taskorch import TaskStatus
from taskorch.testing import FakeClock
from tests.support import chain


def test_claim_takes_oldest_ready_and_none_when_empty(orch: taskorch.Orchestrator) -> None:
    assert orch.claim("a1") is None
    first = orch.plan("one", chain(1))
    second = orch.plan("two", chain(1))
    t1 = orch.claim("a1")
    t2 = orch.claim("a2")
    assert t1 is not None and t2 is not None
    assert (t1.id, t2.id) == (first.task_ids[0], second.task_ids[0])
    assert t1.status is TaskStatus.CLAIMED and t1.agent == "a1" and t1.attempts == 1
    assert orch.claim("a3") is None


def test_a_claimed_task_is_returned_as_stored(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "g",
        [
            {"key": "a", "title": "A", "specialist": "coder", "description": "do a"},
            {"key": "b", "title": "B", "specialist": "tester"},
        ],
    )
    first = orch.claim("a1")
    assert first is not None
    orch.fail(first.id, "a1", "flaky", retry=True)  # ready again, with its error and an attempt
    for agent, specialist in (("a2", None), ("a3", "tester")):
        task = orch.claim(agent, specialist)
        assert task is not None
        assert task == orch.get(task.id)
    assert orch.get(plan.task_ids[0]).error == "flaky"
    assert orch.get(plan.task_ids[0]).attempts == 2


def test_claim_filters_by_specialist(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "g",
        [
            {"key": "a", "title": "A", "specialist": "coder"},
            {"key": "b", "title": "B", "specialist": "tester"},
        ],
    )
    task = orch.claim("t", specialist="tester")
    assert task is not None and task.id == plan.id_of("b")
    assert orch.claim("t", specialist="tester") is None
    assert orch.claim("t", specialist="nobody") is None


def test_completion_makes_dependents_ready(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "g",
        [
            {"key": "a", "title": "A", "specialist": "s"},
            {"key": "b", "title": "B", "specialist": "s"},
            {"key": "c", "title": "C", "specialist": "s", "depends_on": ["a", "b"]},
        ],
    )
    a = orch.claim("x")
    b = orch.claim("y")
    assert a and b and orch.claim("z") is None
    orch.complete(a.id, "x", result={"n": 1}, artifacts=[{"path": "a.txt"}])
    assert orch.get(plan.id_of("c")).status is TaskStatus.PENDING
    assert orch.claim("z") is None
    orch.complete(b.id, "y", result="b done")
    c = orch.claim("z")
    assert c is not None and c.id == plan.id_of("c")
    done = orch.get(a.id)
    assert done.status is TaskStatus.COMPLETED
    assert done.result == {"n": 1} and done.artifacts == ({"path": "a.txt"},)


def test_context_holds_goal_role_and_dependency_results(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "ship",
        [
            {"key": "a", "title": "A", "specialist": "researcher", "description": "look"},
            {"key": "b", "title": "B", "specialist": "writer", "depends_on": ["a"]},
        ],
        context={"repo": "r"},
    )
    a = orch.claim("x")
    assert a is not None
    orch.complete(a.id, "x", result="found", artifacts=["notes.md"])
    b = orch.claim("x")
    assert b is not None
    ctx = orch.context(b.id)
    assert ctx["format"] == 1
    assert ctx["goal"] == "ship" and ctx["plan"] == {"id": plan.parent_id, "context": {"repo": "r"}}
    assert ctx["role"] == "writer" and ctx["task"]["key"] == "b"
    assert ctx["dependencies"] == [
        {"id": a.id, "key": "a", "title": "A", "specialist": "researcher", "result": "found",
         "artifacts": ["notes.md"]}
    ]  # fmt: skip
    ctx["goal"] = "mutated"
    assert orch.context(b.id)["goal"] == "ship"


def test_context_cache_serves_repeated_reads(
    orch: taskorch.Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch.plan("g", chain(2))
    task = orch.claim("x")
    assert task is not None
    first = orch.context_json(task.id)

    def unreachable(*args: object) -> None:
        raise AssertionError("a cached context was read from the store again")

    for method in ("get", "dependencies", "plan_context"):
        monkeypatch.setattr(orch.store, method, unreachable)
    assert orch.context_json(task.id) == first


def test_context_of_pending_task_is_not_cached(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("g", chain(2))
    pending = plan.task_ids[1]
    assert orch.context(pending)["dependencies"][0]["result"] is None
    a = orch.claim("x")
    assert a is not None
    orch.complete(a.id, "x", result="r")
    assert orch.context(pending)["dependencies"][0]["result"] == "r"


def test_context_errors(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("g", chain(1))
    with pytest.raises(taskorch.UnknownTaskError):
        orch.context(10_000)
    with pytest.raises(taskorch.InvalidTransitionError, match="parent"):
        orch.context(plan.parent_id)


def test_only_the_holder_may_complete_or_fail(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", chain(1))
    task = orch.claim("owner")
    assert task is not None
    with pytest.raises(taskorch.NotClaimedError, match="'owner', not 'thief'"):
        orch.complete(task.id, "thief", result="x")
    with pytest.raises(taskorch.NotClaimedError):
        orch.fail(task.id, "thief", error="x")
    with pytest.raises(taskorch.NotClaimedError):
        orch.renew(task.id, "thief")
    assert orch.get(task.id).status is TaskStatus.CLAIMED
    orch.complete(task.id, "owner", result="ok")
    with pytest.raises(taskorch.InvalidTransitionError, match="completed"):
        orch.complete(task.id, "owner", result="again")
    assert orch.get(task.id).result == "ok"


def test_unknown_ids_raise_lookup_errors(orch: taskorch.Orchestrator) -> None:
    for call in (
        lambda: orch.get(999),
        lambda: orch.complete(999, "a"),
        lambda: orch.fail(999, "a", "e"),
        lambda: orch.synthesize(999),
        lambda: orch.cancel(999),
    ):
        with pytest.raises(taskorch.UnknownTaskError) as info:
            call()
        assert isinstance(info.value, LookupError)


def test_expired_lease_makes_task_claimable_again(
    orch: taskorch.Orchestrator, clock: FakeClock
) -> None:
    orch.plan("g", chain(1))
    task = orch.claim("slow", lease_seconds=10)
    assert task is not None and task.lease_expires == clock.now + 10
    clock.advance(9.9)
    assert orch.claim("fast") is None
    clock.advance(0.2)
    with pytest.raises(taskorch.LeaseExpiredError, match="expired"):
        orch.complete(task.id, "slow", result="late")
    again = orch.claim("fast")
    assert again is not None and again.id == task.id and again.attempts == 2
    with pytest.raises(taskorch.NotClaimedError):
        orch.complete(task.id, "slow", result="late")
    orch.complete(task.id, "fast", result="on time")
    assert orch.get(task.id).result == "on time"


def test_renew_extends_the_lease(orch: taskorch.Orchestrator, clock: FakeClock) -> None:
    orch.plan("g", chain(1))
    task = orch.claim("a", lease_seconds=10)
    assert task is not None
    clock.advance(8)
    orch.renew(task.id, "a", lease_seconds=10)
    clock.advance(8)
    assert orch.claim("b") is None
    orch.complete(task.id, "a")
    clock.advance(100)
    with pytest.raises(taskorch.InvalidTransitionError):
        orch.renew(task.id, "a")


def test_release_gives_the_task_back(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", chain(1))
    task = orch.claim("a")
    assert task is not None
    orch.release(task.id, "a")
    assert orch.get(task.id).status is TaskStatus.READY
    again = orch.claim("b")
    assert again is not None and again.id == task.id


def test_fail_blocks_dependents_and_fails_the_plan(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan(
        "g",
        [
            {"key": "a", "title": "A", "specialist": "s"},
            {"key": "b", "title": "B", "specialist": "s", "depends_on": ["a"]},
            {"key": "c", "title": "C", "specialist": "s", "depends_on": ["b"]},
            {"key": "d", "title": "D", "specialist": "s"},
        ],
    )
    a = orch.claim("x")
    assert a is not None and a.key == "a"
    orch.fail(a.id, "x", error="boom")
    assert [orch.get(i).status for i in plan.task_ids] == [
        TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.BLOCKED, TaskStatus.READY,
    ]  # fmt: skip
    assert orch.get(a.id).error == "boom"
    assert orch.get(plan.parent_id).status is TaskStatus.ACTIVE
    d = orch.claim("x")
    assert d is not None
    orch.complete(d.id, "x")
    assert orch.get(plan.parent_id).status is TaskStatus.FAILED
    summary = orch.synthesize(plan.parent_id)
    assert summary["status"] == "failed"
    assert summary["counts"] == {"failed": 1, "blocked": 2, "completed": 1}


def test_fail_with_retry_makes_task_ready_again(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", chain(1))
    task = orch.claim("x")
    assert task is not None
    orch.fail(task.id, "x", error="flaky", retry=True)
    again = orch.claim("y")
    assert again is not None and again.id == task.id and again.attempts == 2


def test_synthesize_requires_finished_plan_unless_partial(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("g", chain(2))
    with pytest.raises(taskorch.InvalidTransitionError, match="2 unfinished"):
        orch.synthesize(plan.parent_id)
    assert orch.synthesize(plan.parent_id, partial=True)["finished"] is False
    for _ in range(2):
        t = orch.claim("a")
        assert t is not None
        orch.complete(t.id, "a", result=t.key)
    summary = orch.synthesize(plan.parent_id)
    assert summary["status"] == "completed" and summary["finished"]
    assert [r["result"] for r in summary["results"]] == ["k0", "k1"]
    with pytest.raises(taskorch.InvalidTransitionError, match="subtask"):
        orch.synthesize(plan.task_ids[0])


def test_cancel_ends_unfinished_subtasks(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("g", chain(3))
    t = orch.claim("a")
    assert t is not None
    orch.complete(t.id, "a")
    other = orch.plan("other", chain(1))
    assert orch.cancel(plan.parent_id) == 2
    assert orch.get(plan.parent_id).status is TaskStatus.CANCELLED
    assert [orch.get(i).status for i in plan.task_ids] == [
        TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.CANCELLED,
    ]  # fmt: skip
    claimed = orch.claim("a")
    assert claimed is not None and claimed.id == other.task_ids[0]
    assert orch.cancel(plan.parent_id) == 0
    with pytest.raises(taskorch.InvalidTransitionError):
        orch.cancel(plan.task_ids[0])


def test_status_counts_every_state(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", chain(3))
    orch.plan("h", [{"key": "x", "title": "X", "specialist": "s"}])
    t = orch.claim("a")
    assert t is not None
    orch.complete(t.id, "a")
    orch.claim("a")
    status = orch.status()
    assert status.subtasks == {"completed": 1, "claimed": 1, "ready": 1, "pending": 1}
    assert status.plans == {"active": 2}
    assert status.total == 4 and status["ready"] == 1 and status["failed"] == 0
    assert orch.status().as_dict()["total"] == 4


def test_tasks_lists_and_pages(orch: taskorch.Orchestrator) -> None:
    plan = orch.plan("g", chain(3))
    ready = orch.tasks(status="ready")
    assert [t.id for t in ready] == [plan.task_ids[0]]
    page1 = orch.tasks(limit=2)
    page2 = orch.tasks(after=page1[-1].id, limit=10)
    assert [t.id for t in page1 + page2] == [plan.parent_id, *plan.task_ids]
    with pytest.raises(ValueError):
        orch.tasks(status="nonsense")


def test_events_are_published_for_each_change(orch: taskorch.Orchestrator) -> None:
    with orch.subscribe() as sub:
        plan = orch.plan("g", chain(1))
        t = orch.claim("a")
        assert t is not None
        orch.complete(t.id, "a")
        kinds = [(e.kind, e.task_id) for e in sub.drain()]
    assert kinds == [
        ("planned", plan.parent_id), ("claimed", t.id), ("completed", t.id),
        ("plan_finished", plan.parent_id),
    ]  # fmt: skip
    assert orch.events.statistics().subscribers == 0


def test_no_task_is_held_by_two_agents(orch: taskorch.Orchestrator, clock: FakeClock) -> None:
    orch.plan("g", [*chain(1), {"key": "z", "title": "Z", "specialist": "s"}])
    held = [orch.claim(f"agent-{i}") for i in range(5)]
    ids = [t.id for t in held if t is not None]
    assert len(ids) == len(set(ids)) == 2


def test_batch_commits_many_operations_at_once(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", chain(1))
    orch.plan("h", chain(1))
    with orch.batch():
        a = orch.claim("a")
        b = orch.claim("b")
        assert a is not None and b is not None
        orch.complete(a.id, "a", result=1)
        with pytest.raises(taskorch.NotClaimedError):
            orch.complete(b.id, "a", result="wrong agent")  # undone alone, the batch goes on
        orch.complete(b.id, "b", result=2)
    assert [orch.get(t.id).result for t in (a, b)] == [1, 2]


def test_an_exception_leaving_a_batch_undoes_all_of_it(orch: taskorch.Orchestrator) -> None:
    orch.plan("g", chain(2))
    with pytest.raises(RuntimeError), orch.batch():
        task = orch.claim("a")
        assert task is not None
        orch.complete(task.id, "a")
        raise RuntimeError("agent crashed")
    assert orch.status().subtasks == {"ready": 1, "pending": 1}
