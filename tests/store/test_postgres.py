"""PostgreSQL specifics: SKIP LOCKED claims from threads and processes, the connection pool,
concurrent schema creation, batches that do not stop other threads, error translation.

The engine's behaviour on PostgreSQL is covered by the contract tests (every test using the
``orch``/``db_url`` fixtures runs on each backend); these run only when a server is configured.
"""

from __future__ import annotations

import math
import multiprocessing
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import taskorch
from taskorch import TaskStatus
from taskorch.store import postgres_sql
from tests.support import POSTGRES_URL, chain, drop_schema, fresh_url

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="set TASKORCH_TEST_POSTGRES_URL (scripts/test starts a server)"
)

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    fresh = fresh_url("postgresql", tmp_path)
    yield fresh
    drop_schema(fresh)


def schema_of(url: str) -> str:
    return url.rpartition("schema=")[2]


def flat(n: int) -> list[dict[str, object]]:
    return [{"key": f"t{i}", "title": f"task {i}", "specialist": "s"} for i in range(n)]


def fan_in(n: int) -> list[dict[str, object]]:
    """n independent subtasks and one that depends on all of them."""
    return [
        *flat(n),
        {
            "key": "last",
            "title": "last",
            "specialist": "s",
            "depends_on": [f"t{i}" for i in range(n)],
        },
    ]


def drain(orch: taskorch.Orchestrator, agent: str) -> list[int]:
    """Claim and complete until nothing is left anywhere; the ids this agent completed."""
    done = []
    deadline = time.monotonic() + 60  # a lost release would leave a task pending forever
    while time.monotonic() < deadline:
        task = orch.claim(agent)
        if task is None:
            counts = orch.status()
            if counts["ready"] + counts["pending"] + counts["claimed"] == 0:
                return done
            time.sleep(0.002)  # another agent's completion will release more
            continue
        assert orch.context(task.id)["task"]["id"] == task.id
        orch.complete(task.id, agent, result=agent)
        done.append(task.id)
    raise AssertionError(f"{agent}: tasks still unfinished after 60 s: {orch.status()}")


