"""``python -m scanners``: see ``scanners.cli``."""

import sys

from scanners.cli import main

sys.exit(main())
