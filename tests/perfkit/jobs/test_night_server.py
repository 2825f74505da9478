"""One PostgreSQL server for the whole night: whichever server the night measures against is
handed to every asv run of both commits, the report says which, and the server the night
started is stopped however the night ends."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from perfkit.harness.pg_server import NightServer
from perfkit.harness.postgres import ENV_URL
from perfkit.jobs import nightly
from perfkit.timing.trials import Runner, Side, Trial, TrialError
from tests.nightlyfakes import Fake, Repo, Trials, make_repo, verdict

URL = "postgresql://night@127.0.0.1:1/postgres"


@dataclass
class Server:
    """A stand-in server: whether the night opened and closed it."""

    opened: int = 0
    closed: int = 0

    @contextmanager
    def __call__(self) -> Iterator[NightServer]:
        self.opened += 1
        try:
            yield NightServer(URL, "a throw-away server started for the night")
        finally:
            self.closed += 1


@dataclass
class Recorder(Fake):
    envs: list[Mapping[str, str] | None] = field(default_factory=list)

    def __call__(self, command: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
        if command[1:3] == ["-m", "asv"] and command[3] == "run":
            self.envs.append(env)
        return super().__call__(command, cwd, env)


def night(repo: Repo, run: Fake, server: Server, *extra: str) -> int:
    old, _, new = repo.commits
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill",
            "--baseline", old, "--target", new, *extra]  # fmt: skip
    return nightly.main(args, run=run, weigher=Trials(), postgres=server)


def test_every_asv_run_of_both_sides_gets_the_nights_one_server(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    server, run = Server(), Recorder()
    assert night(repo, run, server) == 0
    assert server.opened == server.closed == 1
    assert len(run.envs) == 1  # the target's run (the baseline has its results)
    assert all(env is not None and env["TASKORCH_BENCH_POSTGRES_URL"] == URL for env in run.envs)
    report = verdict(repo)
    assert report["postgres"] == "a throw-away server started for the night"
    assert (
        "PostgreSQL: a throw-away server started for the night."
        in (repo.root / ".asv" / "nightly.md").read_text()
    )


def broken(baseline: str, target: str, names: Sequence[str] | None) -> list[Trial]:
    raise TrialError("no asv environment yet")


def test_the_server_is_stopped_when_the_night_cannot_go_on(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    old, _, new = repo.commits
    repo.write(old, {})
    repo.write(new, {})
    server = Server()
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-backfill",
            "--baseline", old, "--target", new]  # fmt: skip
    assert nightly.main(args, run=Fake(), weigher=broken, postgres=server) == nightly.CANNOT_RUN
    assert server.opened == server.closed == 1
    assert verdict(repo)["postgres"] == "a throw-away server started for the night"


def test_every_trial_process_gets_it_too(tmp_path: Path) -> None:
    side = Side("abc", tmp_path / "engine", tmp_path)
    env = Runner(tmp_path, Path(sys.executable), env={ENV_URL: URL}).env(side)
    assert env[ENV_URL] == URL and env["ASV_PYTHONPATH"] == str(tmp_path / "engine")


def test_a_night_with_nothing_new_needs_no_server(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    _, _, new = repo.commits
    repo.write(new, {})
    server = Server()
    args = ["--repo", str(repo.root), "--machine", "box", "--no-publish", "--no-leakcheck",
            "--baseline", new, "--target", new]  # fmt: skip
    nightly.main(args, run=Fake(), weigher=Trials(), postgres=server)
    assert server.opened == 0 and verdict(repo)["postgres"] == "not needed"