def test_threads_sharing_one_orchestrator_never_double_claim(url: str) -> None:
    # A small context cache: threads evict each other's entries while reading them.
    with taskorch.open(url, pool_size=4, context_cache_size=8) as orch:
        plans = [orch.plan(f"g{i}", chain(5)) for i in range(4)] + [orch.plan("fan", fan_in(100))]
        results: dict[str, list[int]] = {}

        def agent(name: str) -> None:
            results[name] = drain(orch, name)

        threads = [threading.Thread(target=agent, args=(f"a{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        done = Counter(i for ids in results.values() for i in ids)
        planned = [i for p in plans for i in p.task_ids]
        assert len(results) == 8 and max(done.values()) == 1
        assert sorted(done) == sorted(planned)
        tasks = orch.store.get_many(planned)
        assert all(t.status is TaskStatus.COMPLETED and t.attempts == 1 for t in tasks)
        assert all(orch.get(p.parent_id).status is TaskStatus.COMPLETED for p in plans)


def _drain_in_process(args: tuple[str, str]) -> list[int]:
    url, agent = args
    with taskorch.open(url, pool_size=1) as orch:
        return drain(orch, agent)


def test_processes_never_double_claim(url: str) -> None:
    with taskorch.open(url) as orch:
        plans = [orch.plan("chain", chain(10)), orch.plan("fan", fan_in(200))]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_drain_in_process, [(url, f"p{i}") for i in range(4)])
    done = Counter(i for ids in results for i in ids)
    assert max(done.values()) == 1
    assert sorted(done) == sorted(i for p in plans for i in p.task_ids)


def _claim_in_a_batch_then_hang(url: str, ready: Any) -> None:
    orch = taskorch.open(url, pool_size=1)
    with orch.batch():
        orch.claim("doomed")
        orch.claim("doomed")
        ready.set()
        time.sleep(60)  # killed here, the batch neither committed nor rolled back


def test_a_process_killed_inside_a_batch_leaves_nothing_behind(url: str) -> None:
    with taskorch.open(url) as orch:
        plan = orch.plan("g", flat(3))
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        child = ctx.Process(target=_claim_in_a_batch_then_hang, args=(url, ready))
        child.start()
        try:
            assert ready.wait(60)
            third = orch.claim("survivor")  # SKIP LOCKED: the two held rows are passed over
            assert third is not None and third.id == plan.task_ids[2]
        finally:
            child.kill()
            child.join(30)
        # The server rolls the dead connection's transaction back as soon as it notices the
        # closed socket: no lease to wait for.
        again: list[taskorch.Task] = []
        deadline = time.monotonic() + 30
        while len(again) < 2 and time.monotonic() < deadline:
            task = orch.claim("survivor")
            if task is None:
                time.sleep(0.01)
            else:
                again.append(task)
        assert sorted(t.id for t in again) == list(plan.task_ids[:2])
        assert all(t.attempts == 1 for t in again)


def test_pool_timeout_is_a_clear_error_and_the_pool_recovers(url: str) -> None:
    with taskorch.open(url, pool_size=1, pool_timeout=0.1) as orch:
        plan = orch.plan("g", chain(1))
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with orch.batch():  # pins the only connection to this thread
                holding.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        assert holding.wait(10)
        with pytest.raises(
            taskorch.PoolTimeoutError, match=r"pool_size=1.*raise \?pool_size="
        ) as info:
            orch.get(plan.task_ids[0])
        assert info.value.retryable and isinstance(info.value, taskorch.StorageError)
        release.set()
        holder.join(10)
        assert orch.get(plan.task_ids[0]).status is TaskStatus.READY


def test_a_batch_does_not_stop_other_threads(url: str) -> None:
    with taskorch.open(url, pool_size=2) as orch:
        orch.plan("g", flat(2))
        other: list[taskorch.Task | None] = []
        with orch.batch():
            mine = orch.claim("batch")
            assert mine is not None
            # Another thread claims meanwhile: SKIP LOCKED passes over the row this uncommitted
            # batch holds, instead of waiting for the batch to end.
            thread = threading.Thread(target=lambda: other.append(orch.claim("other")))
            thread.start()
            thread.join(10)
            assert not thread.is_alive()
        assert other and other[0] is not None and other[0].id != mine.id


def test_a_lock_timeout_inside_a_batch_is_undone_alone(url: str) -> None:
    with taskorch.open(url, busy_timeout=0.1) as orch:
        orch.plan("g", flat(2))
        a, b = orch.claim("x"), orch.claim("x")
        assert a is not None and b is not None
        with psycopg.connect(POSTGRES_URL) as blocker:
            blocker.execute(
                f'SELECT 1 FROM "{schema_of(url)}".tasks WHERE id = %s FOR UPDATE', (b.id,)
            )
            with orch.batch():
                orch.complete(a.id, "x", result="a")
                with pytest.raises(taskorch.DatabaseLockedError, match="busy_timeout") as info:
                    orch.complete(b.id, "x", result="b")
                assert info.value.retryable
                blocker.rollback()
                orch.complete(b.id, "x", result="b")  # the batch goes on after the error
        assert [orch.get(t.id).result for t in (a, b)] == ["a", "b"]


def test_a_server_that_is_not_there(unused_port: int) -> None:
    with pytest.raises(taskorch.StorageError, match="cannot reach") as info:
        taskorch.open(f"postgresql://nobody@127.0.0.1:{unused_port}/db?connect_timeout=5")
    assert info.value.retryable
    assert isinstance(info.value.__cause__, psycopg.Error)


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_a_schema_from_a_newer_taskorch(url: str) -> None:
    with taskorch.open(url) as orch:
        orch.plan("g", chain(1))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{schema_of(url)}\".meta SET value = '99' WHERE key = 'schema_version'"
        )
    with pytest.raises(taskorch.SchemaVersionError, match="upgrade taskorch"):
        taskorch.open(url)


def test_a_schema_holding_someone_elses_tasks_table(url: str) -> None:
    schema = schema_of(url)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".tasks (name TEXT)')
        conn.execute(f"INSERT INTO \"{schema}\".tasks VALUES ('mine')")
    with pytest.raises(taskorch.CorruptDatabaseError, match="did not create"):
        taskorch.open(url)
    with psycopg.connect(POSTGRES_URL) as conn:
        assert conn.execute(f'SELECT name FROM "{schema}".tasks').fetchall() == [("mine",)]
        assert conn.execute(f"SELECT to_regclass('\"{schema}\".meta')").fetchone() == (None,)


@pytest.mark.parametrize(
    ("suffix", "options", "argument"),
    [
        ("pool_size=0", {}, "pool_size"),
        ("pool_size=many", {}, "pool_size"),
        ("pool_timeout=-1", {}, "pool_timeout"),
        ("pool_timeout=nan", {}, "pool_timeout"),
        ("connect_timeout=0", {}, "connect_timeout"),
        ("statement_timeout=inf", {}, "statement_timeout"),
        ("", {"busy_timeout": math.nan}, "busy_timeout"),
        ("", {"schema": ""}, "schema"),
        ("durability=sometimes", {}, "durability"),
    ],
)
def test_bad_option_values_are_invalid_arguments(
    url: str, suffix: str, options: dict[str, object], argument: str
) -> None:
    with pytest.raises(taskorch.InvalidArgumentError) as caught:
        taskorch.open(f"{url}&{suffix}" if suffix else url, **options)
    assert caught.value.argument == argument


@pytest.mark.parametrize(
    ("suffix", "options", "message"),
    [
        ("", {"cache_size": 5}, "unknown option"),
        ("nonsense_parameter=1", {}, "bad PostgreSQL URL"),
    ],
)
def test_unknown_options_are_configuration_errors(
    url: str, suffix: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(taskorch.ConfigurationError, match=message):
        taskorch.open(f"{url}&{suffix}" if suffix else url, **options)


def test_libpq_parameters_and_keyword_options_pass_through(url: str) -> None:
    with taskorch.open(f"{url}&application_name=fleet-7&durability=off", pool_size=3) as orch:
        store = orch.store
        assert store.pool_size == 3  # type: ignore[attr-defined]
        with store.pool.connection() as conn:  # type: ignore[attr-defined]
            row = conn.execute(
                "SELECT current_setting('application_name'), current_schema(),"
                " current_setting('synchronous_commit'), current_setting('lock_timeout')"
            )
            assert row.fetchone() == ("fleet-7", schema_of(url), "off", "5s")


def test_deadlocks_are_retried_outside_transactions_only(url: str) -> None:
    from psycopg import errors as pg

    from taskorch.store.postgres_errors import translated
    from taskorch.store.postgres_options import parse_url

    class Fake:
        in_transaction = False
        calls = 0
        options = parse_url("postgresql://fake/db", {})[1]

        def describe(self) -> str:
            return "fake"

        @translated
        def op(self) -> str:
            self.calls += 1
            if self.calls < 3:
                raise pg.DeadlockDetected("deadlock detected")
            return "done"

    fake = Fake()
    assert fake.op() == "done" and fake.calls == 3  # type: ignore[arg-type]
    inside = Fake()
    inside.in_transaction = True
    with pytest.raises(taskorch.DatabaseLockedError, match="retry"):
        inside.op()  # type: ignore[arg-type]
    assert inside.calls == 1


def test_pool_exhaustion_stress_short_run(url: str) -> None:
    from perfkit.stress import pool_exhaustion

    result = pool_exhaustion.run(
        url, threads=8, pool_size=2, pool_timeout=0.02, tasks=60, hold=0.05
    )
    assert result.exhaustion.timeouts > 0 and "pool_size=2" in result.timeout_message
    assert result.exhaustion.errors == [] and result.recovery.errors == []
    assert result.recovery.timeouts == 0
    assert result.exhaustion.hung_threads == result.recovery.hung_threads == 0
    assert result.double_completions == result.claimed_more_than_once == result.unfinished == 0
    assert result.invariants_hold


def test_a_schema_name_with_a_space_and_a_quote(tmp_path: Path) -> None:
    url = fresh_url("postgresql", tmp_path) + ' x"y'
    try:
        with taskorch.open(url) as orch:
            orch.plan("g", chain(2))
            assert orch.status().total == 2
            assert orch.store.schema.endswith(' x"y')  # type: ignore[attr-defined]
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            name = psycopg.sql.Identifier(schema_of(url))
            conn.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(name))


def test_a_lost_connection_is_a_retryable_error_and_the_pool_heals(url: str) -> None:
    with taskorch.open(f"{url}&application_name=doomed", pool_size=2) as orch:
        orch.plan("g", chain(1))
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'doomed'"
            )
        with pytest.raises(taskorch.StorageError, match="connection to the server was lost") as e:
            orch.status()
        assert e.value.retryable
        assert orch.status().subtasks == {"ready": 1}  # the pool replaced the broken connection


