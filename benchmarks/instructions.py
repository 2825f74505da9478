"""Instructions per operation, counted under valgrind: the deterministic signal the nightly gate
fails on (a count moves only when the code it runs changes; the machine's load does not matter).

All operations are counted once per commit, in one valgrind process (``setup_cache``), by
``perfkit.instructions`` from the working tree against the engine installed for the commit.
Without valgrind every case is skipped, saying how to install it.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from ._support import workloads

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


def _quick() -> bool:
    """Whether this is ``asv run --quick``: asv 0.6.6 hands setup_cache its extra parameters as
    the last argument, and --quick sets these four. A quick run saves no results, so it only
    checks that every operation runs (natively, in seconds) instead of counting (a minute)."""
    try:
        extra = json.loads(sys.argv[-1])
    except ValueError:
        return False
    quick = {"number": 1, "repeat": 1, "warmup_time": 0, "rounds": 1}
    return isinstance(extra, dict) and all(extra.get(k) == v for k, v in quick.items())


def _counting() -> Any:
    workloads()  # the engine of the commit first, then perfkit from the working tree
    return importlib.import_module("perfkit.instructions")


class Instructions:
    """Instructions per call of each core operation (callgrind, fixed hash seed, two loops of
    different lengths differenced)."""

    param_names = ["operation"]
    params = [OPERATIONS]
    unit = "instructions"
    version = "1"
    timeout = 900

    def setup_cache(self) -> dict[str, Any]:
        try:
            counting = _counting()
        except NotImplementedError as exc:
            return {"error": str(exc)}
        quick = _quick()
        if counting.valgrind() is None and not quick:
            return {"error": counting.INSTALL_HINT}
        counts = counting.count(OPERATIONS, keep_functions=0, quick=quick)
        return {name: c.instructions if c.instructions is not None else c.skipped
                for name, c in counts.items()}  # fmt: skip

    def setup(self, counts: dict[str, Any], operation: str) -> None:
        if "error" in counts:
            raise NotImplementedError(counts["error"])
        if not isinstance(counts.get(operation), float):
            raise NotImplementedError(counts.get(operation) or f"{operation} was not counted")

    def track_instructions(self, counts: dict[str, Any], operation: str) -> float:
        return float(counts[operation])
