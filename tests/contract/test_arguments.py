"""Every argument is checked at the boundary, alike on every backend: a wrong type or a value out
of range is an InvalidArgumentError naming the argument, and nothing is written."""

from __future__ import annotations

import datetime
import math
import uuid
from typing import Any

import pytest

import taskorch
from taskorch.testing import FakeClock
from tests.support import chain

BAD_LEASES = [math.nan, math.inf, -math.inf, 0, 0.0, -1, -0.5, 1e300, "10", True, None, [10]]


def snapshot(orch: taskorch.Orchestrator) -> tuple[object, ...]:
    return orch.status().as_dict(), orch.tasks(limit=1000)


def held(orch: taskorch.Orchestrator) -> taskorch.Task:
    orch.plan("g", chain(2))
    task = orch.claim("a")
    assert task is not None
    return task


@pytest.mark.parametrize("lease", BAD_LEASES[:-2], ids=repr)
def test_a_bad_lease_is_refused_by_claim_and_renew(orch: taskorch.Orchestrator, lease: Any) -> None:
    task = held(orch)
    before = snapshot(orch)
    with pytest.raises(taskorch.InvalidArgumentError, match=r"^lease_seconds: ") as caught:
        orch.claim("b", lease_seconds=lease)
    assert caught.value.argument == "lease_seconds"
    with pytest.raises(taskorch.InvalidArgumentError, match=r"^lease_seconds: "):
        orch.renew(task.id, "a", lease_seconds=lease)
    assert snapshot(orch) == before


@pytest.mark.parametrize("lease", [math.nan, 0, -5, "10"], ids=repr)
def test_a_bad_default_lease_is_refused_when_opening(db_url: str, lease: Any) -> None:
    with pytest.raises(taskorch.InvalidArgumentError, match=r"^lease_seconds: "):
        taskorch.open(db_url, lease_seconds=lease)


def test_a_nan_lease_cannot_strand_a_task(orch: taskorch.Orchestrator, clock: FakeClock) -> None:
    """Before, a NaN lease was stored as NULL on SQLite (nobody could ever act on the task) and
    never ran out on PostgreSQL. Now the claim is refused and the task stays claimable."""
    plan = orch.plan("g", chain(1))
    with pytest.raises(taskorch.InvalidArgumentError):
        orch.claim("a", lease_seconds=math.nan)
    task = orch.claim("b", lease_seconds=10)
    assert task is not None and task.id == plan.task_ids[0]
    clock.advance(11)
    again = orch.claim("c")
    assert again is not None and again.id == task.id  # the lease ran out as leases do


@pytest.mark.parametrize(
    "bad", [2**63, 2**70, -(2**70), 0, -1, True, False, "1", 1.0, None, [1]], ids=repr
)
def test_a_bad_id_is_refused_by_every_call_that_takes_one(
    orch: taskorch.Orchestrator, bad: Any
) -> None:
    task = held(orch)
    before = snapshot(orch)
    calls = {
        "task_id": [
            lambda: orch.get(bad),
            lambda: orch.complete(bad, "a", result=1),
            lambda: orch.fail(bad, "a", "e"),
            lambda: orch.renew(bad, "a"),
            lambda: orch.release(bad, "a"),
            lambda: orch.context(bad),
            lambda: orch.context_json(bad),
        ],
        "parent_id": [
            lambda: orch.subtasks(bad),
            lambda: orch.synthesize(bad, partial=True),
            lambda: orch.cancel(bad),
        ],
    }
    for argument, functions in calls.items():
        for call in functions:
            with pytest.raises(taskorch.InvalidArgumentError) as caught:
                call()
            assert caught.value.argument == argument
    assert snapshot(orch) == before
    assert orch.get(task.id).status is taskorch.TaskStatus.CLAIMED