@pytest.mark.parametrize(
    "name",
    ["GET", "CLAIM", "CLAIM_SPECIALIST", "SWEEP", "COMPLETE", "FAIL", "COUNTS", "SUBTASKS",
     "DEPENDENCIES", "CANCEL"],
)  # fmt: skip
def test_statements_can_use_their_indexes(url: str, name: str) -> None:
    # With sequential scans priced out, a plan still holding one means no index serves the
    # statement (e.g. a partial index whose condition the query does not imply).
    with taskorch.open(url) as orch:
        plan = orch.plan("g", chain(5))
    statement = getattr(postgres_sql, name)
    args: dict[str, object] | tuple[object, ...] = {
        "agent": "a", "until": 2.0, "now": 1.0, "specialist": "s", "id": plan.task_ids[0],
        "result": None, "artifacts": None, "failed": 0, "error": "e", "parent": plan.parent_id,
    }  # fmt: skip
    if "%(" not in statement:
        args = () if name == "COUNTS" else (plan.task_ids[0],)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{schema_of(url)}"')
        conn.execute("SET enable_seqscan = off")
        lines = [r[0] for r in conn.execute(f"EXPLAIN {statement}", args)]
    assert not [line for line in lines if "Seq Scan" in line], "\n".join(lines)


@pytest.mark.parametrize("status", ["ready", "claimed", "failed", "blocked", "cancelled", "active"])
def test_a_listing_by_state_finds_its_rows_through_an_index_in_any_plan(
    url: str, status: str
) -> None:
    # psycopg prepares a statement it has run a few times, and PostgreSQL may then plan it once
    # for any parameters (a generic plan). A state bound as a parameter cannot select a partial
    # index there: the plan walked every task by id and filtered on the state.
    with taskorch.open(url) as orch:
        orch.plan("g", chain(5))
    numbered = iter(range(1, 10))
    statement = postgres_sql.LIST_BY_STATUS[status]
    while "%s" in statement:
        statement = statement.replace("%s", f"${next(numbered)}", 1)
    params = ", ".join(["0"] * (next(numbered) - 1))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{schema_of(url)}"')
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE listing AS {statement}")
        lines = [r[0] for r in conn.execute(f"EXPLAIN EXECUTE listing({params})")]
    shown = "\n".join(lines)
    assert not [line for line in lines if "Filter:" in line and "status" in line], shown
    assert [line for line in lines if "Index Cond:" in line or "Index Scan" in line], shown


