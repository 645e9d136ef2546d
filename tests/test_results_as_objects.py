"""Results as objects in a notebook: plot helpers take ``RunResult``s, a short ``repr`` and an HTML table, and
``sim.load_scenario`` names a scenario after its overrides."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

import sim
from sim.api import MAX_NAME, override_name

SMALL = {"replications": 120, "horizon_days": 400}


@pytest.fixture(scope="module")
def two_runs() -> tuple[sim.RunResult, sim.RunResult]:
    base = sim.run_scenario(sim.load_scenario("baseline", SMALL))
    more = sim.run_scenario(sim.load_scenario("baseline", {**SMALL, "agents.UK.troops": 20000}))
    return base, more


def test_a_scenario_is_named_after_its_parameter_overrides():
    assert sim.load_scenario("baseline", {"agents.UK.troops": 20000}).name == "baseline+agents.UK.troops=20000"
    assert sim.load_scenario("baseline", {"structure.objection": "linear", "model.entry_cost": 2.5}).name == \
        "baseline+structure.objection=linear+model.entry_cost=2.5"
    assert sim.load_scenario("baseline", {"agents.UK.troops": 1}, name="mine").name == "mine"
    assert sim.load_scenario("baseline", {"replications": 50, "seed": 4}).name == "baseline"  # how much, not what
    assert sim.load_scenario("baseline").name == "baseline"


def test_long_override_names_stay_valid_and_distinct():
    many = {f"model.{name}": 0.5 for name in ("entry_cost", "air_weight", "maritime_weight", "joint_calming",
                                              "spoiler_escalation", "spiral_slope")}
    names = {override_name("baseline", many), override_name("baseline", {**many, "model.entry_cost": 0.25})}
    assert len(names) == 2 and all(len(name) <= MAX_NAME for name in names)
    assert sim.load_scenario("baseline", many).name in names


def test_plots_take_results_and_lists_of_them(two_runs):
    base, more = two_runs
    for figure in (sim.plot_survival(base), sim.plot_survival([base, more]), sim.plot_compare([base, more]),
                   sim.plot_compare(base), sim.plot_compare([base, ("by hand", more.survival)]),
                   sim.plot_trajectories(base), sim.plot_causes(base)):
        assert isinstance(figure, Figure)
    legend = [t.get_text() for t in sim.plot_compare([base, more]).axes[0].get_legend().get_texts()]
    assert legend[0].startswith("baseline (N=") and legend[1].startswith("baseline+agents.UK.troops=20000 (N=")
    twice = [t.get_text() for t in sim.plot_compare([base, base]).axes[0].get_legend().get_texts()]
    assert twice[0].startswith("baseline #1") and twice[1].startswith("baseline #2")
    assert "baseline:" in sim.plot_survival(base).axes[0].get_title()


def test_the_plots_still_take_tables(two_runs, tmp_path):
    base, _ = two_runs
    assert isinstance(sim.plot_survival(base.survival, "named", path=tmp_path / "s.png"), Figure)
    assert (tmp_path / "s.png").stat().st_size > 0
    assert isinstance(sim.plot_compare([("a", base.survival)]), Figure)


def test_a_short_repr_and_a_notebook_table(two_runs):
    base, more = two_runs
    text = repr(more)
    assert len(text) < 300 and "\n" not in text
    assert text.startswith("<RunResult baseline+agents.UK.troops=20000: 120 worlds x 400 days")
    assert "P(deal) " in text and "P(hold 1 y) " in text
    page = base._repr_html_()
    assert page.count("<tr>") == 1 + 5 and "P(hold 1 y | deal)" in page and "95 % interval" in page
