#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.ab`; ``--help`` lists the options."""

import sys

from perfkit.stress.ab import main

if __name__ == "__main__":
    sys.exit(main())
