#!/usr/bin/env python3
"""The nightly regression job: ``python -m perfkit nightly`` (:mod:`perfkit.jobs.nightly`);
``--help`` lists the options and the exit statuses."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("nightly", sys.argv[1:]))