@pytest.mark.parametrize(
    "settings", ["", "SET enable_indexscan = off"], ids=["default", "no index scans"]
)
@pytest.mark.parametrize("ending", ["COMPLETE", "FAIL"])
def test_a_task_ending_without_dependents_reads_no_other_row_in_any_plan(
    url: str, settings: str, ending: str
) -> None:
    # The plan of a prepared completion (or failure) is kept while the table grows; made while it
    # was small, it scanned the whole table for the dependents, whether or not the task had any.
    with taskorch.open(url) as orch:
        orch.plan("g", [{"key": f"k{i}", "title": "t", "specialist": "s"} for i in range(50)])
        task = orch.claim("agent")
        assert task is not None
    statement = getattr(postgres_sql, ending)
    values = {
        "id": task.id,
        "agent": "'agent'",
        "now": time.time(),
        "failed": int(ending == "FAIL"),
    }
    values |= (
        {"result": "'\"done\"'", "artifacts": "NULL"} if ending == "COMPLETE" else {"error": "'e'"}
    )
    for i, name in enumerate(values, 1):
        statement = statement.replace(f"%({name})s", f"${i}")
    args = ", ".join(map(str, values.values()))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'SET search_path = "{schema_of(url)}"')
        if settings:
            conn.execute(settings)
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(f"PREPARE completion AS {statement}")
        lines = [
            r[0] for r in conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE completion({args})")
        ]
    shown = "\n".join(lines)
    assert "rows=1" in lines[0], shown  # the task was completed
    assert not [line for line in lines if "Rows Removed by Filter" in line], shown
    # A bitmap scan is two lines, the index's and the table's; the table's counts.
    scans = [line for line in lines if re.search(r"(Seq|Index|Heap) Scan.* on tasks\b", line)]
    scans = [line for line in scans if "Bitmap Index Scan" not in line]
    read = [line for line in scans if "never executed" not in line]
    assert len(read) == 2, shown  # the task and its plan's parent


