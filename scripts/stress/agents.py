#!/usr/bin/env python3
"""Run :mod:`perfkit.stress.agents`; ``--help`` lists the options."""

import sys

from perfkit.stress.agents import main

if __name__ == "__main__":
    sys.exit(main())
