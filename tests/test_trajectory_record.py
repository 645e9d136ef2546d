"""The recorded trajectories hold a value exactly on the days a world's ceasefire held at the day's end.

``CeasefireModel._record`` writes every stepped world and blanks the ended ones later (at compaction, at the
end of ``run()``, or when ``trajectories`` is read); these tests check the result against the definition, read
from the run's own ``agreed`` and ``breakdown_day``, in a compacted run and in a model stepped by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import TRAJECTORY_VARIABLES, CeasefireModel
from sim.spec.scenario import load_scenario


def _held_at_end_of_day(model: CeasefireModel, last_day: int) -> np.ndarray:
    """(days + 1, worlds): whether each world's ceasefire held at the end of each day up to ``last_day``."""
    days = np.arange(model.horizon_days + 1)[:, None]
    ended = np.where(model.breakdown_day >= 0, model.breakdown_day, np.iinfo(np.int64).max)
    return model.agreed[None, :] & (days < ended[None, :]) & (days <= last_day)


@pytest.mark.parametrize("scenario", ["baseline", "no_european_troops"])
def test_a_run_records_exactly_the_holding_worlds(scenario: str) -> None:
    model = CeasefireModel(load_scenario(scenario, {"horizon_days": 400}), 600, rng=11).run()
    held = _held_at_end_of_day(model, model.day)
    # the run must have compacted and ended worlds, or the check would be empty
    assert model.agreed.sum() < 600 and (model.breakdown_day > 0).sum() > 30
    for name in TRAJECTORY_VARIABLES:
        recorded = model.trajectories[name]
        assert np.array_equal(~np.isnan(recorded), held), name


def test_a_model_stepped_by_hand_is_right_whenever_read() -> None:
    model = CeasefireModel(load_scenario("baseline", {"horizon_days": 300}), 400, rng=5)
    for day in range(1, 201):
        model.step()
        if day in (1, 37, 200):
            held = _held_at_end_of_day(model, day)
            for name in TRAJECTORY_VARIABLES:
                assert np.array_equal(~np.isnan(model.trajectories[name]), held), (name, day)


def test_values_of_holding_worlds_are_todays() -> None:
    """Where a world holds, the recorded escalation is the model's own value that day (checked on the last day)."""
    model = CeasefireModel(load_scenario("baseline", {"horizon_days": 120}), 300, rng=2)
    for _ in range(120):
        model.step()
    holding = model.holding
    assert holding.any()
    recorded = model.trajectories["escalation"][120]
    assert np.array_equal(recorded[holding], model.escalation[holding].astype(np.float32))
