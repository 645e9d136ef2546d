"""``sim.evaluate`` (many points on the packed runner, common random numbers) and ``sim.parameter_space``."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.experiments.evaluate import DEFAULT_OUTPUTS
from sim.spec.scenario import Agents, ModelParams
from sim.stats.metrics import summary_row

SMALL = {"replications": 120, "horizon_days": 400}


def schema_parameter_paths() -> set[str]:
    """Every parameter path, read from the schema's models (not from the space under test)."""
    paths = {f"model.{name}" for name in ModelParams.model_fields}
    for code, field in Agents.model_fields.items():
        paths |= {f"agents.{code}.{name}" for name in field.annotation.model_fields}
    return paths


def test_the_space_covers_every_schema_parameter_and_every_mechanism():
    space = sim.parameter_space()
    table = space.table
    assert set(table.loc[table["kind"] != "form", "path"]) == schema_parameter_paths()
    assert set(table.loc[table["kind"] == "form", "path"]) == {f"structure.{m}" for m in sim.mechanisms.REGISTRY}
    assert {"path", "kind", "default", "low", "high", "distribution", "provenance"} <= set(table.columns)
    baseline = sim.load_scenario("baseline")
    for parameter in space.parameters:  # the defaults are the commitments'; assumed ones carry a prior
        assert parameter.provenance in {"stated", "inspired", "external", "assumption"}, parameter.path
        if parameter.provenance in {"inspired", "assumption"}:
            assert parameter.low <= parameter.default <= parameter.high, parameter.path
    assert space["agents.UK.troops"].kind == "int" and space["agents.UK.permanent_bases"].kind == "bool"
    assert space["structure.objection"].choices == tuple(sim.mechanisms.REGISTRY["objection"])
    assert len(repr(space)) < 300
    assert baseline.structure.objection == space["structure.objection"].default


def test_the_salib_problem_has_the_priors_bounds():
    space = sim.parameter_space()
    problem = space.to_salib_problem(["agents.UK.troops", "model.entry_cost"])
    assert problem["names"] == ["agents.UK.troops", "model.entry_cost"]
    assert problem["bounds"][0] == [space["agents.UK.troops"].low, space["agents.UK.troops"].high]
    every = space.to_salib_problem()
    assert every["num_vars"] == len(every["names"]) == len(every["bounds"]) > 20
    with pytest.raises(sim.InputError, match=r"did you mean 'agents.UK.troops'"):
        space.to_salib_problem(["agents.UK.trops"])


def test_one_row_per_point_with_intervals_equal_to_run_scenario():
    points = pd.DataFrame({"agents.UK.troops": [0, 20000, 20000],
                           "model.entry_cost": [1.0, 1.0, 2.5],
                           "structure.objection": ["saturating", "linear", "saturating"]})
    table = sim.evaluate(points, **SMALL, seed=3)
    assert list(table.columns[:3]) == list(points.columns) and len(table) == 3
    for name in DEFAULT_OUTPUTS:
        assert (table[f"{name}_ci_low"] <= table[name]).all() and (table[name] <= table[f"{name}_ci_high"]).all()
    for index, point in points.iterrows():
        scenario = sim.variant("baseline", {**point.to_dict(), **SMALL, "seed": 3})
        row = summary_row(sim.run_scenario(scenario).runs, scenario.horizon_days, scenario.name, scenario.seed)
        for column in table.columns[3:]:
            assert table.loc[index, column] == pytest.approx(row[column], abs=0, nan_ok=True), column


def test_the_same_numbers_with_two_workers_and_from_a_list_of_dicts():
    points = [{"agents.UK.troops": t, "agents.RU.troops": r} for t in (0, 30000) for r in (500_000, 700_000)]
    one = sim.evaluate(points, **SMALL, outputs=["p_agreed", "p_hold_365", "share_held"])
    two = sim.evaluate(pd.DataFrame(points), **SMALL, outputs=["p_agreed", "p_hold_365", "share_held"], workers=2)
    pd.testing.assert_frame_equal(one, two, check_dtype=False)
    assert list(one.columns) == ["agents.UK.troops", "agents.RU.troops", "p_agreed", "p_agreed_ci_low",
                                 "p_agreed_ci_high", "p_hold_365", "p_hold_365_ci_low", "p_hold_365_ci_high",
                                 "share_held"]


def test_a_path_a_dict_leaves_out_shows_the_value_it_ran_with():
    table = sim.evaluate([{"agents.UK.troops": 1}, {"structure.objection": "linear"}], replications=20,
                         horizon_days=30, structure={"objection": "principled"})
    assert table["agents.UK.troops"].tolist() == [1, sim.load_scenario("baseline").agents.UK.troops]
    assert table["structure.objection"].tolist() == ["principled", "linear"]


@pytest.mark.parametrize(("points", "options", "message"), [
    ([{"agents.UK.troop": 1}], {}, "evaluate: unknown parameter 'agents.UK.troop' (did you mean 'agents.UK.troops'?)"),
    ([{"model.entry_cst": 1}], {}, "evaluate: unknown parameter 'model.entry_cst' (did you mean 'model.entry_cost'?)"),
    ([{"agents.UK.troops": 1}, {"agents.UK.troops": -5}], {}, "evaluate: point 1: agents.UK.troops: must be >= 0"),
    ([{"agents.US.detection_probability": 1.5}], {}, "evaluate: point 0: agents.US.detection_probability: must be <="),
    ([{"agents.UK.troops": 1}], {"outputs": ["p_deal"]}, "evaluate: unknown output 'p_deal'"),
    ([{"agents.UK.troops": 1}], {"workers": 0}, "evaluate: workers: must be"),
    ({"agents.UK.troops": 1}, {}, "evaluate: points: must be a DataFrame or a list of dicts"),
])
def test_bad_input_is_one_line_naming_the_path(points, options, message):
    with pytest.raises(sim.InputError) as caught:
        sim.evaluate(points, replications=10, horizon_days=10, **options)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
