#!/usr/bin/env python3
"""Run :mod:`perfkit.nightly`; ``--help`` lists the options."""

import sys

from perfkit.nightly import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
