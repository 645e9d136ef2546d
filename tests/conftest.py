"""Shared fixtures: small scenarios built from the bundled baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def make_scenario(overrides: dict[str, Any] | None = None, **top: Any) -> Scenario:
    """The baseline scenario with dotted-path overrides (``{"agents.UK.troops": 0}``) and top-level fields."""
    values = {"replications": 200, "horizon_days": 120, **top, **(overrides or {})}
    return load_scenario(BASELINE, values)


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write YAML text to a file in a temporary folder; returns its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
