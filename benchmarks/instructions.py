"""Instructions per operation, counted under valgrind: the deterministic signal the nightly gate
fails on (a count moves only when the code it runs changes; the machine's load does not matter).

All operations are counted once per commit, in one valgrind process (by the first benchmark
process, kept in asv's setup_cache folder for the others), by
``perfkit.counts.instructions`` from the working tree against the engine installed for the commit.
Without valgrind every case is skipped, saying how to install it.
"""

from __future__ import annotations

import fcntl
import importlib
import json
import os
from pathlib import Path
from typing import Any

from ._support import quick_run, workloads

# Fixed here, not read from perfkit: params must not depend on what a commit has.
OPERATIONS = [
    "plan_1",
    "plan_10",
    "plan_1000",
    "plan_graph_10000",
    "claim",
    "complete",
    "context_cached",
    "context_uncached",
    "get",
    "status",
    "ready_query",
    "publish",
    "encode",
    "decode",
]


def _counting() -> Any:
    workloads()  # the engine of the commit first, then perfkit from the working tree
    return importlib.import_module("perfkit.counts.instructions")


def _counts(folder: Path) -> dict[str, Any]:
    """Every operation's count, taken by the first benchmark process that asks and kept in
    ``folder`` (asv's setup_cache folder, shared by the processes of every parameter and round)."""
    with open(folder / "counts.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = folder / "counts.json"
        if kept.exists():
            found: dict[str, Any] = json.loads(kept.read_text())
            return found
        counting = _counting()
        quick = quick_run()
        if counting.valgrind() is None and not quick:
            found = {"error": counting.INSTALL_HINT}
        else:
            counts = counting.count(OPERATIONS, keep_functions=0, quick=quick)
            found = {name: c.instructions if c.instructions is not None else c.skipped
                     for name, c in counts.items()}  # fmt: skip
        kept.write_text(json.dumps(found))
        return found


class Instructions:
    """Instructions per call of each core operation (callgrind, fixed hash seed, two loops of
    different lengths differenced)."""

    param_names = ["operation"]
    params = [OPERATIONS]
    unit = "instructions"
    version = "1"
    timeout = 900

    def setup_cache(self) -> str:
        # Counting waits for the first benchmark process, which knows whether the run is quick.
        return os.getcwd()

    def setup(self, folder: str, operation: str) -> None:
        counts = _counts(Path(folder))
        if "error" in counts:
            raise NotImplementedError(counts["error"])
        value = counts.get(operation)
        if not isinstance(value, float):
            raise NotImplementedError(value or f"{operation} was not counted")
        self.value = value

    def track_instructions(self, folder: str, operation: str) -> float:
        return self.value
