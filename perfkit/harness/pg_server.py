"""A PostgreSQL server for one benchmark run, and the watchdog that cleans up after the run.

Starting a server costs seconds, so a run starts at most one (``scripts/pg-server``), where asv
runs a shared ``setup_cache`` once for every PostgreSQL benchmark. asv ends its benchmark processes
without running their exit handlers, and deletes the ``setup_cache`` folder once the last
benchmark that uses it has run (or when it is interrupted). So a small detached process, the
watchdog, waits for that folder to disappear, or for the process that runs the benchmarks to end,
and then stops the throw-away server (and deletes it), or, on a server the user named, drops the
run's schemas: a run leaves nothing behind, whoever ends it.

A whole night (:func:`for_the_night`) uses one server for everything it measures, so that both
commits of a comparison meet the same server: the one the environment names, else a throw-away
server started before the night's first measurement and stopped after its last (also when the
night fails or is interrupted; its watchdog stops it if the night is killed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "SCRIPT",
    "NightServer",
    "WatchedServer",
    "binaries_problem",
    "for_the_night",
    "shown",
    "start_watched",
    "watch",
]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pg-server"
POLL = 0.5  # seconds between the watchdog's looks
LIFETIME = 24 * 3600.0  # a watchdog never outlives this, whatever it waits for


def binaries_problem() -> str | None:
    """Why no throw-away server can be started here (None: it can)."""
    if not SCRIPT.is_file():
        return f"{SCRIPT} is missing"
    found = subprocess.run([str(SCRIPT), "find"], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        return (found.stderr.strip() or "no PostgreSQL server binaries").removeprefix("pg-server: ")
    return None


@dataclass(frozen=True, slots=True)
class WatchedServer:
    """What :func:`start_watched` started: the URL, and the folder of the server (None when
    the server was the user's)."""

    url: str
    folder: Path | None


def start_watched(marker: Path, owner: int, url: str | None, prefix: str) -> WatchedServer:
    """A server for the run that lasts as long as the folder ``marker`` and the process
    ``owner``: the given ``url`` (the watchdog then drops the schemas named ``prefix...``), or a
    throw-away server started now (the watchdog stops and deletes it). Raises
    :class:`RuntimeError` when the server does not start."""
    folder: Path | None = None
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="taskorch-bench-pg-"))
        os.chmod(folder, 0o755)  # as root, the server runs as an unprivileged user
        started = subprocess.run([str(SCRIPT), "start", str(folder / "server")],
                                 capture_output=True, text=True, check=False)  # fmt: skip
        if started.returncode != 0:
            subprocess.run([str(SCRIPT), "stop", str(folder / "server")],
                           capture_output=True, check=False)  # fmt: skip
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"scripts/pg-server could not start a server: {started.stderr}")
        url = started.stdout.strip()
    argv = [sys.executable, "-c", _LAUNCH, _WATCHDOG, str(ROOT), str(marker), str(owner), url,
            prefix, str(folder or "")]  # fmt: skip
    # Detached (started by a launcher that exits at once), with no inherited pipe: asv reads its
    # child's output until every writer is gone.
    subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)  # fmt: skip
    return WatchedServer(url, folder)


_LAUNCH = """
import subprocess, sys
subprocess.Popen([sys.executable, "-c", *sys.argv[1:]], stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
"""
# The watchdog imports this module from the working tree it came from, not from an installed
# perfkit of another commit.
_WATCHDOG = """
import sys
sys.path.insert(0, sys.argv[1])
from perfkit.harness.pg_server import watch
watch(*sys.argv[2:])
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(marker: str, owner: str, url: str, prefix: str, folder: str) -> None:
    """The watchdog's loop: once ``marker`` is gone or ``owner`` has ended, clean up."""
    ends = time.monotonic() + LIFETIME
    while Path(marker).exists() and _alive(int(owner)) and time.monotonic() < ends:
        time.sleep(POLL)
    if folder:
        subprocess.run([str(SCRIPT), "stop", f"{folder}/server"], capture_output=True,
                       check=False)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
        return
    from .postgres import drop_schemas

    try:
        drop_schemas(url, prefix)
    except Exception as exc:  # the server may be gone; nothing else is left to do
        print(f"pg_server watchdog: could not drop {prefix}*: {exc}", file=sys.stderr)


@dataclass(frozen=True, slots=True)
class NightServer:
    """The server a night measures against: ``url`` (None: none, the PostgreSQL benchmarks skip
    with their reason) and what the night's report says of it, ``said``."""

    url: str | None
    said: str


def shown(url: str) -> str:
    """``url`` as a report may print it: without a password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


@contextmanager
def for_the_night() -> Iterator[NightServer]:
    """One server for a whole night, in :mod:`perfkit.harness.postgres`'s order: the server the
    environment names; none when PostgreSQL is switched off or no server can be started; else a
    throw-away server, stopped and deleted when the night is done (whatever ends it)."""
    from .postgres import ENV_SWITCH, ENV_TEST_URL, ENV_URL, run_prefix, server_url, switched_off

    if switched_off():
        yield NightServer(None, f"none: turned off ({ENV_SWITCH}=no)")
        return
    named = server_url()
    if named is not None:
        which = ENV_URL if os.environ.get(ENV_URL) else ENV_TEST_URL
        yield NightServer(named, f"the server ${which} names ({shown(named)}), for both sides")
        return
    problem = binaries_problem()
    if problem is not None:
        yield NightServer(None, f"none: no server named ({ENV_URL}) and none can be started"
                                f" ({problem})")  # fmt: skip
        return
    marker = Path(tempfile.mkdtemp(prefix="taskorch-night-pg-"))
    try:
        server = start_watched(marker, os.getpid(), None, run_prefix())
    except RuntimeError as exc:
        shutil.rmtree(marker, ignore_errors=True)
        yield NightServer(None, f"none: {exc}".strip())
        return
    try:
        yield NightServer(server.url, f"a throw-away server started for the night"
                                      f" ({server.url}), for both sides")  # fmt: skip
    finally:
        if server.folder is not None:
            subprocess.run([str(SCRIPT), "stop", str(server.folder / "server")],
                           capture_output=True, check=False)  # fmt: skip
            shutil.rmtree(server.folder, ignore_errors=True)
        shutil.rmtree(marker, ignore_errors=True)
