"""The files shipped inside the package: the commitments, the article, the scenarios and the sweeps.

They live in ``sim/data/`` (package data, found with :mod:`importlib.resources`), so an installed
wheel runs from any folder. The repository's top-level ``seeds/`` and ``scenarios/`` are the copies
people read and edit; ``sim/data/seeds`` and ``sim/data/scenarios`` mirror them byte for byte
(``tests/test_bundled.py`` checks it). After editing a top-level file, re-sync with::

    python -m sim.core.bundled --sync

A scenario argument is a path or a bundled name: a path that exists wins; a bare name (no folder,
no ``.yaml``) that is not a file is the bundled scenario of that name (see :func:`resolve_scenario`).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from sim.core.errors import InputError, one_line

DATA_DIR = Path(str(resources.files("sim") / "data"))
"""The package data folder (pip always installs packages unpacked, so this is a real folder)."""
SEEDS_DIR = DATA_DIR / "seeds"
SCENARIOS_DIR = DATA_DIR / "scenarios"
SWEEPS_DIR = SCENARIOS_DIR / "sweeps"
COMMITMENTS_FILE = SEEDS_DIR / "commitments.yaml"

MIRRORED = ("seeds", "scenarios")
"""Top-level folders of a checkout mirrored into ``DATA_DIR`` under the same names."""
SUFFIXES = frozenset({".yaml", ".txt"})
"""The kinds of file mirrored; anything else in those folders stays out of the package ..."""
RECORD_SUFFIXES = frozenset({".csv", ".md"})
"""... except in ``seeds/record/`` (the empirical record and its README), mirrored whole."""
YAML_SUFFIXES = (".yaml", ".yml")


def scenario_names() -> list[str]:
    """Names of the bundled scenarios (file stems in ``SCENARIOS_DIR``), sorted."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def sweep_names() -> list[str]:
    """Names of the bundled sweeps (file stems in ``SWEEPS_DIR``), sorted."""
    return sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml"))


def scenario_path(name: str) -> Path:
    """The file of bundled scenario ``name`` (e.g. ``"baseline"``).

    Raises:
        InputError: no bundled scenario has that name; the message lists the names.
    """
    return _bundled(name, SCENARIOS_DIR, scenario_names(), "scenario")


def sweep_path(name: str) -> Path:
    """The file of bundled sweep ``name`` (e.g. ``"coalition_troops"``).

    Raises:
        InputError: no bundled sweep has that name; the message lists the names.
    """
    return _bundled(name, SWEEPS_DIR, sweep_names(), "sweep")


def _bundled(name: str, folder: Path, names: list[str], kind: str) -> Path:
    if name not in names:
        raise InputError(f"{one_line(name, 80)}: no such file, and no bundled {kind} of that name "
                         f"(bundled: {', '.join(names) or 'none found; the installation is incomplete'})")
    return folder / f"{name}.yaml"


def is_bare_name(argument: str | Path) -> bool:
    """Whether ``argument`` reads as a name rather than a path: no folder part and no ``.yaml``/``.yml``."""
    text = str(argument)
    return bool(text) and "/" not in text and "\\" not in text and "\x00" not in text \
        and not text.lower().endswith(YAML_SUFFIXES) and text not in (".", "..")


def resolve_scenario(argument: str | Path) -> Path:
    """The scenario file an argument names: the path when it exists or is not a bare name, else the
    bundled scenario of that name.

    Raises:
        InputError: a bare name that is neither a file nor a bundled scenario.
    """
    return _resolve(argument, scenario_path)


def resolve_sweep(argument: str | Path) -> Path:
    """The sweep file an argument names, as :func:`resolve_scenario` does for scenarios."""
    return _resolve(argument, sweep_path)


def _resolve(argument: str | Path, lookup: Callable[[str], Path]) -> Path:
    path = Path(argument)
    if not is_bare_name(argument):
        return path
    try:
        if path.exists():
            return path
    except OSError:  # a name too long for the file system: not a file, so maybe a name
        pass
    return lookup(str(argument))


# --------------------------------------------------------------------------- the mirror in a checkout


def differences(root: Path) -> list[str]:
    """Relative paths where the checkout at ``root`` and ``DATA_DIR`` differ (missing, extra or changed)."""
    found = []
    for top in MIRRORED:
        source, target = _files(root / top), _files(DATA_DIR / top)
        for name in sorted(source.keys() | target.keys()):
            if name not in source or name not in target or not filecmp.cmp(source[name], target[name], shallow=False):
                found.append(f"{top}/{name}")
    return found


def sync(root: Path) -> list[str]:
    """Make ``DATA_DIR`` mirror the checkout at ``root``; returns what changed (relative paths)."""
    changed = differences(root)
    for relative in changed:
        source, target = root / relative, DATA_DIR / relative
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        else:  # removed from the checkout: remove our copy (only files of the kinds we mirror)
            target.unlink()
    return changed


def _files(folder: Path) -> dict[str, Path]:
    """Mirrored files under ``folder`` by POSIX relative path (hidden files and other kinds skipped)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*")
            if p.is_file() and _mirrored(p) and not any(part.startswith(".") for part in p.parts[-2:])}


def _mirrored(path: Path) -> bool:
    return path.suffix in SUFFIXES or (path.parent.name == "record" and path.suffix in RECORD_SUFFIXES)


def checkout_root() -> Path | None:
    """The repository holding this package, when it runs from a checkout (it has ``seeds/`` beside ``sim/``)."""
    root = DATA_DIR.parent.parent
    return root if all((root / top).is_dir() for top in MIRRORED) else None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sim.core.bundled --check | --sync``: compare or re-sync the package copies with the checkout."""
    parser = argparse.ArgumentParser(prog="python -m sim.core.bundled", description=main.__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true", help="exit 1 if sim/data differs from seeds/ and scenarios/")
    group.add_argument("--sync", action="store_true", help="copy seeds/ and scenarios/ into sim/data")
    args = parser.parse_args(argv)
    root = checkout_root()
    if root is None:
        print(f"error: {DATA_DIR}: not inside a checkout (no seeds/ and scenarios/ beside sim/)", file=sys.stderr)
        return 1
    changed = sync(root) if args.sync else differences(root)
    verb = "synced" if args.sync else "differs"
    for relative in changed:
        print(f"{verb}: {relative}")
    if not changed:
        print(f"ok: sim/data mirrors {', '.join(MIRRORED)}")
    return 1 if changed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
