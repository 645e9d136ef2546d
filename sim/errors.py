"""Errors the command line turns into one-line messages with exit code 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a file, a field and what to fix.

    ``str(error)`` is the whole one-line message, e.g.
    ``scenarios/x.yaml: agents.UK.troops: must be >= 0 (got -5)``.
    """
