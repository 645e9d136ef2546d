"""Writing results: CSV tables and a manifest, into a folder that appears complete or not at all.

Everything is written into a hidden temporary folder beside the destination, which is renamed
into place only when every file is written. A failed or interrupted run leaves the previous
results (if any) untouched and no folder that looks complete.
"""

from __future__ import annotations

import contextlib
import errno
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

from sim.core.errors import InputError
from sim.core.signals import signals_held

CSV_OPTIONS: dict[str, Any] = {"index": False, "lineterminator": "\n", "float_format": "%.10g"}
"""One way of writing every CSV, so that equal tables give equal bytes."""


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write a table as CSV with the project's fixed formatting."""
    table.to_csv(path, **CSV_OPTIONS)
    return path


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Write JSON, keys sorted, UTF-8. A ``manifest.json`` also gets the mark that the folder is ours."""
    path = Path(path)
    if path.name == MANIFEST:
        document = {**document, **WRITTEN_BY}
    path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


# --------------------------------------------------------------------------- what we may replace

MANIFEST = "manifest.json"
"""Every output folder of ``ceasefire`` (run, sweep, tornado, validation) holds one."""

WRITTEN_BY: dict[str, str] = {"written_by": "ceasefire"}
"""The mark :func:`write_json` puts in every manifest."""

OWN_SUFFIXES = frozenset({".csv", ".json", ".png", ".md", ".html"})
"""The kinds of file an output folder of ours holds; anything else in it is the user's."""

LEGACY_VALIDATION_FILES = frozenset({"validation.csv", "validation.md", "validation.png"})
"""A validation folder written before validation folders had a manifest."""

MANIFEST_MAX_BYTES = 16 * 2**20
"""A larger ``manifest.json`` is not one of ours (and is not read)."""

BUNDLED_SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
"""The scenario files shipped with the project: never inside an output folder."""


def check_output_folder(path: str | Path, flag: str = "--out", inputs: Sequence[str | Path] = ()) -> Path:
    """Refuse, before any work, an output folder that replacing would destroy something not ours.

    Accepted: a new folder, an empty one, or one ``ceasefire`` wrote (its ``manifest.json`` says so and
    it holds only files of the kinds we write). Refused: the current folder or any folder above it, a
    folder holding an input file or the bundled scenarios, a symbolic link, a file, a folder holding
    anything else, a place where nothing can be written.

    Args:
        path: the output folder.
        flag: the option that named it, for the message.
        inputs: files the command reads (scenario, sweep file); the output must not contain them.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        InputError: one line naming the folder, the flag and what to do.
    """
    path = Path(path)

    def refuse(reason: str) -> InputError:
        return InputError(f"{path}: {flag}: {reason}")

    if path.name in ("", ".", ".."):
        raise refuse("is the current folder or a parent of it; choose a new folder such as results/NAME")
    try:
        target = path.resolve()
        cwd = Path.cwd().resolve()
        protected = [(Path(p).resolve(), f"holds the input file {Path(p).name}") for p in inputs]
    except (OSError, RuntimeError) as exc:
        raise refuse(f"cannot resolve ({getattr(exc, 'strerror', None) or exc})") from None
    if target == cwd or target in cwd.parents:
        raise refuse("is the current folder or a parent of it; choose a new folder such as results/NAME")
    from sim.core.bundled import SCENARIOS_DIR

    bundled = [(folder.resolve(), "holds the bundled scenario files") for folder in (BUNDLED_SCENARIOS, SCENARIOS_DIR)]
    for inside, reason in [*protected, *bundled]:
        if inside == target or target in inside.parents:
            raise refuse(f"{reason}; choose an empty or new folder")
    if path.is_symlink():
        raise refuse("is a symbolic link; give a real folder")
    if path.exists() and not path.is_dir():
        raise refuse("exists and is not a folder")
    if path.is_dir():
        foreign = foreign_entries(path, refuse)
        if foreign:
            raise refuse(f"folder holds files ceasefire did not write ({_name_list(foreign)}); "
                         "choose an empty or new folder")
    _check_parent(path, flag)
    return path


def foreign_entries(folder: Path, refuse: Any = None) -> list[str]:
    """Names in ``folder`` that ``ceasefire`` did not write; all of them unless the folder is ours."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        if refuse is None:
            raise
        raise refuse(f"cannot read ({exc.strerror or exc})") from None
    if not names:
        return []
    if not is_own_folder(folder, names):
        return names
    return [name for name in names if not _own_file(folder / name)]


def is_own_folder(folder: Path, names: Sequence[str]) -> bool:
    """Whether ``folder`` is an output folder of ours: its manifest says so (or, for an old validation
    folder without a manifest, it holds exactly the validation files)."""
    if MANIFEST in names:
        return is_own_manifest(folder / MANIFEST)
    return "validation.csv" in names and set(names) <= LEGACY_VALIDATION_FILES


def is_own_manifest(path: Path) -> bool:
    """A regular ``manifest.json`` with our mark, or with the keys every older manifest of ours had."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MANIFEST_MAX_BYTES:
            return False
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(document, dict):
        return False
    if document.get("written_by") == WRITTEN_BY["written_by"] or document.get("kind") in ("tornado", "validation"):
        return True
    return "versions" in document and ("seed" in document or "sweep_hash" in document)


