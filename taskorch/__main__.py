import sys

from taskorch.cli import main

sys.exit(main())
