#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.multiprocess`; ``--help`` lists the options."""

import sys

from perfkit.stress.multiprocess import main

if __name__ == "__main__":
    sys.exit(main())
