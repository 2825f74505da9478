#!/usr/bin/env python3
"""Run :mod:`perfkit.calibration`: the timing verdict on identical code, its false-alarm rate and
each benchmark's threshold; ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.calibration import main

if __name__ == "__main__":
    sys.exit(main())
