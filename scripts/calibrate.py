#!/usr/bin/env python3
"""The timing verdict on identical code, its false-alarm rate and each benchmark's threshold:
``python -m perfkit calibrate`` (:mod:`perfkit.timing.calibration`); ``--help`` lists the
options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("calibrate", sys.argv[1:]))
