"""``sim.ScenarioModel``'s headline reporters (P(deal), P(hold at d days)) and its one Mesa agent per state."""

from __future__ import annotations

import math
import warnings

import mesa
import pytest

import sim
from sim.engine.mesa_model import AGENT_REPORTERS, HEADLINE_REPORTERS, ROLES
from sim.stats.metrics import summary_row


def test_the_headline_reporters_of_a_finished_run_are_run_scenarios():
    model = sim.ScenarioModel(worlds=200, rng=5, horizon_days=400)
    while model.running:
        model.step()
    table = model.datacollector.get_model_vars_dataframe()
    result = sim.run_scenario(sim.load_scenario("baseline", {"replications": 200, "seed": 5, "horizon_days": 400}))
    row = summary_row(result.runs, 400, "baseline", 5)
    last = table.iloc[-1]
    for name in HEADLINE_REPORTERS:
        assert last[name] == pytest.approx(row[name], abs=0), name
    assert table["p_agreed"].nunique() == 1
    assert math.isnan(table.loc[89, "p_hold_90"]) and table.loc[90:, "p_hold_90"].nunique() == 1
    assert table["p_hold_horizon"].iloc[:-1].isna().all()


def test_one_agent_per_state_with_agent_reporters():
    model = sim.ScenarioModel(worlds=100, rng=1, horizon_days=20)
    assert [agent.code for agent in model.agents] == list(ROLES)
    while model.running:
        model.step()
    agents = model.datacollector.get_agent_vars_dataframe()
    assert set(AGENT_REPORTERS) <= set(agents.columns) and len(agents) == 6 * (model.engine.day + 1)
    uk = agents.xs(1, level="AgentID")
    assert (uk["code"] == "UK").all() and uk["troops"].iloc[0] == pytest.approx(
        sim.load_scenario("baseline").agents.UK.troops)


def test_batch_run_with_seeds_and_no_agent_reporter_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = mesa.batch_run(sim.ScenarioModel, parameters={"worlds": 50, "horizon_days": 5, "seed": [1, 2]},
                              max_steps=5, number_processes=1, display_progress=False)
    assert {row["seed"] for row in rows} == {1, 2} and {"p_agreed", "troops", "code"} <= set(rows[0])
