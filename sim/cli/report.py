"""The ``ceasefire report`` sub-command: one self-contained HTML report of run folders.

Registered by ``sim.cli.main.build_parser`` through :func:`add_report_commands`; heavy imports
(matplotlib, pandas) happen only when the command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from sim.cli.common import add_command
from sim.cli.file_out import add_file_out, check_file_out

DEFAULT_OUT = Path("results/report.html")


def add_report_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report DIR [DIR ...] [--out FILE] [--force]`` on the ``ceasefire`` sub-command parsers."""
    report = add_command(
        subparsers, "report", cmd_report, help="write one self-contained HTML report of run folders",
        description="Write one HTML file, readable offline with its figures embedded: the question each run's "
                    "scenario asks, its parameters with their provenance, P(deal) and P(holding) with 95% "
                    "intervals, survival curves, causes of breakdown, trajectories and a comparison of the runs.",
    )
    report.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="run folders written by `ceasefire run`")
    add_file_out(report, DEFAULT_OUT, "HTML file")


def cmd_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire report``: an ``--out`` that is not a new ``.html`` file or one ceasefire wrote, and bad,
    foreign or changed folders, become one-line input errors (exit 2) before anything is drawn."""
    from sim.cli.common import plot_errors
    from sim.core.exit_codes import EXIT_OK
    from sim.outputs.atomic import claim
    from sim.outputs.plots.runs import PlotInputError
    from sim.outputs.report import build_report

    out = check_file_out(args, ".html")
    with claim(out), plot_errors(PlotInputError):
        path = build_report(args.dirs, out)
    print(f"wrote {path}")
    return EXIT_OK
