"""What several test modules share: the repository root, the backends under test and their
fresh databases, and small plans."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

POSTGRES_URL = os.environ.get("TASKORCH_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def fresh_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/taskorch.db"
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"  # one schema per test keeps tests independent
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}schema={schema}"


def drop_schema(url: str) -> None:
    """Drop the per-test schema of a PostgreSQL URL made by :func:`fresh_url`."""
    import psycopg

    base, _, schema = url.rpartition("schema=")
    with psycopg.connect(base.rstrip("?&"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def chain(n: int, specialist: str = "implementer") -> list[dict[str, object]]:
    """n subtasks, each depending on the one before."""
    return [
        {
            "key": f"k{i}",
            "title": f"step {i}",
            "specialist": specialist,
            "description": f"do step {i}",
            "depends_on": [f"k{i - 1}"] if i else [],
        }
        for i in range(n)
    ]
