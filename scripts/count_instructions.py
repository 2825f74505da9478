#!/usr/bin/env python3
"""Run :mod:`perfkit.count_cli`: instructions per operation under callgrind; ``--help`` lists
the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.count_cli import main

if __name__ == "__main__":
    sys.exit(main())
