#!/usr/bin/env python3
"""Score the history's change points against annotated public performance series, beside plain
PELT: ``python -m perfkit evaluate-changepoints`` (:mod:`perfkit.verdict.changepoint_eval`).

Usage: scripts/evaluate_changepoints.py PATH [PATH ...] [--margin N]
(PATH: an unpacked apache-otava 0.8.0 sdist, or a directory written by otava-gen generate)"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("evaluate-changepoints", sys.argv[1:]))
