"""Calibration by ABC-SMC (sim.experiments.calibrate.fit) and runs drawn from a posterior (sim.stats.posterior)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.errors import InputError
from sim.experiments.calibrate.fit import (
    FAILED_DIVERGENT,
    FITTED,
    LIFE_TABLE_KEYS,
    MONITORING_RUN,
    NONE_RUN,
    SCENARIO_FILE,
    STATISTIC_ITEMS,
    Settings,
    distance,
    distance_scales,
    evaluation_seed,
    observed_values,
    poisson_deviance,
    record_life_table,
    summary_statistics,
)
from sim.experiments.posterior_run import run_with_posterior
from sim.experiments.run import run_scenario
from sim.experiments.validation.anchors import ANCHORS
from sim.spec.scenario import load_scenario
from sim.stats.posterior import load_posterior

AGREED_ITEMS = {"spells_none", "spells_political", "minsk_recorded_violations_per_day"}


def test_fitting_reads_the_calibration_spells_life_table_and_the_violations_never_a_held_out_item():
    assert {item for items in STATISTIC_ITEMS.values() for item in items} == AGREED_ITEMS
    assert len(LIFE_TABLE_KEYS) == 5
    for anchor in ANCHORS:
        if anchor.key in AGREED_ITEMS:
            assert anchor.role == "calibration", anchor.key


def test_the_record_s_life_table_counts_the_primary_calibration_spells_to_five_years():
    """The figures in docs/CALIBRATION.md: 12, 9, 3, 4 and 4 failures of the 44 primary-analogue spells that
    never had a mission, in 0-90 days, 90 days-1 year, 1-2, 2-3 and 3-5 years."""
    failures, exposure = record_life_table()
    assert failures.tolist() == [12, 9, 3, 4, 4]
    assert exposure.tolist() == [3556, 6983, 8042, 6152, 9112]
    assert observed_values()[LIFE_TABLE_KEYS[0]] == pytest.approx(12 / (3556 / 365.25))


def test_summary_statistics_of_a_tiny_run_have_one_finite_value_per_statistic():
    runs = {run.key: run_scenario(load_scenario(SCENARIO_FILE, {**run.overrides, "replications": 300,
                                                                "horizon_days": run.horizon_days, "seed": 5}),
                                  record_trajectories=False) for run in (NONE_RUN, MONITORING_RUN)}
    stats = summary_statistics(runs)
    assert set(stats) == set(STATISTIC_ITEMS)
    assert all(math.isfinite(v) and v >= 0 for v in stats.values()), stats
    assert stats["minsk_recorded_violations_per_day"] > 0


def test_poisson_deviance_is_zero_at_the_mean_and_grows_away_from_it():
    assert poisson_deviance(4, 4.0) == 0.0
    assert 0 < poisson_deviance(4, 5.0) < poisson_deviance(4, 8.0)
    assert poisson_deviance(0, 2.0) == pytest.approx(4.0)  # 2 mu when nothing failed
    assert poisson_deviance(3, 0.0) == FAILED_DIVERGENT


def test_distance_is_zero_at_the_observed_values_and_grows_away_from_them():
    observed, scales = observed_values(), distance_scales()
    assert distance(observed, observed, scales) == 0.0
    for key, step in ((LIFE_TABLE_KEYS[1], 0.1), ("minsk_recorded_violations_per_day", 100.0)):
        near = distance({**observed, key: observed[key] + step}, observed, scales)
        far = distance({**observed, key: observed[key] + 3 * step}, observed, scales)
        assert 0 < near < far, key
        assert distance({**observed, key: float("nan")}, observed, scales) == FAILED_DIVERGENT


ARGUED_PILE_UPS: dict[str, str] = {"model.deterrence_weight": "**The one pile-up, argued: `deterrence_weight`.**"}
"""Fitted parameters allowed more than 20 % of their posterior weight in the outer 5 % of their prior, each with
the heading in docs/CALIBRATION.md that argues why."""


def test_no_committed_posterior_parameter_piles_against_a_bound_of_its_prior():
    """Issue 23: no parameter of seeds/posterior/ has more than 20 % of its weight in the top or bottom 5 % of its
    prior range (on the scale the prior is uniform on), unless docs/CALIBRATION.md argues it."""
    from sim.experiments.calibrate.fit import fitted_coordinates, learning
    from sim.stats.posterior import DEFAULT_POSTERIOR

    table = pd.read_csv(DEFAULT_POSTERIOR)
    fitted = [c for c in table.columns if c not in ("weight", "distance")]
    assert set(fitted) == set(FITTED)
    documented = Path(__file__).resolve().parents[1].joinpath("docs", "CALIBRATION.md").read_text(encoding="utf-8")
    for coordinate in fitted_coordinates(fitted):
        taught = learning(coordinate, table[coordinate.path].to_numpy(float), table["weight"].to_numpy(float))
        piled = max(taught["weight_bottom_5pct"], taught["weight_top_5pct"])
        if coordinate.path in ARGUED_PILE_UPS:
            assert ARGUED_PILE_UPS[coordinate.path] in documented
        else:
            assert piled <= 0.2, (coordinate.path, taught)


def test_learning_measures_a_pile_up_and_a_prior_like_sample():
    from sim.experiments.calibrate.fit import fitted_coordinates, learning

    coordinate = fitted_coordinates(["model.institution_effect"])[0]  # uniform [0, 5]
    flat = learning(coordinate, np.linspace(0.0, 5.0, 1001), np.ones(1001))
    assert flat["width_ratio"] == pytest.approx(1.0, abs=0.01)
    assert flat["weight_top_5pct"] == pytest.approx(0.05, abs=0.002)
    assert flat["information_bits"] == pytest.approx(0.0, abs=0.01)
    piled = learning(coordinate, np.linspace(4.8, 5.0, 101), np.ones(101))
    assert piled["weight_top_5pct"] > 0.99 and piled["information_bits"] > 3.0


def test_evaluation_seed_depends_on_the_parameters_not_on_their_order():
    a = evaluation_seed(1, {"x": 0.5, "y": 2.0})
    assert a == evaluation_seed(1, {"y": 2.0, "x": 0.5})
    assert a != evaluation_seed(1, {"x": 0.5, "y": 2.0000001})
    assert a != evaluation_seed(2, {"x": 0.5, "y": 2.0})


TINY = Settings(particles=10, generations=1, worlds=40, seed=11, violation_worlds=20)


@pytest.fixture(scope="module")
def tiny_calibration(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("pyabc", reason="pyabc not installed (pip install 'ceasefire[calibrate]'); CI installs it")
    from sim.experiments.calibrate.fit import run_calibration
    from sim.outputs.artefacts import save

    calibration = run_calibration(TINY)
    out = save(calibration.artefacts(), tmp_path_factory.mktemp("calib") / "posterior", ["test"])
    return calibration, out


def test_tiny_abc_run_writes_a_posterior_whose_weights_sum_to_one(tiny_calibration):
    calibration, out = tiny_calibration
    table = pd.read_csv(out / "posterior.csv")
    assert len(table) == TINY.particles
    assert set(FITTED) <= set(table.columns)
    assert table["weight"].sum() == pytest.approx(1.0)
    assert (out / "posterior.png").stat().st_size > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "calibrate" and "kind" not in manifest
    assert manifest["figures"] == ["posterior.png"] and manifest["settings"]["particles"] == TINY.particles
    assert set(manifest["files"]) == {"posterior.csv", "posterior_summary.csv", "populations.csv", "posterior.png"}
    posterior = load_posterior(out / "posterior.csv")  # what calibrate writes, run and sweep can read
    assert list(posterior.parameters.columns) == list(FITTED)


def test_the_posterior_figure_is_drawn_again_from_the_tables_alone(tiny_calibration, tmp_path):
    """``ceasefire plot`` redraws posterior.png from posterior.csv and posterior_summary.csv."""
    from sim.outputs.artefacts import redraw

    _, out = tiny_calibration
    copy = tmp_path / "posterior"
    shutil.copytree(out, copy)
    (copy / "posterior.png").unlink()
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"].pop("posterior.png")
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert redraw(copy, ["posterior.png"]) == ["posterior.png"]
    assert (copy / "posterior.png").read_bytes() == (out / "posterior.png").read_bytes()


def test_tiny_abc_run_is_reproducible_with_one_worker(tiny_calibration):
    from sim.experiments.calibrate.fit import run_calibration

    again = run_calibration(TINY)
    pd.testing.assert_frame_equal(again.posterior, tiny_calibration[0].posterior)


def test_the_posterior_is_the_same_whatever_the_batch_size_and_workers(tiny_calibration):
    """Batches of 3 (so a generation ends part-way through a batch) on 2 workers, against batches of 1
    on one: pyabc's proposals are drawn in the same order and the overshoot is undone."""
    from dataclasses import replace

    from sim.experiments.calibrate.fit import run_calibration

    settings = replace(TINY, generations=2)
    one = run_calibration(replace(settings, batch=1))
    packed = run_calibration(replace(settings, batch=3, workers=2))
    pd.testing.assert_frame_equal(one.posterior, packed.posterior)
    pd.testing.assert_frame_equal(one.populations, packed.populations)


