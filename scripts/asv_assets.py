#!/usr/bin/env python3
"""Make a site published by ``asv publish`` render with no network (:mod:`perfkit.site`).

Usage: scripts/asv_assets.py [HTML_DIR]      (default: .asv/html; run after ``asv publish``)
Exit status: 0 done, 1 a library could not be fetched or a page still refers to the network.
"""

import sys

from perfkit.site import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
