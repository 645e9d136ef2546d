"""The ``ceasefire report`` sub-command: one self-contained HTML report of run folders.

Registered by ``sim.cli.main.build_parser`` through :func:`add_report_commands`; heavy imports
(matplotlib, pandas) happen only when the command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

DEFAULT_OUT = Path("results/report.html")


def add_report_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report DIR [DIR ...] [--out FILE]`` on the ``ceasefire`` sub-command parsers."""
    report = subparsers.add_parser(
        "report", help="write one self-contained HTML report of run folders",
        description="Write one HTML file, readable offline with its figures embedded: the question each run's "
                    "scenario asks, its parameters with their provenance, P(deal) and P(holding) with 95% "
                    "intervals, survival curves, causes of breakdown, trajectories and a comparison of the runs.",
    )
    report.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="run folders written by `ceasefire run`")
    report.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help=f"HTML file to write (default: {DEFAULT_OUT})")
    report.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire report``: bad or foreign folders, or an ``--out`` that is not a new or existing regular
    ``.html`` file, become one-line input errors (exit 2)."""
    from sim.cli.common import plot_errors
    from sim.core.exit_codes import EXIT_OK
    from sim.outputs.artefacts import check_output_file
    from sim.outputs.plots.runs import PlotInputError
    from sim.outputs.report import build_report

    check_output_file(args.out, ".html")
    with plot_errors(PlotInputError):
        path = build_report(args.dirs, args.out)
    print(f"wrote {path}")
    return EXIT_OK
