"""Figures drawn from tables only, one module per experiment, so that ``ceasefire plot DIR`` can redraw any
output folder from its CSV files.

Each module ``sim.outputs.plots.<command>`` (``runs`` for ``run``) offers ``draw(folder, figures) -> list[str]``:
it reads the tables it needs from ``folder``, writes the named figures (PNG files) into it and returns their
file names. :func:`draw` finds the module of a command.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

RENAMED: dict[str, str] = {"run": "runs"}
"""Commands whose figure module is not named after them; any other command's is ``sim.outputs.plots.<command>``."""


def module_name(command: str) -> str:
    """The figure module of ``command``: ``sim.outputs.plots.<command>``, or as :data:`RENAMED` says."""
    return f"sim.outputs.plots.{RENAMED.get(command, command)}"


def draw(command: str, folder: Path, figures: Sequence[str]) -> list[str]:
    """Draw ``figures`` of ``command``'s output into ``folder`` from its tables; returns the files written."""
    module = import_module(module_name(command))
    return list(module.draw(Path(folder), tuple(figures)))
