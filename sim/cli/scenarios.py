"""``ceasefire validate`` (check scenario files) and ``ceasefire scenarios`` (list the bundled ones)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command
from sim.core.errors import InputError
from sim.core.exit_codes import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK


def add_scenario_commands(commands: Any) -> None:
    """Register ``validate SCENARIO [SCENARIO ...]`` and ``scenarios``."""
    validate = add_command(commands, "validate", cmd_validate,
                           help="check scenario files; exit 0 if all are valid, else 2")
    validate.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                          help="scenario YAML files or bundled names")
    add_command(commands, "scenarios", cmd_scenarios, help="list the bundled scenarios and the question each answers")


def cmd_validate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire validate``: every file is checked; one line per file."""
    from sim.spec.scenario import load_scenario

    status = EXIT_OK
    for path in args.scenarios:
        try:
            scenario = load_scenario(path)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
        else:
            print(f"ok: {path} ({scenario.name})")
    return status


def cmd_scenarios(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire scenarios``: the bundled scenarios (run one by name) with their descriptions, then the
    bundled sweeps; an installation without them is an environment failure, not an empty list."""
    from sim.core import bundled
    from sim.spec.scenario import load_scenario

    names = bundled.scenario_names()
    if not names:
        print(f"error: {bundled.SCENARIOS_DIR}: no bundled scenarios found; the installation is incomplete "
              "(reinstall ceasefire)", file=sys.stderr)
        return EXIT_FAILURE
    for name in names:
        description = " ".join(load_scenario(bundled.SCENARIOS_DIR / f"{name}.yaml").description.split())
        print(f"{name}\n    {description}\n")
    print(f"Run one with `ceasefire run NAME`, or copy its file from {bundled.SCENARIOS_DIR} to change it.")
    sweeps = bundled.sweep_names()
    if sweeps:
        print(f"Bundled sweeps (`ceasefire sweep NAME`): {', '.join(sweeps)}")
    return EXIT_OK
