"""``python -m deskcore.cli``."""

import sys

from deskcore.cli import main

sys.exit(main())
