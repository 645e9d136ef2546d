"""``python -m sim`` is the ``ceasefire`` command (stop handlers first, then the imports: :mod:`sim.cli`)."""

from sim.cli import entry_point

entry_point()
