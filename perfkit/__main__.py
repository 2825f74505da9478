"""``python -m perfkit COMMAND [OPTIONS]``: every perfkit command (``--help`` lists them)."""

import sys

from perfkit.commands import main

sys.exit(main())
