#!/usr/bin/env python3
"""Print the figures of one commit's asv results as a Markdown table: ``python -m perfkit
figures`` (:mod:`perfkit.reports.figures`).

Usage: scripts/asv_figures.py [COMMIT] [--machine NAME] [--repo PATH]
(defaults: main; $TASKORCH_ASV_MACHINE, else this host when it has results, else the machine
with the most results; the working repository)"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("figures", sys.argv[1:]))
