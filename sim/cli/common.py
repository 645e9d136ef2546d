"""Helpers shared by the ``ceasefire`` sub-commands (``sim.cli.main`` and every ``*_cli`` module import them
from here, so that no command module imports ``sim.cli.main`` back)."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from sim.core.errors import InputError


def cap_workers(requested: int, units: int, unit_name: str, explicit: bool = True) -> int:
    """The worker count actually used: ``requested`` capped at the CPU count and at ``units`` of work.

    Args:
        requested: ``--workers`` (>= 1).
        units: blocks or points the work splits into; more workers than that would idle.
        unit_name: what ``units`` counts, for the note.
        explicit: the user gave ``--workers``; only then is a note printed on stderr when capped.

    Raises:
        InputError: ``requested`` < 1.
    """
    from sim.engine.runner import default_workers

    if requested < 1:
        raise InputError(f"--workers: must be >= 1 (got {requested})")
    cores = default_workers()
    effective = max(1, min(requested, cores, units))
    if explicit and effective < requested:
        print(f"note: --workers {requested} capped at {effective} (cores: {cores}, {unit_name}: {units})",
              file=sys.stderr)
    return effective


@contextmanager
def progress_bar(total: int, unit: str, enabled: bool = True):
    """A tqdm bar on stderr when it is a terminal and ``enabled``; yields an ``advance(n)`` callable."""
    if not enabled or not sys.stderr.isatty():
        yield _ignore
        return
    from tqdm import tqdm

    with tqdm(total=total, unit=unit, unit_scale=True, file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update


def _ignore(n: int) -> None:
    return None


@contextmanager
def plot_errors(error_type: type[Exception]):
    try:
        yield
    except error_type as exc:
        raise InputError(str(exc)) from None
