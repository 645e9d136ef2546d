"""The ``ceasefire structures`` command, and the reading of the ``--structure MECHANISM=FORM`` option.

``sim.cli.main`` registers the command with ``add_structure_commands(commands)``; commands add the option
with ``sim.cli.common.add_options(parser, structure=True)`` and turn each value into a scenario override
with :func:`structure_overrides`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from sim.cli.common import add_command
from sim.core.errors import InputError


def add_structure_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``structures`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    return add_command(
        subparsers, "structures", cmd_structures, help="list the contested mechanisms and their rival forms",
        description="List every contested mechanism of the model, its forms with a one-line description, "
                    "and the default form (marked *). Choose forms in a scenario's `structure:` block or "
                    "with `--structure MECHANISM=FORM`.")


def cmd_structures(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire structures``."""
    from sim.core.exit_codes import EXIT_OK

    print(structures_text())
    return EXIT_OK


def structures_text() -> str:
    """Every mechanism with its question and forms; ``*`` marks the default."""
    from sim.mechanisms import LEGACY_STRUCTURE, MECHANISMS

    lines = []
    for mechanism in MECHANISMS.values():
        lines.append(f"{mechanism.name}: {mechanism.question}")
        width = max(len(name) for name in mechanism.forms)
        for name in mechanism.forms:
            mark = "*" if name == mechanism.default else " "
            lines.append(f"  {mark} {name:<{width}}  {mechanism.describe(name)}")
        lines.append("")
    legacy = " ".join(f"{key}={value}" for key, value in LEGACY_STRUCTURE.items())
    lines.append("* default form. The first version of the model: " + legacy +
                 " (with the parameters of scenarios/legacy_v1.yaml).")
    return "\n".join(lines)


def structure_overrides(items: Sequence[str]) -> dict[str, str]:
    """``{"structure.<mechanism>": form}`` from ``--structure`` values, each checked against the registry.

    Raises:
        InputError: a value without ``=``, an unknown mechanism or an unknown form.
    """
    from sim.mechanisms import REGISTRY

    overrides: dict[str, str] = {}
    for item in items:
        mechanism, sep, form = item.partition("=")
        mechanism, form = mechanism.strip(), form.strip()
        if not sep or not mechanism or not form:
            raise InputError(f"--structure: expected MECHANISM=FORM, e.g. objection=principled (got {item!r})")
        if mechanism not in REGISTRY:
            raise InputError(f"--structure: unknown mechanism {mechanism!r} (mechanisms: {', '.join(REGISTRY)})")
        if form not in REGISTRY[mechanism]:
            raise InputError(f"--structure: {mechanism}: unknown form {form!r} "
                             f"(forms: {', '.join(REGISTRY[mechanism])})")
        overrides[f"structure.{mechanism}"] = form
    return overrides
