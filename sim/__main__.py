"""``python -m sim`` is the ``ceasefire`` command."""

import sys

from sim.cli import main

sys.exit(main())