@pytest.mark.parametrize("bad", ["", None, 7, b"a", ["a"]], ids=repr)
def test_a_bad_agent_is_refused(orch: taskorch.Orchestrator, bad: Any) -> None:
    task = held(orch)
    before = snapshot(orch)
    for call in (
        lambda: orch.claim(bad),
        lambda: orch.complete(task.id, bad),
        lambda: orch.fail(task.id, bad, "e"),
        lambda: orch.renew(task.id, bad),
        lambda: orch.release(task.id, bad),
    ):
        with pytest.raises(taskorch.InvalidArgumentError, match=r"^agent: "):
            call()
    assert snapshot(orch) == before


def test_a_nul_character_is_refused_in_every_text_argument(orch: taskorch.Orchestrator) -> None:
    # PostgreSQL cannot store NUL in text and SQLite can: both refuse it, before writing.
    task = held(orch)
    before = snapshot(orch)
    for argument, call in (
        ("agent", lambda: orch.claim("a\x00")),
        ("specialist", lambda: orch.claim("b", specialist="s\x00")),
        ("agent", lambda: orch.complete(task.id, "\x00")),
        ("agent", lambda: orch.fail(task.id, "a\x00b", "e")),
        ("error", lambda: orch.fail(task.id, "a", "boom\x00")),
        ("agent", lambda: orch.renew(task.id, "a\x00")),
        ("agent", lambda: orch.release(task.id, "a\x00")),
        ("goal", lambda: orch.plan("g\x00", chain(1))),
    ):
        with pytest.raises(taskorch.InvalidArgumentError) as caught:
            call()
        assert caught.value.argument == argument, argument
    for field in ("key", "title", "specialist", "description"):
        spec = {"key": "k", "title": "t", "specialist": "s", field: "x\x00y"}
        with pytest.raises(taskorch.InvalidSubtaskError, match=f"subtask 0: '{field}'.*NUL"):
            orch.plan("g", [spec])
    assert snapshot(orch) == before


def test_other_arguments_are_checked(orch: taskorch.Orchestrator) -> None:
    task = held(orch)
    before = snapshot(orch)
    cases: list[tuple[str, Any]] = [
        ("specialist", lambda: orch.claim("b", specialist="")),
        ("specialist", lambda: orch.claim("b", specialist=3)),
        ("error", lambda: orch.fail(task.id, "a", None)),
        ("retry", lambda: orch.fail(task.id, "a", "e", retry="no")),
        ("partial", lambda: orch.synthesize(task.parent_id, partial=1)),
        ("status", lambda: orch.tasks(status="done")),
        ("after", lambda: orch.tasks(after=-1)),
        ("after", lambda: orch.tasks(after=2**64)),
        ("limit", lambda: orch.tasks(limit=1.5)),
        ("limit", lambda: orch.tasks(limit=-1)),
        ("maxsize", lambda: orch.subscribe(maxsize=0)),
        ("maxsize", lambda: orch.subscribe(maxsize=math.inf)),
        ("kinds", lambda: orch.subscribe(kinds="completed")),
        ("kinds", lambda: orch.subscribe(kinds={"complete"})),
        ("artifacts", lambda: orch.complete(task.id, "a", artifacts="report.md")),
        ("artifacts", lambda: orch.complete(task.id, "a", artifacts=5)),
    ]
    for argument, call in cases:
        with pytest.raises(taskorch.InvalidArgumentError) as caught:
            call()
        assert caught.value.argument == argument, argument
        assert str(caught.value).startswith(f"{argument}: ")
    assert snapshot(orch) == before


UNSTORABLE = [
    math.nan,
    math.inf,
    {"score": -math.inf},
    [1, [2, math.nan]],
    datetime.datetime(2024, 1, 2, 3, 4, 5),
    datetime.date(2024, 1, 2),
    uuid.UUID(int=7),
    {"when": datetime.datetime(2024, 1, 2)},
    {1: "int key"},
    {"s": {1, 2}},
    b"bytes",
    object(),
    2**64,
]


