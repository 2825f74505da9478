#!/usr/bin/env python3
"""Run :mod:`perfkit.peer`; ``--help`` lists the options."""

import sys

from perfkit.peer import main

if __name__ == "__main__":
    sys.exit(main())
