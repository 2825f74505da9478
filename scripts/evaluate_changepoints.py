#!/usr/bin/env python3
"""Score the history's change points against annotated public performance series
(:mod:`perfkit.changepoint_eval`), beside plain PELT.

Usage: scripts/evaluate_changepoints.py PATH [PATH ...] [--margin N]
(PATH: an unpacked apache-otava 0.8.0 sdist, or a directory written by otava-gen generate)
"""

import sys

from perfkit.changepoint_eval import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
