#!/usr/bin/env python3
"""The nightly's counted gate on a pull request: ``python -m perfkit pr-check``
(:mod:`perfkit.jobs.prcheck`); ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("pr-check", sys.argv[1:]))
