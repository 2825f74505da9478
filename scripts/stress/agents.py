#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.agents`; ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout, uninstalled

from perfkit.stress.agents import main

if __name__ == "__main__":
    sys.exit(main())
