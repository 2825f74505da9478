#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.pool_exhaustion`; ``--help`` lists the options."""

import sys

from perfkit.stress.pool_exhaustion import main

if __name__ == "__main__":
    sys.exit(main())
