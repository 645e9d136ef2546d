"""``ceasefire plot DIR``: draw again the figures of any output folder from its tables."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command
from sim.core.exit_codes import EXIT_OK


def add_plot_command(commands: Any) -> None:
    """Register ``plot DIR``."""
    plot = add_command(commands, "plot", cmd_plot,
                       help="redraw the plots of a run, sweep or tornado folder from its CSV files",
                       description="Draw again the figures of a folder a ceasefire command wrote, from its tables "
                                   "(each checked against its manifest first); a run written with --no-plots gets "
                                   "its figures.")
    plot.add_argument("dir", type=Path, metavar="DIR")


def cmd_plot(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire plot``: :func:`sim.outputs.artefacts.redraw`, for a folder of any command."""
    from sim.cli.common import plot_errors
    from sim.outputs.artefacts import redraw
    from sim.outputs.plots.runs import PlotInputError

    with plot_errors(PlotInputError):
        drawn = redraw(args.dir, figures=run_figures_never_drawn(args.dir), flag="DIR")
    print("wrote " + ", ".join(str(args.dir / name) for name in drawn))
    return EXIT_OK


def run_figures_never_drawn(folder: Path) -> tuple[str, ...] | None:
    """The figures of a run folder written with ``--no-plots`` (those its tables allow); None for any other
    folder, whose figures are those its manifest lists."""
    from sim.outputs.ownership import read_manifest
    from sim.outputs.plots.runs import possible_figures

    document = read_manifest(Path(folder)) if Path(folder).is_dir() else None
    if document is None or document.get("command") != "run" or document.get("figures"):
        return None
    return possible_figures(document["files"])
