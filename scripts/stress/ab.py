#!/usr/bin/env python3
"""``python -m perfkit stress ab`` (:mod:`perfkit.stress.ab`);
``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("stress", ["ab", *sys.argv[1:]]))