def _posterior_file(tmp_path: Path, columns: dict[str, object]) -> Path:
    path = tmp_path / "posterior.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("columns, message", [
    ({"model.no_such_thing": [1.0], "weight": [1.0]}, "model.no_such_thing': unknown parameter column"),
    ({"model.intent_variance": [1.0, 2.0], "weight": [1.0, -0.5]}, "weight: must be >= 0"),
    ({"model.spoiler_rate": [0.5, 1.5], "weight": [1.0, 1.0]}, "model.spoiler_rate: must be <= 1"),
    ({"model.intent_variance": [1.0], "weight": [0.0]}, "weight: weights must sum to more than 0"),
    ({"model.intent_variance": [1.0]}, "weight: column is missing"),
])
def test_load_posterior_rejects_a_bad_file_in_one_line(tmp_path, columns, message):
    with pytest.raises(InputError) as caught:
        load_posterior(_posterior_file(tmp_path, columns))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def _scenario(replications: int = 4000):
    return load_scenario(SCENARIO_FILE.parent / "baseline.yaml",
                         {"replications": replications, "horizon_days": 90, "seed": 3})


def test_a_posterior_on_one_point_gives_a_plain_run_statistically(tmp_path):
    point = {"model.offensive_ceiling": [0.02] * 3, "weight": [1.0, 2.0, 1.0]}
    posterior = load_posterior(_posterior_file(tmp_path, point))
    pooled = run_with_posterior(_scenario(), posterior, draws=4).result.summary.iloc[0]
    plain = run_scenario(load_scenario(SCENARIO_FILE.parent / "baseline.yaml", {
        "replications": 4000, "horizon_days": 90, "seed": 99, "model.offensive_ceiling": 0.02,
    }), record_trajectories=False).summary.iloc[0]
    se = math.sqrt(2 * plain["p_hold_90"] * (1 - plain["p_hold_90"]) / 4000)
    assert abs(pooled["p_hold_90"] - plain["p_hold_90"]) < 4 * se
    assert pooled["p_hold_90_parameter_sd"] < 0.02  # only Monte Carlo noise between draws
    assert pooled["interval"] == "parameters+monte_carlo"


