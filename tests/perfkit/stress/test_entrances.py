"""The stress runs' entrances: without a server to measure on, pool-exhaustion says what to
do and exits 4; ab checks its revisions and options before any fleet runs (64)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from perfkit.kit.exits import Exit
from perfkit.stress import pool_exhaustion


def test_a_server_that_cannot_be_reached_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg")
    url = "postgresql://nobody@127.0.0.1:1/postgres"  # port 1: nothing listens there
    assert pool_exhaustion.main(["--url", url, "--tasks", "5"]) == Exit.CANNOT_RUN
    err = capsys.readouterr().err
    assert err.startswith("pool-exhaustion: cannot run: cannot reach the server at --url: ")
    assert "Traceback" not in err and err.count("\n") == 1


def test_no_server_binaries_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    monkeypatch.delenv("TASKORCH_POSTGRES_URL", raising=False)
    monkeypatch.delenv("TASKORCH_TEST_POSTGRES_URL", raising=False)

    def no_binaries(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert command[1] == "start", "only the start may run: nothing was started to stop"
        return subprocess.CompletedProcess(command, 1, "", "pg-server: initdb not found\n")

    monkeypatch.setattr(pool_exhaustion.subprocess, "run", no_binaries)
    assert pool_exhaustion.main(["--tasks", "5"]) == Exit.CANNOT_RUN
    err = capsys.readouterr().err
    assert "no PostgreSQL server to measure on: initdb not found; or name one with --url" in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["nosuchrev", "HEAD"], "before: 'nosuchrev' is no commit"),
        (["HEAD", "nosuchrev"], "after: 'nosuchrev' is no commit"),
        (["HEAD", "HEAD", "--options", "[1]"], "--options: a JSON object"),
        (["HEAD", "HEAD", "--options", "{x"], "--options: not JSON"),
    ],
)
def test_ab_checks_its_revisions_and_options_before_any_fleet_runs(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from perfkit.commands import run

    assert run("stress", ["ab", *argv, "--rounds", "1"]) == Exit.USAGE
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
