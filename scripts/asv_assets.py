#!/usr/bin/env python3
"""Make a site published by ``asv publish`` render with no network: ``python -m perfkit assets``
(:mod:`perfkit.reports.site`).

Usage: scripts/asv_assets.py [HTML_DIR]      (default: .asv/html; run after ``asv publish``)"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("assets", sys.argv[1:]))
