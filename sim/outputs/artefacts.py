"""The one artefact writer and the one manifest builder of every command.

:func:`save` writes an experiment's :class:`~sim.experiments.result.Artefacts` into a folder that appears
complete or not at all (:mod:`sim.outputs.atomic`): the CSV tables with one fixed formatting, any text
files, the figures drawn from those tables (:mod:`sim.outputs.plots`), then ``manifest.json``, which lists
every file with its size and SHA-256 (:mod:`sim.outputs.ownership`: the proof that the folder is ours).
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.result import Artefacts
from sim.outputs.atomic import atomic_folder, claim
from sim.outputs.ownership import (
    MANIFEST,
    OUT_FLAG,
    WRITTEN_BY,
    check_output_folder,
    first_problem,
    folder_records,
    read_manifest,
    refuse,
)

CSV_OPTIONS: dict[str, Any] = {"index": False, "lineterminator": "\n", "float_format": "%.10g"}
"""One way of writing every CSV, so that equal tables give equal bytes."""

VERSIONED_PACKAGES = ("ceasefire", "mesa", "numpy", "pandas", "matplotlib", "pydantic", "scipy", "SALib")
"""Packages whose versions shape the results, recorded in every manifest."""


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV with the project's fixed formatting."""
    table.to_csv(path, **CSV_OPTIONS)
    return path


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Write JSON, keys sorted, UTF-8, with a final newline."""
    path = Path(path)
    path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def manifest(command: str, fields: dict[str, Any] | None = None, command_line: Sequence[str] | None = None,
             scenario: Any = None, source: str | Path | None = None) -> dict[str, Any]:
    """A manifest: what a reader needs to reproduce an output, and the mark that ceasefire wrote it.

    The common fields (command, versions, commit, command line and, when a scenario is given, the resolved
    scenario, its file, seed, worlds and horizon) come first; ``fields`` adds or overrides. The list of
    files is added by :func:`write_manifest`.
    """
    document: dict[str, Any] = {
        "command": command,
        "written_by": WRITTEN_BY,
        "versions": versions(),
        "git_commit": git_commit(),
        "command_line": list(command_line) if command_line is not None else None,
    }
    if scenario is not None:
        document.update({
            "scenario": scenario.model_dump(mode="json"),
            "scenario_file": str(source) if source is not None else None,
            "seed": scenario.seed,
            "replications": scenario.replications,
            "horizon_days": scenario.horizon_days,
        })
    document.update(fields or {})
    return document


def write_manifest(folder: Path, document: dict[str, Any]) -> Path:
    """Write ``document`` as ``folder/manifest.json``, with every other file of ``folder`` listed under
    ``files`` (size and SHA-256): the last file written into a folder."""
    return write_json({**document, "files": folder_records(folder)}, folder / MANIFEST)


def save(artefacts: Artefacts, out_dir: str | Path, command_line: Sequence[str] | None = None,
         plots: bool = True, flag: str = OUT_FLAG) -> Path:
    """Write ``artefacts`` into ``out_dir``, all or nothing.

    ``out_dir`` may be new, empty, or a folder the same command wrote and nobody changed since
    (:func:`sim.outputs.ownership.check_output_folder`); it is checked before writing and again before
    the swap.

    Raises:
        InputError: ``out_dir`` holds something ceasefire did not write, or is in use by another command.
        OSError: the disk is full or read-only; the previous folder is then left as it was.
    """
    out_dir = Path(out_dir)
    with claim(out_dir, flag):
        check_output_folder(out_dir, artefacts.command, flag)
        with atomic_folder(out_dir, artefacts.command, flag) as tmp:
            for name, table in artefacts.tables.items():
                write_csv(table, tmp / name)
            for name, text in artefacts.texts.items():
                (tmp / name).write_text(text, encoding="utf-8")
            drawn: list[str] = []
            if plots and artefacts.figures:
                from sim.outputs.plots import draw

                drawn = draw(artefacts.command, tmp, artefacts.figures)
            fields = {**artefacts.manifest, "figures": drawn, "drawable": list(artefacts.figures)}
            write_manifest(tmp, manifest(artefacts.command, fields, command_line, artefacts.scenario,
                                         artefacts.source))
    return out_dir


def redraw(folder: str | Path, figures: Sequence[str] | None = None, flag: str = "DIR") -> list[str]:
    """Draw again the figures of an output folder from its tables, all or nothing; returns their names.

    ``folder`` must be ours and unchanged (:func:`sim.outputs.ownership.first_problem`); its tables are
    copied after their SHA-256 is checked, the figures (``figures``, default: those its manifest lists)
    are drawn into the copy and the manifest updated, and the copy swapped in. Nothing is ever written
    through a symbolic link.

    Raises:
        InputError: the folder is not one ceasefire wrote, was changed, or has no figures to draw.
    """
    folder = Path(folder)
    with claim(folder, flag):
        if folder.is_symlink() or not folder.is_dir():
            raise refuse(folder, flag, "is not a folder written by ceasefire")
        document = read_manifest(folder)
        if document is None:
            raise refuse(folder, flag, first_problem(folder, None) or f"has no {MANIFEST} of ceasefire's")
        command = str(document.get("command"))
        wanted = tuple(figures if figures is not None
                       else document.get("figures") or document.get("drawable") or ())
        if not wanted:
            raise refuse(folder, flag, f"`ceasefire {command}` output with no figures to draw")
        problem = first_problem(folder, None, missing_ok=wanted)  # a deleted figure is redrawn
        if problem is not None:
            raise refuse(folder, flag, problem)
        with atomic_folder(folder, command, flag) as tmp:
            for name in document["files"]:
                if name not in wanted:
                    shutil.copyfile(folder / name, tmp / name, follow_symlinks=False)
            if folder_records(tmp) != {n: r for n, r in document["files"].items() if n not in wanted}:
                raise refuse(folder, flag, "changed while being read; nothing was redrawn")
            from sim.outputs.plots import draw

            drawn = draw(command, tmp, wanted)
            write_manifest(tmp, {**{k: v for k, v in document.items() if k != "files"}, "figures": drawn})
    return drawn


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the results."""
    found = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def git_commit() -> str | None:
    """The commit of the source tree this package runs from, when it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                           capture_output=True, text=True, timeout=5).stdout.strip()
    return done.stdout.strip() + ("-dirty" if dirty else "")
