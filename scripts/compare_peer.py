#!/usr/bin/env python3
"""The same workloads on mcp-task-orchestrator: ``python -m perfkit peer``
(:mod:`perfkit.commands.peer`); ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("peer", sys.argv[1:]))
