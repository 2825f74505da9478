"""The raw sqlite3 references: the physical limit of each SQLite workload on the same machine, in
the same run (``raw_insert`` for ``plan``, ``raw_get`` for ``get``), registered in
:data:`perfkit.workloads.WORKLOADS` beside the workloads they are compared with.

Each reference does the physical work of its taskorch operation with bare sqlite3 and nothing
else: the same rows (every column the engine writes, values of the same types and sizes) and
the index entries that a minimal correct schema needs, in the same journal mode, durability
and number of commits. What it leaves out is everything taskorch does in Python: checking the
input, the dependency graph, building rows and values. docs/benchmarks.md lists what each
reference includes. (Version 1 wrote narrower rows, no secondary index, and dependency edges
as rows of their own table; it read a row of 9 short columns from a table of such rows.)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..harness.store import fresh_path
from .plans import subtasks
from .registry import Step, workload

__all__ = [
    "RAW_COLUMNS",
    "RAW_INDEXES",
    "RAW_INSERT",
    "RAW_INSERT_PARENT",
    "RAW_NOW",
    "RAW_TABLE",
    "build_raw_store",
    "raw_connection",
    "raw_get_session",
    "raw_insert_session",
    "raw_rows",
]

# The columns of taskorch's tasks table (taskorch/store/rows.py), written out here because the
# references must not import the engine under test.
RAW_TABLE = """CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, parent_id INTEGER, key TEXT, title TEXT NOT NULL, specialist TEXT,
    description TEXT NOT NULL DEFAULT '', status TEXT NOT NULL,
    waiting INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0, deps TEXT, dependents TEXT, lease_expires REAL, agent TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, result TEXT, error TEXT, artifacts TEXT, context TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL)"""
# The indexes a correct orchestrator cannot do without: the ready queue (a claim takes the
# oldest ready task; also the lease sweep's 'claimed' range and the status counts), the ready
# queue of each specialist (a claim by role), and the plans by state (status over any number of
# plans without reading them). Each is partial, as small as those queries allow.
RAW_INDEXES = (
    """CREATE INDEX IF NOT EXISTS raw_ready ON tasks (status)
       WHERE status NOT IN ('pending', 'completed') AND status <> 'active'""",
    "CREATE INDEX IF NOT EXISTS raw_ready_by_role ON tasks (specialist) WHERE status = 'ready'",
    """CREATE INDEX IF NOT EXISTS raw_plans ON tasks (status, parent_id, size)
       WHERE parent_id IS NULL""",
)
RAW_INSERT_PARENT = """INSERT INTO tasks (parent_id, title, status, waiting, size, created_at,
    updated_at) VALUES (NULL, ?, ?, ?, ?, ?, ?)"""
# The cheapest binding bare sqlite3 allows, as the engine's: NULLIF, because binding None costs
# sqlite3 a failed adapter lookup (~0.3 µs), and numbered parameters, so that the status follows
# from the number of dependencies and one time fills both timestamps (SQLite copies bound text).
RAW_INSERT = """INSERT INTO tasks (parent_id, key, title, specialist, description, status,
    waiting, deps, dependents, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 > 0 THEN 'pending' ELSE 'ready' END, ?6,
        NULLIF(?7, '[]'), NULLIF(?8, '[]'), ?9, ?9)"""
RAW_COLUMNS = (
    "id, parent_id, key, title, specialist, description, status, agent, lease_expires, attempts,"
    " result, error, artifacts, created_at, updated_at"
)
RAW_NOW = 1_765_000_000.25  # a timestamp as the engine stores one: 8 bytes, not a small integer


def raw_connection(path: Path) -> sqlite3.Connection:
    """Bare sqlite3 with the same journal and durability as taskorch's default, on ``path``
    (a fresh one: :func:`~perfkit.harness.store.fresh_path`), holding the reference schema."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(RAW_TABLE)
    for statement in RAW_INDEXES:
        conn.execute(statement)
    return conn