def test_a_spread_posterior_widens_the_interval_beyond_monte_carlo(tmp_path):
    # parameters that act in the default structure (the choice form's ceiling, the two types' hawk share)
    spread = {"model.offensive_ceiling": np.geomspace(0.003, 0.03, 8),
              "model.hawk_share": np.linspace(0.1, 0.6, 8), "weight": np.ones(8)}
    posterior = load_posterior(_posterior_file(tmp_path, spread))
    row = run_with_posterior(_scenario(), posterior, draws=8).result.summary.iloc[0]
    width = row["p_hold_90_ci_high"] - row["p_hold_90_ci_low"]
    mc_width = row["p_hold_90_mc_ci_high"] - row["p_hold_90_mc_ci_low"]
    assert width > 1.5 * mc_width
    assert row["p_hold_90_parameter_sd"] > 0


def test_posterior_runs_do_not_depend_on_the_worker_count(tmp_path):
    spread = {"model.intent_variance": [0.5, 3.0, 6.0], "weight": [1.0, 1.0, 1.0]}
    posterior = load_posterior(_posterior_file(tmp_path, spread))
    scenario = load_scenario(SCENARIO_FILE.parent / "baseline.yaml", {"replications": 300, "horizon_days": 30})
    one = run_with_posterior(scenario, posterior, draws=3, workers=1)
    two = run_with_posterior(scenario, posterior, draws=3, workers=2)
    pd.testing.assert_frame_equal(one.result.runs, two.result.runs)


def test_a_posterior_choice_refuses_more_draws_than_half_the_worlds_before_running(tmp_path):
    import argparse

    from sim.cli.common import posterior_choice

    scenario = load_scenario(SCENARIO_FILE.parent / "baseline.yaml", {"replications": 5, "horizon_days": 10})
    assert posterior_choice(argparse.Namespace(posterior=None, draws=None), scenario) is None
    path = _posterior_file(tmp_path, {"model.intent_variance": [1.0], "weight": [1.0]})
    with pytest.raises(InputError, match="--draws: must be between 1 and 2, half the worlds"):
        posterior_choice(argparse.Namespace(posterior=str(path), draws=3), scenario)


