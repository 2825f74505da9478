"""SQLite specifics: query plans, durability, bad files, locks, concurrent cold starts."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import taskorch
from taskorch.store import open_store
from taskorch.store import sqlite_sql as backend
from taskorch.store.schema import SCHEMA_VERSION
from tests.support import chain


def plan_of(conn: sqlite3.Connection, sql: str, args: tuple[object, ...]) -> str:
    return " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))


@pytest.mark.parametrize(
    ("sql", "args", "expected"),
    [
        (backend.SQL_GET, (1,), "SEARCH tasks USING INTEGER PRIMARY KEY"),
        (backend.SQL_CLAIM, ("a", 2.0, 1.0), "USING COVERING INDEX tasks_status (status=?)"),
        (backend.SQL_CLAIM, ("a", 2.0, 1.0), "SEARCH tasks USING INTEGER PRIMARY KEY"),
        (
            backend.SQL_CLAIM_SPECIALIST,
            ("a", 2.0, 1.0, "s"),
            "USING INDEX tasks_ready_by_specialist (specialist=?)",
        ),
        (
            backend.SQL_COMPLETE[True, True],
            (1.0, 1, "a", 1.0),
            "SEARCH tasks USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (
            backend.SQL_PARENT_COUNT,
            (1, 0, 1.0, 1),
            "SEARCH tasks USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (
            backend.SQL_UNBLOCK,
            (1.0, 1, "[1]"),
            "SEARCH tasks USING INTEGER PRIMARY KEY (rowid=?)",
        ),
        (backend.SQL_ANY_EXPIRED, (1.0,), "USING INDEX tasks_status (status=?)"),
        (backend.SQL_SWEEP, (1.0,), "USING INDEX tasks_status (status=?)"),
        (
            backend.SQL_LIST_INDEXED_STATUS,
            ("ready", 0, 10),
            "USING INDEX tasks_status (status=? AND rowid>?)",
        ),
        (
            backend.SQL_LIST_BY_STATUS["ready"],
            (0, 10),
            "USING INDEX tasks_status (status=? AND rowid>?)",
        ),
        (
            backend.SQL_LIST_BY_STATUS["active"],
            (0, 10),
            "USING INDEX tasks_plan_status (status=? AND parent_id=?)",
        ),
        (
            backend.SQL_LIST_ACTIVE,
            ("active", 0, 10),
            "USING INDEX tasks_plan_status (status=? AND parent_id=?)",
        ),
        (
            backend.SQL_SUBTASKS,
            (1, 1, 1),
            "SEARCH tasks USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
        ),
        (backend.SQL_COUNT_STATES, (), "SEARCH tasks USING COVERING INDEX tasks_status (status=?)"),
        (backend.SQL_COUNT_PLANS, (), "USING COVERING INDEX tasks_plan_status"),
        (backend.SQL_UNFINISHED, (), "USING INDEX tasks_plan_status (status=? AND parent_id=?)"),
    ],
)
def test_queries_use_the_intended_indexes(
    tmp_path: Path, sql: str, args: tuple[object, ...], expected: str
) -> None:
    with taskorch.open(f"sqlite:///{tmp_path}/q.db") as orch:
        orch.plan("g", chain(3))
        conn = orch.store.conn  # type: ignore[attr-defined]
        plan = plan_of(conn, sql, args)
    assert expected in plan
    assert "SCAN tasks" not in plan.replace("SCAN tasks USING COVERING INDEX", "")


def test_wal_and_durability_settings(tmp_path: Path) -> None:
    for name, level in (("off", 0), ("normal", 1), ("full", 2)):
        store = open_store(f"sqlite:///{tmp_path}/d.db?durability={name}")
        conn = store.conn  # type: ignore[attr-defined]
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == level
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.close()
    with pytest.raises(taskorch.InvalidArgumentError, match=r"^durability: "):
        open_store(f"sqlite:///{tmp_path}/d.db?durability=sometimes")


def test_open_creates_parent_folders_and_default_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with taskorch.open() as orch:
        orch.plan("g", chain(1))
    assert (tmp_path / ".taskorch" / "taskorch.db").is_file()
    with taskorch.open("sqlite:///deep/er/x.db") as orch:
        assert orch.status().total == 0
    assert (tmp_path / "deep" / "er" / "x.db").is_file()


@pytest.mark.parametrize("url", ["mysql://x", "nothing", "sqlite://relative.db", "postgres"])
def test_bad_urls_get_configuration_errors(url: str) -> None:
    with pytest.raises(taskorch.ConfigurationError):
        taskorch.open(url)


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(taskorch.CorruptDatabaseError, match="not a readable"):
        taskorch.open(f"sqlite:///{path}")
    assert path.read_bytes() == b"these are my notes, not a database\n" * 200


def test_a_database_from_a_newer_taskorch(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with taskorch.open(f"sqlite:///{path}") as orch:
        orch.plan("g", chain(1))
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(taskorch.SchemaVersionError, match="upgrade taskorch"):
        taskorch.open(f"sqlite:///{path}")


def test_a_version_1_database_is_migrated_and_keeps_its_work(tmp_path: Path) -> None:
    """Version 2 leaves running plans' parents ('active') out of tasks_status."""
    from taskorch.store.schema import MIGRATIONS

    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    # A plan of one ready subtask, as version 1 wrote it.
    conn.execute(
        "INSERT INTO tasks (id, title, status, waiting, size, created_at, updated_at)"
        " VALUES (1, 'g', 'active', 1, 1, 0, 0)"
    )
    conn.execute(
        "INSERT INTO tasks (id, parent_id, key, title, specialist, status, created_at, updated_at)"
        " VALUES (2, 1, 'a', 't', 'r', 'ready', 0, 0)"
    )
    conn.close()
    with taskorch.open(f"sqlite:///{path}") as orch:
        assert orch.status().subtasks == {"ready": 1}
        assert [t.id for t in orch.tasks(status="active")] == [1]
        task = orch.claim("agent")
        assert task is not None and task.id == 2
        orch.complete(task.id, "agent", result=1)
        assert orch.get(1).status is taskorch.TaskStatus.COMPLETED
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    (index,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'tasks_status'").fetchone()
    assert "'active'" in index
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_a_new_file_has_the_schemas_pages_and_an_older_file_keeps_its_own(tmp_path: Path) -> None:
    from taskorch.store.schema import PAGE_SIZE

    new, old = tmp_path / "new.db", tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("PRAGMA page_size = 4096")
    conn.execute("CREATE TABLE notes (x)")  # the file is made, with its page size
    conn.close()
    for path in (new, old):
        with taskorch.open(f"sqlite:///{path}") as orch:
            orch.plan("g", chain(3))
            task = orch.claim("agent")
            assert task is not None
            orch.complete(task.id, "agent", result="r")
        with taskorch.open(f"sqlite:///{path}") as orch:  # and opens again as it was
            assert orch.get(task.id).result == "r"
            assert orch.status().subtasks == {"completed": 1, "ready": 1, "pending": 1}
    sizes = {}
    for path in (new, old):
        conn = sqlite3.connect(path)
        sizes[path] = conn.execute("PRAGMA page_size").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    assert PAGE_SIZE != 4096 and sizes == {new: PAGE_SIZE, old: 4096}


def test_a_locked_database_gives_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/locked.db?busy_timeout=0.2"
    with taskorch.open(url) as orch:
        orch.plan("g", chain(2))
        blocker = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(taskorch.DatabaseLockedError, match="locked") as info:
            orch.plan("h", chain(3))
        assert time.monotonic() - started < 5
        assert info.value.retryable
        with pytest.raises(taskorch.DatabaseLockedError), orch.batch():
            orch.claim("agent")  # BEGIN of the batch itself waits, then fails clearly
        blocker.execute("ROLLBACK")
        blocker.close()
        assert orch.status().total == 2
        assert orch.plan("h", chain(3)).task_ids


def test_translated_errors_chain_the_driver_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"junk" * 1024)
    with pytest.raises(taskorch.StorageError) as info:
        taskorch.open(f"sqlite:///{path}")
    assert isinstance(info.value.__cause__, sqlite3.Error)