def raw_rows(spec: list[dict[str, Any]], parent: int) -> list[tuple[Any, ...]]:
    """The subtask rows taskorch writes for ``spec`` (dependencies as JSON lists of offsets from
    the plan's first subtask, both ways), under ``parent``."""
    index = {s["key"]: i for i, s in enumerate(spec)}
    dependents: list[list[int]] = [[] for _ in spec]
    for i, s in enumerate(spec):
        for d in s.get("depends_on") or ():
            dependents[index[d]].append(i)
    rows = []
    for i, s in enumerate(spec):
        deps = [index[d] for d in s.get("depends_on") or ()]
        rows.append((
            parent, s["key"], s["title"], s["specialist"], s.get("description", ""), len(deps),
            json.dumps(deps, separators=(",", ":")),
            json.dumps(dependents[i], separators=(",", ":")), RAW_NOW,
        ))  # fmt: skip
    return rows


@workload("raw_insert", "bare sqlite3: the rows of a plan of n subtasks (+1 parent), with their"
          " dependencies and the index entries they need, in one commit",
          n=(1, 10, 1000))  # fmt: skip
def raw_insert_session(directory: Path, n: int = 1) -> Iterator[Step]:
    """The rows are built once: a constant parent id (the engine's are a few bytes longer)."""
    conn = raw_connection(fresh_path(directory, "raw"))
    rows = raw_rows(subtasks(n), parent=100_000)
    parent = ("goal", "active", n, n, RAW_NOW, RAW_NOW)

    def step() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(RAW_INSERT_PARENT, parent)
        conn.executemany(RAW_INSERT, rows)
        conn.execute("COMMIT")

    yield step
    conn.close()


def build_raw_store(path: Path, n_tasks: int) -> None:
    """The rows of :func:`build_store` in their final state, written with bare sqlite3: plans of
    100 subtasks, 80 % of them completed with a result, the rest ready or pending."""
    conn = raw_connection(path)
    plans = max(1, n_tasks // 100)
    finished = int(plans * 0.8)
    size = min(100, n_tasks)
    spec = subtasks(size, fan_in=1)
    conn.execute("BEGIN")
    next_id = 1
    for p in range(plans):
        done = p < finished
        conn.execute(
            "INSERT INTO tasks (id, title, status, waiting, size, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (next_id, f"goal {p}", "completed" if done else "active", 0 if done else size, size,
             RAW_NOW, RAW_NOW),
        )  # fmt: skip
        rows = raw_rows(spec, next_id)
        conn.executemany(
            "INSERT INTO tasks (id, parent_id, key, title, specialist, description, status,"
            " waiting, deps, dependents, created_at, updated_at, agent, attempts, result)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, '[]'), NULLIF(?, '[]'), ?, ?, ?, ?, ?)",
            [
                (next_id + 1 + i, *row[:5],
                 "completed" if done else ("pending" if row[5] else "ready"),
                 0 if done else row[5], row[6], row[7], RAW_NOW, RAW_NOW,
                 "builder" if done else None, int(done), '{"ok":true}' if done else None)
                for i, row in enumerate(rows)
            ],
        )  # fmt: skip
        next_id += size + 1
    conn.execute("COMMIT")
    conn.close()


@workload("raw_get", "bare sqlite3: one task's columns by primary key, from a store of n tasks"
          " shaped as taskorch's", n=(1000, 100_000))  # fmt: skip
def raw_get_session(directory: Path, n: int = 1000) -> Iterator[Step]:
    """A new connection on the built file, as the engine's session opens its store."""
    path = fresh_path(directory, f"raw-get-{n}")
    build_raw_store(path, n)
    conn = raw_connection(path)
    row_id = n // 2
    sql = f"SELECT {RAW_COLUMNS} FROM tasks WHERE id = ?"
    yield lambda: conn.execute(sql, (row_id,)).fetchall()
    conn.close()
