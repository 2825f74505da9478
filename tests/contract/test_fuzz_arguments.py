"""Random values of the wrong type or range, fed into each public call (hypothesis): each call
either succeeds or raises a TaskorchError; an InvalidArgumentError names the argument; a call that
raised changed nothing (a recount of the states and every task compared; SQLite's integrity
check)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import taskorch

MAX_ID = 2**63 - 1  # the largest id (a BIGINT)

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**63, 2**63 - 1, 2**64, -(2**63), 2**70]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e300]),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.lists(st.integers() | st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers() | st.floats(), max_size=3),
    # Lone surrogates, which UTF-8 cannot encode (st.text never draws them).
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.sampled_from(["a\ud800", ["\udc80"], {"k": "\udfff"}, {"\ud800": 1}]),
)

Call = Callable[[taskorch.Orchestrator, taskorch.Task, Any], object]

# (argument, the call with the junk in that argument and right values elsewhere)
CALLS: list[tuple[str, Call]] = [
    ("goal", lambda o, t, v: o.plan(v, [{"key": "a", "title": "A", "specialist": "s"}])),
    ("subtasks", lambda o, t, v: o.plan("g", v)),
    ("subtasks", lambda o, t, v: o.plan("g", [{"key": "a", "title": v, "specialist": "s"}])),
    ("context", lambda o, t, v: o.plan("g", [{"key": "a", "title": "A", "specialist": "s"}], v)),
    ("agent", lambda o, t, v: o.claim(v)),
    ("specialist", lambda o, t, v: o.claim("b", v)),
    ("lease_seconds", lambda o, t, v: o.claim("b", None, v)),
    ("task_id", lambda o, t, v: o.complete(v, "a")),
    ("agent", lambda o, t, v: o.complete(t.id, v)),
    ("result", lambda o, t, v: o.complete(t.id, "a", v)),
    ("artifacts", lambda o, t, v: o.complete(t.id, "a", None, v)),
    ("task_id", lambda o, t, v: o.fail(v, "a", "e")),
    ("error", lambda o, t, v: o.fail(t.id, "a", v)),
    ("retry", lambda o, t, v: o.fail(t.id, "a", "e", v)),
    ("task_id", lambda o, t, v: o.renew(v, "a")),
    ("lease_seconds", lambda o, t, v: o.renew(t.id, "a", v)),
    ("task_id", lambda o, t, v: o.release(v, "a")),
    ("agent", lambda o, t, v: o.release(t.id, v)),
    ("task_id", lambda o, t, v: o.context(v)),
    ("task_id", lambda o, t, v: o.context_json(v)),
    ("task_id", lambda o, t, v: o.get(v)),
    ("parent_id", lambda o, t, v: o.subtasks(v)),
    ("status", lambda o, t, v: o.tasks(v)),
    ("after", lambda o, t, v: o.tasks(None, v)),
    ("limit", lambda o, t, v: o.tasks(None, 0, v)),
    ("parent_id", lambda o, t, v: o.synthesize(v, True)),
    ("partial", lambda o, t, v: o.synthesize(t.parent_id, v)),
    ("parent_id", lambda o, t, v: o.cancel(v)),
    ("maxsize", lambda o, t, v: o.subscribe(v)),
    ("kinds", lambda o, t, v: o.subscribe(10, v)),
]

# Errors a well-typed value may meet: the id is no task, the task is in another state, another
# agent holds it, the plan is refused.
DOMAIN = (
    taskorch.UnknownTaskError,
    taskorch.InvalidTransitionError,
    taskorch.ClaimError,
    taskorch.PlanError,
)


def well_typed(argument: str, value: Any) -> bool:
    """Whether ``value`` is of the argument's type and range (such a value may fail on the state
    of the store, never on its type)."""
    if argument in ("task_id", "parent_id"):
        return type(value) is int and 0 < value <= MAX_ID
    if argument in ("agent", "goal"):
        return isinstance(value, str) and value != ""
    if argument == "specialist":
        return value is None or (isinstance(value, str) and value != "")
    if argument == "subtasks":
        return isinstance(value, list)
    if argument in ("partial", "retry"):
        return type(value) is bool
    return False


def snapshot(orch: taskorch.Orchestrator) -> tuple[object, ...]:
    status = orch.status()
    tasks = orch.tasks(limit=10_000)
    recount: dict[str, int] = {}
    for t in tasks:
        if not t.is_parent:
            recount[t.status.value] = recount.get(t.status.value, 0) + 1
    assert recount == status.subtasks  # the indexes' counts agree with the rows
    return status.as_dict(), tasks


@pytest.mark.parametrize(
    ("argument", "call"), CALLS, ids=[f"{a}-{i}" for i, (a, _) in enumerate(CALLS)]
)
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=JUNK)
def test_junk_is_refused_cleanly_or_accepted(
    orch: taskorch.Orchestrator, argument: str, call: Call, value: Any
) -> None:
    orch.plan("fresh", [{"key": "a", "title": "A", "specialist": "s"}])
    task = orch.claim("a")
    assert task is not None
    before = snapshot(orch)
    try:
        call(orch, task, value)
    except taskorch.InvalidArgumentError as exc:
        assert exc.argument == argument and str(exc).startswith(f"{argument}: "), exc
    except taskorch.InvalidSubtaskError as exc:  # a plan's own fields
        assert argument == "subtasks", exc
    except DOMAIN:
        assert well_typed(argument, value), (argument, value)
    else:
        return
    assert snapshot(orch) == before
    store = orch.store
    if hasattr(store, "conn"):
        assert store.conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
