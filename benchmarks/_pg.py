"""What the PostgreSQL benchmarks share: one server for the whole run, and a base class.

The server is found once per run by a ``setup_cache`` that every PostgreSQL benchmark shares (asv
runs it once, before the first of them): ``$TASKORCH_BENCH_POSTGRES_URL``, else
``$TASKORCH_TEST_POSTGRES_URL``, else a throw-away server started with ``scripts/pg-server``
when its binaries are installed; ``TASKORCH_BENCH_POSTGRES=no`` turns them off. Each benchmark
process works in schemas of its own, named after the run. When asv deletes the ``setup_cache``
folder after the last of them (or the run ends), a watchdog stops the throw-away server, or drops
the run's schemas from the named one (:mod:`perfkit.harness.pg_server`).

Without a server, without psycopg, or at a commit whose engine has no PostgreSQL backend, every
PostgreSQL benchmark is skipped: ``setup`` raises ``NotImplementedError`` with the reason.
"""

from __future__ import annotations

import atexit
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ._support import Step, WorkloadBenchmark, perfkit_module, quick_run, workloads

# Under --quick (nothing saved) the read benchmarks use a store of this many tasks, which takes
# a fraction of a second to build instead of seconds.
QUICK_STORE = 1000

_sessions: dict[tuple[str, tuple[tuple[str, Any], ...]], Step] = {}
# Closed when the benchmark process exits, while imports still work: a session drops its schemas
# and stops its worker processes. (The run's watchdog drops whatever a killed process left.)
_open = ExitStack()
atexit.register(_open.close)


def session(name: str, **params: Any) -> Step:
    """The step of ``perfkit.workloads.pg_workloads`` workload ``name``, opened once per process."""
    key = (name, tuple(sorted(params.items())))
    if key not in _sessions:
        workload = perfkit_module("workloads.pg_workloads").WORKLOADS[name]
        directory = Path.cwd()  # unused: the PostgreSQL workloads write no files
        _sessions[key] = _open.enter_context(workload.session(directory, **params))
    return _sessions[key]


def server_for_run() -> dict[str, str]:
    """``{"url", "prefix"}`` of the run's server, or ``{"skip": reason}``; with
    ``TASKORCH_BENCH_POSTGRES=yes`` (what CI sets) a missing server or driver raises
    :class:`RuntimeError` instead, failing the PostgreSQL benchmarks."""
    try:
        workloads()
        import taskorch.store.postgres  # noqa: F401
    except (ImportError, NotImplementedError) as exc:
        return {"skip": f"this engine has no PostgreSQL backend ({exc})"}
    postgres = perfkit_module("harness.postgres")
    if postgres.switched_off():
        return {"skip": f"PostgreSQL benchmarks turned off ({postgres.ENV_SWITCH}=no)"}
    url = postgres.server_url()
    pg_server = perfkit_module("harness.pg_server")
    problem = postgres.driver_problem()
    if problem is None and url is None and (missing := pg_server.binaries_problem()):
        problem = (f"no PostgreSQL server: set {postgres.ENV_URL}, or install the server"
                   f" binaries ({missing})")  # fmt: skip
    if problem:
        if postgres.required():
            raise RuntimeError(f"{problem} ({postgres.ENV_SWITCH}=yes)")
        return {"skip": problem}
    prefix = postgres.run_prefix()
    # asv runs setup_cache in the folder it deletes after the last benchmark that uses it; the
    # process that runs the benchmarks is this one's parent.
    server = pg_server.start_watched(Path.cwd(), os.getppid(), url, prefix)
    return {"url": server.url, "prefix": prefix}


class PgBenchmark(WorkloadBenchmark):
    """Times the step of a workload of ``perfkit.workloads.pg_workloads`` on the run's server."""

    timeout = 180  # the first read benchmark of a run builds the store of 10,000 tasks
    kind = ""  # "store": reads a store of n tasks shared by the run (smaller under --quick)

    def setup_cache(self) -> dict[str, str]:
        return server_for_run()

    def setup(self, server: dict[str, str], *params: Any) -> None:
        if "skip" in server:
            raise NotImplementedError(server["skip"])
        given = dict(self.workload_params(params))
        if self.kind == "store" and quick_run():
            given["n"] = min(given["n"], QUICK_STORE)
        self.step = session(self.workload, url=server["url"], prefix=server["prefix"], **given)

    def teardown(self, *args: Any) -> None:
        pass


class PgRounds(PgBenchmark):
    """A workload whose step takes tens to hundreds of milliseconds: fewer samples."""

    repeat = (10, 40, 3.0)
