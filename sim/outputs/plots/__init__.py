"""Figures drawn from tables only, one module per experiment, so that ``ceasefire plot DIR`` can redraw any
output folder from its CSV files.

Each module ``sim.outputs.plots.<name>`` offers ``draw(folder, figures) -> list[str]``: it reads the tables
it needs from ``folder``, writes the named figures (PNG files) into it and returns their file names.
:func:`draw` finds the module of a command.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from pathlib import Path

MODULES: dict[str, str] = {
    "run": "runs", "sweep": "sweep", "bet": "bet", "ensemble": "ensemble", "screen": "screen",
    "tornado": "tornado", "calibrate": "calibrate", "validation": "validation", "decide": "decide",
}
"""The figure module of each command that draws figures."""


def draw(command: str, folder: Path, figures: Sequence[str]) -> list[str]:
    """Draw ``figures`` of ``command``'s output into ``folder`` from its tables; returns the files written."""
    module = import_module(f"sim.outputs.plots.{MODULES[command]}")
    return list(module.draw(Path(folder), tuple(figures)))
