#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.large_graph`; ``--help`` lists the options."""

import sys

from perfkit.stress.large_graph import main

if __name__ == "__main__":
    sys.exit(main())
