"""The ``ceasefire`` command: argument parsing, messages and exit codes over the library API.

Exit codes (:mod:`sim.core.exit_codes`): 0 success, 2 bad input (one line ``error: FILE: FIELD: what to fix``),
1 an environment failure (one line, e.g. a full disk) or unexpected failure, 130 interrupted (Ctrl-C,
SIGTERM, SIGHUP). Output folders are replaced only when empty or written by ``ceasefire``
(:func:`sim.outputs.ownership.check_output_folder`), and this is checked before any simulation.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.cli.app import add_app_commands
from sim.cli.bet import add_bet_commands
from sim.cli.calibrate import add_calibrate_commands
from sim.cli.compare import add_compare_command
from sim.cli.decide import add_decide_commands
from sim.cli.ensemble import add_ensemble_commands
from sim.cli.plot import add_plot_command
from sim.cli.report import add_report_commands
from sim.cli.run import add_run_command
from sim.cli.scenarios import add_scenario_commands
from sim.cli.screen import add_screen_commands
from sim.cli.structures import add_structure_commands
from sim.cli.sweep import add_sweep_commands
from sim.cli.tornado import add_tornado_commands
from sim.cli.validation import add_validation_commands
from sim.core.bundled import resolve_scenario, resolve_sweep
from sim.core.errors import InputError
from sim.core.exit_codes import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK  # also importable from here
from sim.core.signals import INTERRUPTED_MESSAGE, prepare_interrupted_exit
from sim.engine.compiled import check_switch

WRITE_ERRNOS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS", "EFBIG", "EACCES", "EPERM",
                                                           "EIO") if hasattr(errno, name))
"""Errors that mean results could not be written: reported as ``cannot write (...)``."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage message
        return EXIT_OK if exc.code in (0, None) else EXIT_BAD_INPUT
    try:
        check_switch()
        resolve_bundled_names(args)
        return args.handler(args, argv)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:  # a stop signal (sim.core.signals); a sweep's says what it kept
        prepare_interrupted_exit()
        print(f"interrupted: {exc}" if str(exc) else INTERRUPTED_MESSAGE, file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `ceasefire scenarios | head`: the reader has gone, nothing to report
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_OK
    except MemoryError:
        print("error: out of memory; lower --replications or --horizon", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"error: {environment_message(exc, getattr(args, 'out', None))}", file=sys.stderr)
        return EXIT_FAILURE


def resolve_bundled_names(args: argparse.Namespace) -> None:
    """Replace a bundled name given as the SCENARIO of ``run`` and ``tornado``, or the FILE of ``sweep``
    (a sweep; a scenario with ``--param``), by its file, so that messages and manifests name the file.
    ``validate`` takes names too, through :func:`sim.spec.scenario.load_scenario`."""
    if args.command in ("run", "tornado"):
        args.scenario = resolve_scenario(args.scenario)
    elif args.command == "sweep":
        args.file = resolve_scenario(args.file) if args.param else resolve_sweep(args.file)


def environment_message(exc: OSError, out: Path | None) -> str:
    """One line for a failure of the machine rather than of the input: a full disk, a read-only folder."""
    path = exc.filename if exc.filename is not None else (out if out is not None else "output")
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in WRITE_ERRNOS:
        return f"{path}: cannot write ({reason}); the previous results, if any, are unchanged"
    return f"{path}: {reason}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="ceasefire",
        description="Would a ceasefire in Ukraine, guaranteed by European troops and monitored by the US, hold?",
        epilog="Exit codes: 0 success, 1 environment (disk full, unwritable) or unexpected failure, 2 bad input, "
               "130 interrupted. An existing output folder is replaced only if it is empty or was written by "
               "ceasefire.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_run_command(commands)
    add_compare_command(commands)
    add_plot_command(commands)
    add_scenario_commands(commands)
    add_validation_commands(commands)
    add_structure_commands(commands)
    add_tornado_commands(commands)
    add_report_commands(commands)
    add_sweep_commands(commands)
    add_bet_commands(commands)
    add_ensemble_commands(commands)
    add_app_commands(commands)
    add_calibrate_commands(commands)
    add_screen_commands(commands)
    add_decide_commands(commands)
    return parser


