"""``--out FILE`` and ``--force`` of the commands that write one file (``compare``, ``report``).

An existing file is replaced only when ceasefire wrote it (its mark checks out,
:func:`sim.outputs.ownership.is_marked`), or with ``--force``; this is checked before any work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import add_options
from sim.outputs.ownership import check_output_file


def add_file_out(parser: argparse.ArgumentParser, default: Path, what: str) -> None:
    """Add ``--out FILE`` (``what`` to write, by default ``default``) and ``--force`` to ``parser``."""
    add_options(parser, out={"default": default, "metavar": "FILE", "help": f"{what} to write (default: {default})"})
    parser.add_argument("--force", action="store_true",
                        help="replace --out FILE even if ceasefire did not write it (without --force, such a file "
                             "is kept and the command refused; a file ceasefire wrote is always replaced)")


def check_file_out(args: argparse.Namespace, suffix: str) -> Path:
    """``args.out`` checked before any work: a new file, or one ceasefire wrote, or ``--force``.

    Raises:
        InputError: one line naming the file and what to do.
    """
    return check_output_file(args.out, suffix, force=args.force)
