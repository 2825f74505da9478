#!/usr/bin/env python3
"""taskorch and its bare reference interleaved in one process: ``python -m perfkit side-by-side``
(:mod:`perfkit.commands.sidebyside`); ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("side-by-side", sys.argv[1:]))
