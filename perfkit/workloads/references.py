"""Which bare reference each workload is measured against: the workloads of both registries
(:mod:`perfkit.workloads` on SQLite, :mod:`perfkit.workloads.pg_workloads` on PostgreSQL),
each mapped to the name of its bare-sqlite3 or bare-psycopg reference."""

from __future__ import annotations

from . import WORKLOADS
from .pg_workloads import WORKLOADS as PG_WORKLOADS

__all__ = ["references"]


def references() -> dict[str, str]:
    """Each workload that has a bare reference, mapped to that reference's name."""
    every = [*WORKLOADS.values(), *PG_WORKLOADS.values()]
    return {w.name: w.reference for w in every if w.reference is not None}
