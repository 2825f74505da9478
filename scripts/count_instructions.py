#!/usr/bin/env python3
"""Instructions per operation under callgrind: ``python -m perfkit count``
(:mod:`perfkit.commands.count_cli`); ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("count", sys.argv[1:]))
