"""Writing results: CSV tables and a manifest, into a folder that appears complete or not at all.

Everything is written into a hidden temporary folder beside the destination, which is renamed
into place only when every file is written. A failed or interrupted run leaves the previous
results (if any) untouched and no folder that looks complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError

CSV_OPTIONS: dict[str, Any] = {"index": False, "lineterminator": "\n", "float_format": "%.10g"}
"""One way of writing every CSV, so that equal tables give equal bytes."""


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV with the project's fixed formatting."""
    table.to_csv(path, **CSV_OPTIONS)
    return path


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Write JSON, keys sorted, UTF-8."""
    path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def check_writable(out_dir: Path, kind: str = "folder") -> None:
    """Fail early, before any work, if results cannot be written beside ``out_dir``.

    Args:
        out_dir: the output folder, or the output file when ``kind`` is ``"file"``.

    Raises:
        InputError: naming the folder and the reason.
    """
    out_dir = Path(out_dir)
    if kind == "folder" and out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: --out: exists and is not a folder")
    if kind == "file" and out_dir.is_dir():
        raise InputError(f"{out_dir}: --out: is a folder; give a file name")
    parent = out_dir.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise InputError(f"{out_dir}: --out: cannot write here ({exc.strerror or exc})") from None


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on failure it is removed."""
    path = Path(path)
    check_writable(path, kind="file")
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.partial-", suffix=path.suffix, dir=path.parent)
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_folder(out_dir: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out_dir``, on failure it is removed.

    Example:
        with atomic_folder(Path("results/baseline")) as tmp:
            write_csv(table, tmp / "runs.csv")
    """
    out_dir = Path(out_dir)
    check_writable(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def manifest_base(
    scenario: Any, command_line: Sequence[str] | None, source: str | Path | None
) -> dict[str, Any]:
    """The fields every manifest starts with: the resolved scenario and where it came from, its seed,
    the versions and commit that produced the results, and the command line."""
    return {
        "scenario": scenario.model_dump(mode="json"),
        "scenario_file": str(source) if source is not None else None,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "horizon_days": scenario.horizon_days,
        "versions": versions(),
        "git_commit": git_commit(),
        "command_line": list(command_line) if command_line is not None else None,
    }


def versions() -> dict[str, str]:
    """Versions of Python and of the packages that shape the results."""
    found = {"python": platform.python_version()}
    for package in ("ceasefire", "mesa", "numpy", "pandas", "matplotlib", "pydantic"):
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
