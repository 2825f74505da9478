#!/usr/bin/env python3
"""Run :mod:`perfkit.prcheck`; ``--help`` lists the options."""

import sys

from perfkit.prcheck import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