@pytest.mark.parametrize("value", UNSTORABLE, ids=repr)
def test_values_that_would_not_read_back_are_refused(
    orch: taskorch.Orchestrator, value: Any
) -> None:
    task = held(orch)
    before = snapshot(orch)
    for argument, call in (
        ("result", lambda: orch.complete(task.id, "a", result=value)),
        ("artifacts", lambda: orch.complete(task.id, "a", artifacts=[value])),
        ("context", lambda: orch.plan("g", chain(1), context={"k": value})),
    ):
        with pytest.raises(taskorch.InvalidArgumentError) as caught:
            call()
        assert caught.value.argument == argument
    assert snapshot(orch) == before


def test_json_values_read_back_as_written(orch: taskorch.Orchestrator) -> None:
    value = {"s": "é\u2028", "i": -(2**63), "u": 2**64 - 1, "f": 0.1, "b": [True, None, []]}
    task = held(orch)
    orch.complete(task.id, "a", result=value, artifacts=({"nested": value},))
    done = orch.get(task.id)
    assert done.result == value and done.artifacts == ({"nested": value},)


def test_a_circular_value_is_refused(orch: taskorch.Orchestrator) -> None:
    task = held(orch)
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(taskorch.InvalidArgumentError, match=r"^result: .*circular"):
        orch.complete(task.id, "a", result=loop)
    assert orch.get(task.id).status is taskorch.TaskStatus.CLAIMED


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"lease_check_interval": -1}, "lease_check_interval"),
        ({"lease_check_interval": math.nan}, "lease_check_interval"),
        ({"context_cache_size": -1}, "context_cache_size"),
        ({"context_cache_size": 1.5}, "context_cache_size"),
        ({"clock": 5}, "clock"),
        ({"busy_timeout": math.nan}, "busy_timeout"),
        ({"busy_timeout": -1}, "busy_timeout"),
        ({"busy_timeout": "soon"}, "busy_timeout"),
        # Milliseconds in a C int: more would overflow in SQLite and PostgreSQL.
        ({"busy_timeout": 2_147_484}, "busy_timeout"),
        ({"busy_timeout": 3e6}, "busy_timeout"),
        ({"durability": "sometimes"}, "durability"),
    ],
)
def test_open_checks_its_options(db_url: str, options: dict[str, Any], argument: str) -> None:
    with pytest.raises(taskorch.InvalidArgumentError) as caught:
        taskorch.open(db_url, **options)
    assert caught.value.argument == argument


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ("busy_timeout=abc", "busy_timeout"),
        ("busy_timeout=nan", "busy_timeout"),
        ("busy_timeout=-3", "busy_timeout"),
        ("busy_timeout=3e6", "busy_timeout"),
        ("busy_timeout=", "busy_timeout"),
        ("durability=sometimes", "durability"),
    ],
)
def test_url_options_follow_the_same_rules(db_url: str, query: str, argument: str) -> None:
    sep = "&" if "?" in db_url else "?"
    with pytest.raises(taskorch.InvalidArgumentError) as caught:
        taskorch.open(f"{db_url}{sep}{query}")
    assert caught.value.argument == argument


def test_an_unknown_option_is_a_configuration_error(db_url: str) -> None:
    with pytest.raises(taskorch.ConfigurationError, match="cache_size"):
        taskorch.open(db_url, cache_size=5)
    with pytest.raises(taskorch.InvalidArgumentError, match=r"^url: "):
        taskorch.open(b"sqlite:///x.db")  # type: ignore[arg-type]


def test_a_list_or_tuple_of_artifacts_is_not_copied() -> None:
    from taskorch import checks

    items: tuple[Any, ...] = ({"a": 1}, "b")
    assert checks.artifacts(items) is items
    listed = list(items)
    assert checks.artifacts(listed) is listed
    assert checks.artifacts(iter(items)) == listed


def test_claim_with_the_default_lease_does_not_check_it(
    orch: taskorch.Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch.plan("g", chain(1))
    monkeypatch.setattr(orch, "_lease", None)  # the default lease was checked when opening
    task = orch.claim("a")
    assert task is not None and task.lease_expires == orch.clock() + orch.lease_seconds
