"""``python -m sim`` is the ``ceasefire`` command."""

import sys

from sim.cli.main import main

sys.exit(main())
