"""The public surface is kept: every sub-command's flags (names, destinations, defaults, arity, metavars,
choices) and the names ``sim`` exports equal the snapshot taken before the package was layered
(``tests/data/cli_surface.json``). Commands, flags and exports may be added and help texts reworded;
nothing a script relies on may change.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import sim
from sim.cli.main import build_parser

SNAPSHOT = Path(__file__).parent / "data" / "cli_surface.json"


def describe(parser: argparse.ArgumentParser) -> dict[str, dict[str, object]]:
    """Each argument of ``parser`` (help excluded) by its option strings, or its name if positional."""
    out: dict[str, dict[str, object]] = {}
    for action in parser._actions:
        if isinstance(action, (argparse._SubParsersAction, argparse._HelpAction)):
            continue
        key = "/".join(action.option_strings) or action.dest
        out[key] = {"dest": action.dest, "default": repr(action.default), "nargs": repr(action.nargs),
                    "metavar": repr(action.metavar),
                    "choices": repr(list(action.choices) if action.choices else None),
                    "kind": type(action).__name__, "required": action.required}
    return out


def surface() -> dict[str, object]:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"commands": {name: describe(p) for name, p in sorted(commands.choices.items())},
            "exports": sorted(sim.__all__)}


def test_every_command_and_flag_is_unchanged():
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    found = surface()
    assert set(expected["commands"]) <= set(found["commands"])
    for command, flags in expected["commands"].items():
        kept = {name: found["commands"][command].get(name) for name in flags}
        assert kept == flags, command


def test_the_exports_are_unchanged():
    assert set(json.loads(SNAPSHOT.read_text(encoding="utf-8"))["exports"]) <= set(surface()["exports"])


def test_the_snapshot_check_can_fail():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    changed = argparse.ArgumentParser()
    changed.add_argument("--workers", type=int, default=2)
    assert describe(parser) != describe(changed)