def test_a_listing_of_a_state_no_task_is_in_finds_nothing(url: str) -> None:
    with taskorch.open(url) as orch:
        orch.plan("g", chain(3))
        assert orch.store.list_tasks("no such state", 0, 10) == []
        assert [t.status for t in orch.store.list_tasks("ready", 0, 10)] == [TaskStatus.READY]


def test_a_plan_is_one_statement_and_no_transaction(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One round trip outside a batch: the ids, the parent and the subtasks in one statement,
    # atomic on its own. Inside a batch it is one statement in the batch's transaction.
    sent: list[str] = []
    execute, transaction = psycopg.Connection.execute, psycopg.Connection.transaction

    def counted_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append("statement")
        return execute(self, query, *args, **kwargs)

    def counted_transaction(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append("transaction")
        return transaction(self, *args, **kwargs)

    with taskorch.open(url) as orch:
        monkeypatch.setattr(psycopg.Connection, "execute", counted_execute)
        monkeypatch.setattr(psycopg.Connection, "transaction", counted_transaction)
        plan = orch.plan("g", chain(3))
        assert sent == ["statement"]
        with orch.batch():
            sent.clear()
            orch.plan("g", chain(2))
        assert sent == ["transaction", "statement"]  # the operation's savepoint
        monkeypatch.undo()
        assert [t.status for t in orch.subtasks(plan.parent_id)] == [
            TaskStatus.READY, TaskStatus.PENDING, TaskStatus.PENDING
        ]  # fmt: skip
        assert [t.id for t in orch.store.dependencies(plan.task_ids[2])] == [plan.task_ids[1]]


@pytest.mark.parametrize("size", [3, 101])  # one statement, and the transaction of two
def test_small_and_large_plans_write_the_same_graph(url: str, size: int) -> None:
    from taskorch.store.postgres import ONE_STATEMENT_PLAN

    assert (size > ONE_STATEMENT_PLAN) == (size == 101)
    with taskorch.open(url) as orch:
        plan = orch.plan("g", chain(size))
        states = [t.status for t in orch.subtasks(plan.parent_id)]
        assert states == [TaskStatus.READY] + [TaskStatus.PENDING] * (size - 1)
        last = plan.task_ids[-1]
        assert [t.id for t in orch.store.dependencies(last)] == [plan.task_ids[-2]]
        task = orch.claim("a")
        assert task is not None and task.id == plan.task_ids[0]
        orch.complete(task.id, "a", result=None)
        assert orch.get(plan.task_ids[1]).status is TaskStatus.READY
