#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.crash`; ``--help`` lists the options."""

import sys

from perfkit.stress.crash import main

if __name__ == "__main__":
    sys.exit(main())
