"""``ceasefire compare``: the survival curves of several run folders, overlaid in one PNG."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command
from sim.cli.file_out import add_file_out, check_file_out
from sim.core.exit_codes import EXIT_OK

DEFAULT_OUT = Path("results/compare.png")
COMPARED_TABLES = ("survival.csv", "summary.csv")
"""What ``compare`` reads of each run folder."""


def add_compare_command(commands: Any) -> None:
    """Register ``compare DIR [DIR ...] [--out FILE] [--force] [--given-deal]``."""
    compare = add_command(commands, "compare", cmd_compare, help="overlay the survival curves of several runs",
                          description="Overlay survival curves, with 95% bands, of run folders.")
    compare.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="run folders written by `ceasefire run`")
    add_file_out(compare, DEFAULT_OUT, "PNG file")
    compare.add_argument("--given-deal", action="store_true", help="plot P(holding | a deal was reached)")


def cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire compare``: the output file and every table read are checked before drawing."""
    from sim.cli.common import plot_errors
    from sim.outputs.atomic import claim
    from sim.outputs.plots.runs import PlotInputError, compare_dirs
    from sim.outputs.run_folder import verified_run_folder

    out = check_file_out(args, ".png")
    for folder in args.dirs:
        verified_run_folder(folder, COMPARED_TABLES)
    with claim(out), plot_errors(PlotInputError):
        compare_dirs(args.dirs, out, given_deal=args.given_deal)
    print(f"wrote {out}")
    return EXIT_OK
