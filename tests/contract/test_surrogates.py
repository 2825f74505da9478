"""A lone surrogate (text UTF-8 cannot encode, e.g. undecodable bytes of a command line) in any
text argument is an InvalidArgumentError naming it, or an InvalidSubtaskError naming a plan's
subtask and field, on both codecs, with nothing written; in an agent fleet it fails one task."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

import taskorch
from taskorch import codec
from taskorch.agents import Fleet

LONE = "a\ud800b"
Call = Callable[[taskorch.Orchestrator, taskorch.Task], object]
ONE = [{"key": "a", "title": "A", "specialist": "s"}]


@pytest.fixture(params=["as installed", "json"])
def either_codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each codec: the json one writes surrogates into its text and leaves them to the driver."""
    if request.param == "json":
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        monkeypatch.setattr(codec, "_dumps", encoder.encode)
    return str(request.param)


CALLS: list[tuple[str, Call]] = [
    ("goal", lambda o, t: o.plan(LONE, ONE)),
    ("context", lambda o, t: o.plan("g", ONE, {"k": LONE})),
    ("context", lambda o, t: o.plan("g", ONE, {LONE: 1})),
    ("agent", lambda o, t: o.claim(LONE)),
    ("specialist", lambda o, t: o.claim("b", LONE)),
    ("agent", lambda o, t: o.complete(t.id, LONE)),
    ("result", lambda o, t: o.complete(t.id, "a", LONE)),
    ("result", lambda o, t: o.complete(t.id, "a", {"x": [LONE]})),
    ("artifacts", lambda o, t: o.complete(t.id, "a", None, [LONE])),
    ("agent", lambda o, t: o.fail(t.id, LONE, "e")),
    ("error", lambda o, t: o.fail(t.id, "a", LONE)),
    ("error", lambda o, t: o.fail(t.id, "a", LONE, retry=True)),
    ("agent", lambda o, t: o.renew(t.id, LONE)),
    ("agent", lambda o, t: o.release(t.id, LONE)),
]


def snapshot(orch: taskorch.Orchestrator) -> object:
    return orch.status().as_dict(), orch.tasks(limit=1000)


@pytest.mark.parametrize(("argument", "call"), CALLS, ids=[f"{a}-{i}" for i, (a, _) in
                                                           enumerate(CALLS)])  # fmt: skip
def test_a_lone_surrogate_is_refused_naming_the_argument(
    orch: taskorch.Orchestrator, either_codec: str, argument: str, call: Call
) -> None:
    orch.plan("fresh", ONE)
    task = orch.claim("a")
    assert task is not None
    before = snapshot(orch)
    with pytest.raises(taskorch.InvalidArgumentError) as refused:
        call(orch, task)
    assert refused.value.argument == argument, refused.value
    assert snapshot(orch) == before


@pytest.mark.parametrize("field", ["key", "title", "specialist", "description"])
def test_a_lone_surrogate_in_a_subtask_is_refused_naming_it(
    orch: taskorch.Orchestrator, field: str
) -> None:
    subtasks: list[dict[str, Any]] = [dict(ONE[0]), {**ONE[0], "key": "b", field: LONE}]
    with pytest.raises(taskorch.InvalidSubtaskError, match=f"^subtask 1: '{field}' must be valid"):
        orch.plan("g", subtasks)
    assert orch.status().total == 0 and orch.tasks() == []


def test_text_that_encodes_is_accepted(orch: taskorch.Orchestrator, either_codec: str) -> None:
    plan = orch.plan("café ☕", [{"key": "ключ", "title": "題", "specialist": "s"}], {"é": "😀"})
    task = orch.claim("agent-é")
    assert task is not None
    orch.complete(task.id, "agent-é", "😀")
    assert orch.get(plan.task_ids[0]).result == "😀"


def test_a_fleet_fails_only_the_task_whose_result_or_error_holds_one(
    orch: taskorch.Orchestrator, either_codec: str
) -> None:
    plan = orch.plan("g", [{"key": f"i{i}", "title": "t", "specialist": "s"} for i in range(4)])

    async def handler(task: taskorch.Task, context: dict[str, Any]) -> Any:
        if task.key == "i1":
            return {"text": LONE}
        if task.key == "i2":
            raise RuntimeError(LONE)
        return "fine"

    fleet = Fleet(orch, handler, agents=2, max_attempts=1)
    report = asyncio.run(asyncio.wait_for(fleet.run(), 30))
    assert report.counters.completed == 2 and report.counters.failed == 2
    refused = orch.get(plan.task_ids[1])
    assert refused.status is taskorch.TaskStatus.FAILED and "result" in (refused.error or "")
    raised = orch.get(plan.task_ids[2])
    assert raised.status is taskorch.TaskStatus.FAILED
    assert raised.error == "RuntimeError: a\\ud800b"
