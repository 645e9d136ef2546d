"""``sim.ScenarioModel`` in Mesa's own tools: batch_run, keyword parameters, DataCollector, memory."""

from __future__ import annotations

import gc
import math
import weakref

import mesa
import numpy as np
import pandas as pd
import psutil
import pytest

import sim
from sim.core.errors import InputError
from sim.engine.mesa_model import REPORTERS, ScenarioModel, keyword_paths
from sim.engine.model import CeasefireModel
from sim.engine.runner import run_records
from sim.experiments.run import run_scenario

BASELINE = "scenarios/baseline.yaml"


def run_to_end(model: ScenarioModel) -> pd.DataFrame:
    while model.running:
        model.step()
    return model.datacollector.get_model_vars_dataframe()


def test_batch_run_on_the_class_returns_rows_with_the_datacollector_columns() -> None:
    rows = mesa.batch_run(sim.ScenarioModel, parameters={"agents__UK__troops": [0, 20000]}, iterations=2,
                          max_steps=365, number_processes=1, display_progress=False)
    table = pd.DataFrame(rows)
    assert len(table) == 4 * 6  # one row per state (its agent reporters) and run
    assert (table.groupby(["RunId"])["code"].apply(list) == [["UK", "FR", "DE", "US", "UA", "RU"]] * 4).all()
    table = table[table["code"] == "UK"]
    assert set(REPORTERS) <= set(table.columns)
    assert sorted(table["agents__UK__troops"]) == [0, 0, 20000, 20000]
    assert (table["day"] == 365).all() and (table["Step"] == 365).all()
    assert table["p_holding"].between(0, 1).all()
    assert table["seed"].nunique() == 4  # each iteration draws its own seed
    by_troops = table.groupby("agents__UK__troops")["coalition_troops_mean"].mean()
    assert by_troops[20000] > by_troops[0] + 10_000  # the keyword reached the model


def test_batch_run_takes_a_scenario_object_in_a_list_and_seeds_from_the_seed_keyword() -> None:
    scenario = sim.load_scenario(BASELINE, {"horizon_days": 10})
    # "seed" (the scenario's) seeds runs on every Mesa; Mesa 3.5 replaces an "rng" given here by its own
    rows = mesa.batch_run(ScenarioModel, parameters={"scenario": [scenario], "worlds": 50, "seed": [3, 4]},
                          max_steps=100, number_processes=1, display_progress=False)
    assert [row["seed"] for row in rows] == [3] * 6 + [4] * 6  # a row per state
    # the horizon (10 days) ends these runs: Mesa 3.5 reports day 10, Mesa 3.3 its last-but-one, day 9;
    # either way a row's day is its Step
    assert all(row["day"] == row["Step"] in (9, 10) for row in rows)


def test_datacollector_reproduces_ceasefire_run_for_the_same_seed() -> None:
    worlds, seed, horizon = 300, 7, 120
    model = ScenarioModel(BASELINE, worlds=worlds, rng=seed, horizon_days=horizon)
    days = run_to_end(model)
    result = run_scenario(sim.load_scenario(BASELINE, {"replications": worlds, "seed": seed, "horizon_days": horizon}))
    assert list(days["day"]) == list(range(len(days)))  # index = day, from day 0
    np.testing.assert_array_equal(days["p_holding"], result.survival["p_holding"][: len(days)])
    for name in ("credibility", "escalation", "coalition_troops"):
        np.testing.assert_allclose(days[f"{name}_mean"], result.trajectories[f"{name}_mean"][: len(days)],
                                   rtol=1e-5, err_msg=name)  # trajectories are kept as float32
    pd.testing.assert_frame_equal(run_records(model.engine), result.runs)  # the engine is whole again at the end


def test_same_rng_same_days_and_no_rng_draws_a_fresh_seed() -> None:
    first = run_to_end(ScenarioModel(worlds=100, rng=11, horizon_days=30))
    again = run_to_end(ScenarioModel(worlds=100, rng=11, horizon_days=30))
    pd.testing.assert_frame_equal(first, again)
    assert ScenarioModel(worlds=10, horizon_days=5).run_seed != ScenarioModel(worlds=10, horizon_days=5).run_seed
    assert ScenarioModel(worlds=10, seed=5, horizon_days=5).run_seed == 5


def test_running_stops_at_the_horizon() -> None:
    model = ScenarioModel(worlds=100, rng=1, horizon_days=20)
    run_to_end(model)
    assert model.engine.day == 20 and model.steps == 20


