#!/usr/bin/env python3
"""``python -m perfkit stress crash`` (:mod:`perfkit.stress.crash`);
``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("stress", ["crash", *sys.argv[1:]]))
