"""The ``ceasefire`` command: parses arguments and calls the library; no logic of its own.

:func:`entry_point` is the console script (and ``python -m sim``): it puts the stop handlers in place
before anything heavy is imported, so that Ctrl-C, SIGTERM or SIGHUP in the first seconds, while the
command still imports numpy, pandas and the model, ends it as it would later: one line
``interrupted: nothing was written`` and exit code 130. Only then is :mod:`sim.cli.main` imported.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

from sim.core.exit_codes import EXIT_INTERRUPTED
from sim.core.signals import INTERRUPTED_MESSAGE, install_stop_handlers, prepare_interrupted_exit

STARTUP_GATE_ENV = "CEASEFIRE_STARTUP_GATE"
"""For tests: the path of a FIFO at which start-up waits, its stop handlers in place and nothing heavy
imported yet, until the writer that opened it closes it (see :func:`wait_at_startup_gate`)."""


def entry_point() -> None:
    """Console-script entry: exit with :func:`run`'s code.

    The garbage collector is frozen first: every file is written and closed by then, and the interpreter's exit
    would otherwise collect the whole heap (pandas, matplotlib, Mesa), a third of a second on a busy machine.
    """
    code = run()
    gc.freeze()
    sys.exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    """Install the stop handlers, then import and run the command line; returns the exit code."""
    install_stop_handlers()
    try:
        wait_at_startup_gate()
        from sim.cli.main import main

        return main(argv)
    except KeyboardInterrupt:  # a stop signal before main() could catch it (importing, building the parser)
        prepare_interrupted_exit()
        print(INTERRUPTED_MESSAGE, file=sys.stderr)
        return EXIT_INTERRUPTED


def wait_at_startup_gate() -> None:
    """When :data:`STARTUP_GATE_ENV` names a FIFO, open it and read it to its end: the test that holds its
    write end sees the command arrive (its open returns), sends a signal or releases it by closing."""
    gate = os.environ.get(STARTUP_GATE_ENV)
    if gate:
        with open(gate, "rb") as fifo:
            fifo.read()
