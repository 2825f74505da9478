"""Every shared workload sets up, runs its step and cleans up."""

from __future__ import annotations

from pathlib import Path

import pytest

import taskorch
from perfkit.workloads import WORKLOADS, build_store


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workload_runs(name: str, tmp_path: Path) -> None:
    workload = WORKLOADS[name]
    params = {k: v[0] for k, v in workload.params.items()}
    with workload.session(tmp_path, **params) as step:
        for _ in range(3):
            step()


def test_claim_complete_refills_when_drained(tmp_path: Path) -> None:
    with WORKLOADS["claim_complete"].session(tmp_path) as step:
        for _ in range(1001):
            step()
    with taskorch.open(f"sqlite:///{tmp_path}/claim_complete.db") as orch:
        assert orch.status().subtasks == {"completed": 1001, "ready": 999}


def test_built_store_has_the_documented_shape(tmp_path: Path) -> None:
    path = build_store(tmp_path / "s.db", 1000)
    with taskorch.open(f"sqlite:///{path}") as orch:
        status = orch.status()
    assert status.total == 1000
    assert status["completed"] == 800 and status["claimed"] >= 1 and status["ready"] >= 1
    assert build_store(tmp_path / "s.db", 1000) == path  # reused, not rebuilt
