"""Reading a run folder back: only one that ``ceasefire run`` wrote, with every table as it was written.

``compare`` and ``report`` read the tables of run folders; each table is checked against the SHA-256 its
folder's manifest lists (:func:`sim.outputs.ownership.verified_file`) before it is read, so a table
truncated, edited or swapped since the run is refused in one line naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.core.errors import SHOWN_CHARS, one_line
from sim.outputs.ownership import MANIFEST, read_manifest, refuse, verified_file

OPTIONAL_TABLES = frozenset({"trajectories.csv", "draws.csv"})
"""Tables a run folder may lack (a run without trajectories; a run without a posterior)."""


def verified_run_folder(folder: str | Path, tables: Sequence[str], flag: str = "DIR") -> dict[str, Any]:
    """The manifest of a run folder, after checking that ``ceasefire run`` wrote it and that each of ``tables``
    is unchanged since (those of :data:`OPTIONAL_TABLES` only when its manifest lists them).

    Raises:
        InputError: one line naming the folder and what is wrong: not a folder, no manifest of ceasefire's,
            another command's folder, a table missing, changed or damaged.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise refuse(folder, flag, "not a folder")
    document = read_manifest(folder)
    if document is None:
        raise refuse(folder, flag, f"has no {MANIFEST} of ceasefire's listing its files; give a folder "
                                   "`ceasefire run` wrote")
    command = document.get("command")
    if command != "run":
        raise refuse(folder, flag, f"was written by `ceasefire {one_line(str(command), SHOWN_CHARS)}`, "
                                   "not `ceasefire run`")
    for name in tables:
        if name not in OPTIONAL_TABLES or name in document["files"]:
            verified_file(folder, name, flag)
    return document
