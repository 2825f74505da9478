#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.compare`; ``--help`` lists the options."""

import sys

from perfkit.stress.compare import main

if __name__ == "__main__":
    sys.exit(main())
