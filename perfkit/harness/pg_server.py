"""A PostgreSQL server for one benchmark run, and the watchdog that cleans up after the run.

Starting a server costs seconds, so a run starts at most one (``scripts/pg-server``), where asv
runs a shared ``setup_cache`` once for every PostgreSQL benchmark. asv ends its benchmark processes
without running their exit handlers, and deletes the ``setup_cache`` folder once the last
benchmark that uses it has run (or when it is interrupted). So a small detached process, the
watchdog, waits for that folder to disappear, or for the process that runs the benchmarks to end,
and then stops the throw-away server (and deletes it), or, on a server the user named, drops the
run's schemas: a run leaves nothing behind, whoever ends it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SCRIPT", "WatchedServer", "binaries_problem", "start_watched", "watch"]

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