def test_threads_sharing_an_orchestrator_wait_for_another_threads_batch(tmp_path: Path) -> None:
    with taskorch.open(f"sqlite:///{tmp_path}/t.db") as orch:
        assert not orch.store.thread_safe  # one connection: the engine's lock serializes calls
        orch.plan("g", chain(1))
        other: list[taskorch.Task | None] = []
        thread = threading.Thread(target=lambda: other.append(orch.claim("other")))
        with orch.batch():
            thread.start()
            thread.join(0.2)
            assert thread.is_alive()  # it waits for the batch, not inside its transaction
            mine = orch.claim("batch")
        thread.join(10)
    assert mine is not None and other == [None]


def test_a_path_under_a_regular_file_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("mine")
    with pytest.raises(taskorch.StorageError, match="cannot create its folder"):
        taskorch.open(f"sqlite:///{tmp_path}/afile/sub/t.db")
    assert (tmp_path / "afile").read_text() == "mine"


def _unlink_database(path: Path) -> None:
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_file_deleted_or_replaced_while_open_stops_every_write(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "work.db"
    other = tmp_path / "other.db"
    with taskorch.open(f"sqlite:///{other}") as orch:
        orch.plan("the file that takes its place", chain(1))
    with taskorch.open(f"sqlite:///{path}") as orch:
        task_id = orch.plan("first", chain(2)).task_ids[0]
        claimed = orch.claim("a")
        assert claimed is not None and claimed.id == task_id
        # A backup restored the way that keeps SQLite's own state consistent: the file with
        # its write-ahead log and shared-memory index (a log left beside a new file is read
        # with it; docs/guarantees.md).
        _unlink_database(path)
        if how == "replaced":
            os.replace(other, path)
        writes = [
            lambda: orch.plan("lost", chain(1)),
            lambda: orch.claim("b"),
            lambda: orch.complete(task_id, agent="a", result={"r": 1}),
            lambda: orch.fail(task_id, agent="a", error="e"),
            lambda: orch.renew(task_id, agent="a"),
            lambda: orch.release(task_id, agent="a"),
            lambda: orch.cancel(claimed.parent_id),
        ]
        for write in writes:
            with pytest.raises(taskorch.StorageError, match="deleted or replaced"):
                write()
        with pytest.raises(taskorch.StorageError, match="deleted or replaced"), orch.batch():
            orch.claim("c")
    if how == "replaced":
        with taskorch.open(f"sqlite:///{path}") as orch:
            # The file at the path is the other database, whole and untouched.
            assert [t.title for t in orch.tasks()] == ["the file that takes its place", "step 0"]
            assert orch.status().subtasks["ready"] == 1
    else:
        assert not path.exists()


def test_a_store_opened_by_a_relative_path_survives_a_change_of_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with taskorch.open("sqlite:///rel.db") as orch:
        monkeypatch.chdir("/")
        plan = orch.plan("goal", chain(1))
        assert orch.claim("a") is not None
        orch.complete(plan.task_ids[0], agent="a")
    assert (tmp_path / "rel.db").exists()