def _own_file(path: Path) -> bool:
    """A regular file of a kind we write; hidden names only as our own interrupted temporary files."""
    if path.name.startswith(".") and ".partial" not in path.name:
        return False
    return path.suffix.lower() in OWN_SUFFIXES and not path.is_symlink() and path.is_file()


def _name_list(names: Sequence[str], shown: int = 3) -> str:
    """A few names, printable and short, then "..." when there are more."""
    clean = ["".join(c if c.isprintable() else "?" for c in name)[:60] for name in names[:shown]]
    return ", ".join(clean + (["..."] if len(names) > shown else []))


def check_output_file(path: str | Path, suffix: str, flag: str = "--out") -> Path:
    """Refuse, before any work, a file output that is not a new or existing regular ``suffix`` file.

    Raises:
        InputError: a folder, a device node, FIFO or socket, a symbolic link, a wrong suffix (e.g. a run's
            ``survival.csv`` given to ``compare --out``), or a folder where nothing can be written.
    """
    path = Path(path)
    _check_file_kind(path, flag)
    if path.suffix.lower() != suffix:
        raise InputError(f"{path}: {flag}: must be a {suffix} file name (got '{path.suffix or path.name}')")
    _check_parent(path, flag)
    return path


def check_writable(out_dir: Path, kind: str = "folder", flag: str = "--out") -> None:
    """Fail early, before any work, if results may not or cannot be written to ``out_dir``.

    Args:
        out_dir: the output folder (see :func:`check_output_folder`), or the output file when ``kind``
            is ``"file"``: absent, or an existing regular file (never a link, folder, device or FIFO).

    Raises:
        InputError: naming the path and the reason.
    """
    out_dir = Path(out_dir)
    if kind == "folder":
        check_output_folder(out_dir, flag)
        return
    _check_file_kind(out_dir, flag)
    _check_parent(out_dir, flag)


def _check_file_kind(path: Path, flag: str) -> None:
    """An output file must be absent or a regular file (not a link, folder, device node, FIFO or socket)."""
    if path.is_dir():
        raise InputError(f"{path}: {flag}: is a folder; give a file name")
    if path.is_symlink():
        raise InputError(f"{path}: {flag}: is a symbolic link; give a new file name")
    if path.exists() and not path.is_file():
        raise InputError(f"{path}: {flag}: is not a regular file (a device, FIFO or socket); give a new file name")


def _check_parent(path: Path, flag: str) -> None:
    """Create ``path``'s folder if needed and check a file can be created in it."""
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise InputError(f"{path}: {flag}: cannot write here ({exc.strerror or exc})") from None


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

    ``out_dir`` is checked again (:func:`check_output_folder`) before anything is written: only a
    new, empty or ``ceasefire`` folder is replaced. On any failure the previous folder stays in place.

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
        _move_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


RACE_ATTEMPTS = 5
"""How often a folder swap is retried when another writer swaps the same folder at the same time."""


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename ``tmp`` to ``out_dir``; an existing ``out_dir`` is set aside first and deleted only after.

    If the final rename fails the previous folder is put back, so a failure leaves the old results.
    Another writer finishing the same folder meanwhile (a vanished or reappearing ``out_dir``) is retried.
    """
    for attempt in range(RACE_ATTEMPTS):
        last = attempt == RACE_ATTEMPTS - 1
        with signals_held():
            holder = _set_aside(out_dir)
            if holder is False:  # another writer moved it away first
                continue
            try:
                os.replace(tmp, out_dir)
            except BaseException as exc:
                if holder is not None:
                    _put_back(holder, out_dir)
                if isinstance(exc, OSError) and exc.errno in (errno.ENOTEMPTY, errno.EEXIST) and not last:
                    continue  # another writer put its folder in place between the two renames
                raise
            if holder is not None:  # inside the held block: an interrupt cannot strand the old folder
                shutil.rmtree(holder, ignore_errors=True)
        return
    raise OSError(errno.EBUSY, "another process kept replacing this folder", str(out_dir))


def _set_aside(out_dir: Path) -> Path | None | bool:
    """Move an existing ``out_dir`` into a new hidden holder folder; None if there was none, False if it
    vanished meanwhile."""
    if not os.path.lexists(out_dir):
        return None
    holder = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    try:
        os.replace(out_dir, holder / out_dir.name)
    except FileNotFoundError:
        holder.rmdir()
        return False
    except OSError:
        holder.rmdir()
        raise
    return holder


def _put_back(holder: Path, out_dir: Path) -> None:
    """Return the set-aside folder to ``out_dir``; if a newer complete folder took its place, drop it.

    When neither works the holder is left as it is: keeping old results beats deleting them.
    """
    try:
        os.replace(holder / out_dir.name, out_dir)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            shutil.rmtree(holder, ignore_errors=True)
        return
    holder.rmdir()


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
