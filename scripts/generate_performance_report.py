#!/usr/bin/env python3
"""One HTML performance report and a Markdown summary from the results that exist: ``python -m
perfkit report`` (:mod:`perfkit.commands.report_cli`); ``--help`` lists the options."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("report", sys.argv[1:]))
