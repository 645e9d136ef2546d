"""Shared fixtures: small scenarios built from the bundled baseline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from sim.spec.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

# "ci" (the default): the same examples on every run, so `make test` cannot flake; a failure it
# finds is found again. "fuzz" (HYPOTHESIS_PROFILE=fuzz, `make fuzz`): fresh random examples, 20 times
# as many; tests scale their max_examples by settings.default.max_examples / 100.
settings.register_profile("ci", derandomize=True, database=None, max_examples=100, print_blob=True)
settings.register_profile("fuzz", derandomize=False, database=None, max_examples=2000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def make_scenario(overrides: dict[str, Any] | None = None, **top: Any) -> Scenario:
    """The baseline scenario with dotted-path overrides (``{"agents.UK.troops": 0}``) and top-level fields."""
    values = {"replications": 200, "horizon_days": 120, **top, **(overrides or {})}
    return load_scenario(BASELINE, values)


def coalition_sweep_yaml(name: str, *, replications: int, horizon_days: int, seed: int, troops: str,
                         second_path: str, second_values: str, design: str | None = None) -> str:
    """A small sweep file: coalition troops (UK and France, half each; ``troops`` is a quoted range)
    against one other parameter (``second_values`` is a YAML list)."""
    design_line = f"design: {design}\n" if design else ""
    return (
        f"name: {name}\nscenario: {BASELINE}\nreplications: {replications}\nhorizon_days: {horizon_days}\n"
        f"seed: {seed}\n{design_line}axes:\n"
        f"  - name: coalition_troops\n    set: {{agents.UK.troops: 0.5, agents.FR.troops: 0.5}}\n"
        f"    values: {troops}\n  - set: {second_path}\n    values: {second_values}\n"
    )


@pytest.fixture
def write_yaml(tmp_path: Path):
    """Write YAML text to a file in a temporary folder; returns its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