def test_a_posterior_run_folder_says_its_intervals_include_parameters(tmp_path):
    import json

    from sim.outputs.artefacts import save

    posterior = load_posterior(_posterior_file(tmp_path, {"model.intent_variance": [1.0, 4.0], "weight": [1, 1]}))
    scenario = load_scenario(SCENARIO_FILE.parent / "baseline.yaml", {"replications": 200, "horizon_days": 30})
    out = save(run_with_posterior(scenario, posterior, draws=2).artefacts(), tmp_path / "run", ["test"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["interval"] == "parameters+monte_carlo" and manifest["posterior"]["draws"] == 2
    assert set(pd.read_csv(out / "summary.csv")["interval"]) == {"parameters+monte_carlo"}
    assert (out / "survival.png").exists() and len(pd.read_csv(out / "draws.csv")) == 2


def _calibrate_args(*argv: str):
    import argparse

    from sim.cli.calibrate import add_calibrate_commands

    parser = argparse.ArgumentParser()
    add_calibrate_commands(parser.add_subparsers())
    return parser.parse_args(["calibrate", *argv])


def test_calibrate_quick_settings_and_bad_sizes_are_refused_in_one_line():
    from sim.cli.calibrate import settings_from_args
    from sim.experiments.calibrate.fit import QUICK

    assert settings_from_args(_calibrate_args("--quick")) == QUICK
    assert settings_from_args(_calibrate_args("--quick", "--generations", "7")).generations == 7
    with pytest.raises(InputError, match="--particles: must be >= 1"):
        settings_from_args(_calibrate_args("--particles", "0"))


def test_calibrate_refuses_a_folder_it_did_not_write_before_any_simulation(tmp_path, monkeypatch):
    import sim.experiments.calibrate.fit

    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setattr(sim.experiments.calibrate.fit, "run_calibration", lambda *a, **k: pytest.fail("simulated"))
    args = _calibrate_args("--quick", "--out", str(tmp_path))
    with pytest.raises(InputError, match="did not write"):
        args.handler(args, [])
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_calibrate_takes_a_structure_and_simulates_in_it(monkeypatch):
    import sim.experiments.calibrate.fit
    from sim.cli.calibrate import settings_from_args

    settings = settings_from_args(_calibrate_args("--quick", "--structure", "escalation=threshold"))
    assert settings.structure == (("escalation", "threshold"),)
    seen = {}

    def capture(path, overrides):
        seen.update(overrides)
        raise InputError("stop here")

    monkeypatch.setattr(sim.experiments.calibrate.fit, "load_scenario", capture)
    with pytest.raises(InputError, match="stop here"):
        sim.experiments.calibrate.fit.simulate({}, settings)
    assert seen["structure.escalation"] == "threshold"
    with pytest.raises(InputError, match="unknown form"):
        settings_from_args(_calibrate_args("--structure", "escalation=cliff"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_calibrate_writes_to_results_by_default_and_never_into_the_committed_posterior(monkeypatch, capsys):
    """seeds/posterior/ is project data (what --posterior reads without FILE): no command writes it."""
    import sim.experiments.calibrate.fit
    from sim.cli.main import main
    from sim.core.bundled import checkout_root

    assert _calibrate_args().out == Path("results/calibrate")
    committed = checkout_root() / "seeds" / "posterior"
    before = snapshot(committed)
    monkeypatch.setattr(sim.experiments.calibrate.fit, "run_calibration", lambda *a, **k: pytest.fail("simulated"))
    assert main(["calibrate", "--quick", "--out", str(committed)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds the project's committed data (seeds/)" in err
    assert snapshot(committed) == before


def test_a_file_planted_in_a_calibrate_folder_survives_a_rerun(tiny_calibration, tmp_path, monkeypatch, capsys):
    """Planted before the rerun: refused before any simulation. Planted while it runs: nothing is replaced."""
    import sim.experiments.calibrate.fit
    from sim.cli.main import main

    calibration, out = tiny_calibration
    folder = tmp_path / "posterior"
    shutil.copytree(out, folder)
    argv = ["calibrate", "--particles", "10", "--generations", "1", "--worlds", "50", "--quiet", "--out", str(folder)]
    (folder / "notes.txt").write_text("mine")
    before = snapshot(folder)
    monkeypatch.setattr(sim.experiments.calibrate.fit, "run_calibration", lambda *a, **k: pytest.fail("simulated"))
    assert main(argv) == 2
    assert "holds a file ceasefire did not write: notes.txt" in capsys.readouterr().err
    assert snapshot(folder) == before

    (folder / "notes.txt").unlink()
    before = snapshot(folder)

    def planting(*args, **kwargs):
        (folder / "planted.txt").write_text("mine too")
        return calibration

    monkeypatch.setattr(sim.experiments.calibrate.fit, "run_calibration", planting)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not write: planted.txt" in err
    assert snapshot(folder) == {**before, "planted.txt": b"mine too"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior"]


def test_the_figure_reads_the_priors_from_the_summary_table_and_refuses_a_damaged_one():
    from sim.outputs.plots.calibrate import prior_bounds
    from sim.outputs.plots.runs import PlotInputError

    assert prior_bounds("uniform [0.5, 4]", "t") == (False, 0.5, 4.0)
    assert prior_bounds("loguniform [0.001, 10]", "t") == (True, -3.0, 1.0)
    for damaged in ("normal [0, 1]", "uniform [4, 0.5]", "loguniform [0, 1]", "uniform [a, b]", float("nan")):
        with pytest.raises(PlotInputError, match="^t: prior: "):
            prior_bounds(damaged, "t")
