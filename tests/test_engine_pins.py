"""The engine's outputs, pinned by their SHA-256: a change that alters any result of the engine is caught here.

Pinned: the run records (``sim.engine.runner.run_records``) and the trajectory arrays of three bundled scenarios
(baseline; legacy_v2, the second version of the model, whose bytes are those the baseline gave in version 2;
and legacy_v1, whose structure differs in every mechanism), 300 worlds x 200 days each, and the
records of one pack (``sim.engine.packing.run_pack``) of three points that differ in per-world parameters
(rearmament, mediation rounds, Germany's delay, permanent bases) and in structure, one with per-world values.

A refactoring must leave these hashes alone. A deliberate change of the model's rules or parameters updates
them, in the same commit as the change and its note in docs/ODD.md, with one command from the repository root:

    PYTHONPATH=. python tests/test_engine_pins.py

The hashes are of bytes computed in double and single precision; another numpy version or CPU could in
principle change a last bit (see ``sim.engine.agents.exp32``): rerun the command there only if the packing and
oracle tests still pass.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.bundled import scenario_path
from sim.engine.packing import run_pack
from sim.engine.runner import Block, simulate_block
from sim.mechanisms import LEGACY_STRUCTURE
from sim.spec.scenario import Scenario, load_scenario

PINS = Path(__file__).resolve().parent / "data" / "engine_pins.json"
UPDATE = "PYTHONPATH=. python tests/test_engine_pins.py"
WORLDS, DAYS = 300, 200


def _frame_hash(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _arrays_hash(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name} {value.dtype} {value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _scenario(name: str) -> Scenario:
    return load_scenario(scenario_path(name)).model_copy(update={"replications": WORLDS, "horizon_days": DAYS})


def scenario_hashes(name: str) -> dict[str, str]:
    """Hashes of the records and trajectories of one bundled scenario, one block of ``WORLDS`` worlds."""
    scenario = _scenario(name)
    result = simulate_block(scenario, Block(0, 0, WORLDS), scenario.seed)
    assert result.trajectories is not None
    return {f"{name}.runs": _frame_hash(result.runs), f"{name}.trajectories": _arrays_hash(result.trajectories)}


def _pack_points() -> list[Scenario]:
    base = _scenario("baseline")
    legacy_structure = base.structure.model_copy(update=LEGACY_STRUCTURE)
    points = []
    for k, (ru_rate, rounds, delay, bases, structure) in enumerate([
            (0.0, 3, 90, False, base.structure), (0.05, 1, 0, True, legacy_structure),
            (0.1, 5, 30, False, base.structure)]):
        agents = base.agents
        points.append(base.model_copy(update={"name": f"point{k}", "replications": 100 + 20 * k,
                                              "structure": structure, "agents": agents.model_copy(update={
            "RU": agents.RU.model_copy(update={"rearmament_rate": ru_rate}),
            "US": agents.US.model_copy(update={"mediation_rounds": rounds}),
            "DE": agents.DE.model_copy(update={"deployment_delay_days": delay, "permanent_bases": bases})})}))
    return points


def pack_hashes() -> dict[str, str]:
    """Hashes of the records of each point of one pack."""
    points = _pack_points()
    rng = np.random.default_rng(21)
    n = points[2].replications
    own = {"agents.UA.rearmament_rate": rng.choice([0.0, 0.02, 0.04], n),
           "model.escalation_threshold": rng.uniform(0.5, 3.0, n)}
    tables = run_pack(points, [(k,) for k in range(len(points))], world_values=[None, None, own])
    return {f"pack.point{k}.runs": _frame_hash(table) for k, table in enumerate(tables)}


def all_hashes() -> dict[str, str]:
    return {**scenario_hashes("baseline"), **scenario_hashes("legacy_v2"), **scenario_hashes("legacy_v1"),
            **pack_hashes()}


@pytest.mark.parametrize("part", ["baseline", "legacy_v2", "legacy_v1", "pack"])
def test_the_engine_gives_the_pinned_bytes(part: str) -> None:
    pinned = json.loads(PINS.read_text(encoding="utf-8"))
    found = pack_hashes() if part == "pack" else scenario_hashes(part)
    changed = sorted(name for name in found if pinned.get(name) != found[name])
    assert not changed, (f"the engine's outputs changed: {changed}. A refactoring must not change them; after a "
                         f"deliberate change of the model, update the pins with: {UPDATE}")


if __name__ == "__main__":
    PINS.write_text(json.dumps(all_hashes(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {PINS}")
