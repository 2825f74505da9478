#!/usr/bin/env python3
"""Agents at work under a resource monitor, e.g. ``--duration 300``: ``python -m perfkit
monitor`` (:mod:`perfkit.commands.monitor_cli`); ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("monitor", sys.argv[1:]))
