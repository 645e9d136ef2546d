"""Every module of the package imports: a name moved in one module and still imported by another is
caught here, not by the first user of the command (ruff does not resolve names across modules)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import sim

OPTIONAL = {"sim.app.page", "sim.app.server"}
"""Modules that need an optional extra (the dashboard's solara); imported only when it is installed."""


def modules() -> list[str]:
    found = (info.name for info in pkgutil.walk_packages(sim.__path__, prefix="sim."))
    return sorted(name for name in found if name != "sim.__main__")  # sim.__main__ runs the command line


def test_the_walk_finds_the_package_modules():
    found = modules()
    assert {"sim.engine.model", "sim.experiments.calibrate.fit", "sim.mechanisms.objection",
            "sim.cli.main"} <= set(found)


@pytest.mark.parametrize("name", modules())
def test_every_module_imports(name: str):
    if name in OPTIONAL:
        pytest.importorskip("solara")
    importlib.import_module(name)


def test_no_command_module_imports_the_cli_back():
    """sim.cli.main imports every command module; none of them may import it back (the first version's circle)."""
    from pathlib import Path

    commands = [path for path in sorted((Path(sim.__file__).parent / "cli").glob("*.py"))
                if path.name not in ("__init__.py", "main.py")]
    offenders = [path.name for path in commands
                 if "from sim.cli.main import" in path.read_text(encoding="utf-8")
                 or "import sim.cli.main" in path.read_text(encoding="utf-8")]
    assert len(commands) >= 8
    assert offenders == []
