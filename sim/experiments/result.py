"""What an experiment hands to the outputs layer: tables, text, figure names and manifest fields.

Experiments compute; they neither write files nor draw. Each one returns its own result object, whose
``artefacts()`` lists what its output folder holds; :func:`sim.outputs.artefacts.save` writes it all or
nothing and :mod:`sim.outputs.plots` draws the named figures from the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class Artefacts:
    """The contents of one output folder.

    Attributes:
        command: the sub-command that computes it (``run``, ``sweep``, ``bet`` …): named in the manifest,
            and the figures are those of ``sim.outputs.plots.<command>``.
        tables: CSV file name -> table, written in this order.
        manifest: the experiment's own manifest fields (the common ones are added when writing).
        texts: other text files by name (e.g. ``validation.md``).
        figures: names of the figures to draw from the tables (none with ``--no-plots``).
        scenario: the resolved scenario the experiment ran, if one (its fields head the manifest).
        source: the file it came from, if any.
    """

    command: str
    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    figures: tuple[str, ...] = ()
    scenario: Any = None
    source: str | Path | None = None
