#!/usr/bin/env python3
"""Run :mod:`perfkit.sidebyside`: taskorch and bare sqlite3 interleaved in one process;
``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.sidebyside import main

if __name__ == "__main__":
    sys.exit(main())
