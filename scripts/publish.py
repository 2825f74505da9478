#!/usr/bin/env python3
"""Publish the benchmark history site in one step: ``python -m perfkit publish``
(:func:`perfkit.reports.site.publish`): ``asv publish``, the regressions page rewritten from the
history's change points, the libraries vendored.

Usage: scripts/publish.py [--repo PATH] [-o HTML_DIR]   (default: html_dir of asv.conf.json)"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from perfkit.commands import run

if __name__ == "__main__":
    sys.exit(run("publish", sys.argv[1:]))
