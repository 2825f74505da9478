#!/usr/bin/env python3
"""Print the figures of one commit's asv results (:mod:`perfkit.figures`) as a Markdown table.

Usage: scripts/asv_figures.py [COMMIT] [--machine NAME] [--repo PATH]
(defaults: main, ref-2core, the repository of the working directory)
"""

import sys

from perfkit.figures import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