def test_a_day_without_holding_worlds_records_nan_means_not_zero() -> None:
    model = ScenarioModel(worlds=50, rng=1, agents__RU__acceptance_logit=-1000)
    days = run_to_end(model)
    assert not model.running and len(days) == 1
    row = days.iloc[0]
    assert row["p_holding"] == 0.0
    assert all(math.isnan(row[f"{name}_mean"]) for name in ("credibility", "escalation", "coalition_troops"))


def test_every_scenario_path_is_a_keyword() -> None:
    paths = keyword_paths(sim.load_scenario(BASELINE))
    assert {"agents__UK__troops", "model__entry_cost", "structure__objection", "horizon_days", "seed"} <= set(paths)
    model = ScenarioModel(worlds=10, rng=1, model__entry_cost=2.5, structure__objection="linear", horizon_days=3)
    assert model.config.model.entry_cost == 2.5 and model.config.structure.objection == "linear"


def test_unknown_keyword_is_a_type_error_naming_the_closest_keyword() -> None:
    with pytest.raises(TypeError, match=r"unknown keyword 'agents__UK__troop' \(did you mean 'agents__UK__troops'"):
        ScenarioModel(worlds=10, agents__UK__troop=5)
    with pytest.raises(TypeError, match=r"'agents\.UK\.troops' \(did you mean 'agents__UK__troops'"):
        ScenarioModel(worlds=10, **{"agents.UK.troops": 5})
    with pytest.raises(TypeError, match="'zzz' .*take '__' for '.'"):
        ScenarioModel(worlds=10, zzz=5)


@pytest.mark.parametrize(("keywords", "message"), [
    ({"agents__UK__troops": -5}, r"agents\.UK\.troops: must be >= 0"),
    ({"rng": -1}, r"seed: must be >= 0"),
    ({"structure__objection": "nonsense"}, r"structure\.objection: .*unknown form"),
])
def test_out_of_range_values_are_refused_naming_the_field(keywords: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ScenarioModel(worlds=10, **keywords)


@pytest.mark.parametrize("worlds", [0, -3, 2.5, True, "100"])
def test_bad_world_counts_are_refused(worlds: object) -> None:
    with pytest.raises(TypeError, match="worlds: must be a whole number"):
        ScenarioModel(worlds=worlds)


def test_rng_and_seed_together_are_refused() -> None:
    with pytest.raises(TypeError, match="either rng or seed"):
        ScenarioModel(worlds=10, rng=1, seed=2)


def test_no_attribute_of_ours_shadows_mesas() -> None:
    ours = set(vars(ScenarioModel(worlds=10, rng=1, horizon_days=2))) - set(vars(mesa.Model(rng=1)))
    assert ours and not [name for name in ours if hasattr(mesa.Model, name)]


# --------------------------------------------------------------------------- memory

MODELS = 50
MEMORY_WORLDS = 10_000
RSS_TOLERANCE_MB = 20.0
"""Growth allowed over the last 40 of 50 models. A model of 10,000 worlds that is not freed keeps about
2.6 MB (measured with Mesa 3.3.1), so 40 leaked models add about 100 MB; freed ones add about 1 MB."""


def _models_in_a_loop() -> tuple[list[weakref.ref], list[float]]:
    """Build and run MODELS models as a caller of batch_run would, dropping each; weak references to their
    engines and the resident memory (MB) after each."""
    process = psutil.Process()
    engines, rss = [], []
    for i in range(MODELS):
        model = ScenarioModel(worlds=MEMORY_WORLDS, rng=i, horizon_days=1)
        run_to_end(model)
        engines.append(weakref.ref(model.engine))
        del model
        gc.collect()
        rss.append(process.memory_info().rss / 2**20)
    return engines, rss


def test_fifty_models_in_a_loop_keep_memory_flat() -> None:
    engines, rss = _models_in_a_loop()
    assert [ref for ref in engines if ref() is not None] == []
    assert rss[-1] - rss[MODELS - 41] < RSS_TOLERANCE_MB, rss


@pytest.mark.skipif(not isinstance(getattr(mesa.Agent, "_ids", None), dict),
                    reason="this Mesa keeps no registry of models (mesa #3180)")
def test_memory_test_sees_the_leak_without_release(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CeasefireModel, "release", lambda self: None)
    engines, rss = _models_in_a_loop()
    assert len([ref for ref in engines if ref() is not None]) == MODELS
    assert rss[-1] - rss[MODELS - 41] > RSS_TOLERANCE_MB
    for ref in engines:  # let them go, for the tests that follow
        mesa.Agent._ids.pop(ref(), None)
