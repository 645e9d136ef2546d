"""Fair discrimination (issue 23 item 5): every model is refitted on the calibration evidence before its held-out
fit is compared (sim.experiments.validation.recalibrate and .discrimination)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from sim.experiments.calibrate import fit
from sim.experiments.validation import discrimination, recalibrate
from sim.experiments.validation.variants import DEFAULT, DISCRIMINATED, RIVAL_STRUCTURES, VARIANTS, variant
from sim.mechanisms import MECHANISMS
from sim.spec.scenario import get_path

TINY = fit.Settings(particles=6, generations=1, worlds=30, violation_worlds=10, seed=3)


def test_a_variant_s_own_overrides_are_held_fixed_and_not_fitted():
    no_deterrence = variant("troops_dont_deter")
    assert "model.deterrence_weight" in fit.FITTED
    assert "model.deterrence_weight" not in recalibrate.fitted_for(no_deterrence)
    assert recalibrate.fitted_for(DEFAULT) == fit.FITTED


def test_the_fixed_overrides_and_the_structure_reach_both_calibration_runs():
    cliff = variant("escalation_cliff_5")
    overrides = tuple(sorted(recalibrate.calibration_overrides(cliff).items()))
    scenarios = fit.evaluation_scenarios({"model.incident_rate": 2000.0}, replace(TINY, overrides=overrides))
    assert set(scenarios) == {run.key for run in fit.RUNS}
    for scenario in scenarios.values():
        assert scenario.structure.escalation == "threshold"
        assert get_path(scenario.model_dump(), "model.escalation_threshold") == 5.0
        assert get_path(scenario.model_dump(), "model.incident_rate") == 2000.0
    assert get_path(scenarios["none"].model_dump(), "agents.US.detection_probability") == 0.0
    assert get_path(scenarios["monitoring"].model_dump(), "agents.US.detection_probability") > 0.0


def test_every_rival_form_of_every_mechanism_is_discriminated_one_at_a_time():
    expected = {(name, form) for name, mechanism in MECHANISMS.items() for form in mechanism.forms
                if form != mechanism.default}
    assert {(key, value) for v in RIVAL_STRUCTURES for key, value in
            ((path.removeprefix("structure."), form) for path, form in v.set.items())} == expected
    assert all(len(v.set) == 1 and not v.scale for v in RIVAL_STRUCTURES)
    assert (*VARIANTS, *RIVAL_STRUCTURES) == DISCRIMINATED
    assert all(variant(v.key) is v for v in RIVAL_STRUCTURES)


@pytest.mark.parametrize("rival", RIVAL_STRUCTURES, ids=lambda v: v.key)
def test_every_rival_structure_builds_both_calibration_runs_in_its_own_form(rival):
    (path, form), = rival.set.items()
    overrides = tuple(sorted(recalibrate.calibration_overrides(rival).items()))
    scenarios = fit.evaluation_scenarios({}, replace(TINY, overrides=overrides,
                                                     fitted=recalibrate.fitted_for(rival)))
    for scenario in scenarios.values():
        assert get_path(scenario.model_dump(), path) == form


def test_recalibrate_hands_the_fitted_medians_and_the_fixed_values_to_the_variant(monkeypatch):
    seen = {}

    def fake_calibration(settings, executor=None):
        seen["settings"] = settings
        coordinates = fit.fitted_coordinates(settings.fitted)
        posterior = pd.DataFrame({c.path: [c.prior.low, c.prior.high] for c in coordinates})
        posterior["weight"], posterior["distance"] = [0.5, 0.5], [3.0, 5.0]
        return fit.Calibration(posterior, pd.DataFrame(), settings, {}, {}, 0.0, coordinates)

    monkeypatch.setattr(fit, "run_calibration", fake_calibration)
    refit = recalibrate.recalibrate(variant("troops_dont_deter"), TINY)
    assert dict(seen["settings"].overrides)["model.deterrence_weight"] == 0.0
    assert "model.deterrence_weight" not in seen["settings"].fitted
    assert refit.model.set["model.deterrence_weight"] == 0.0
    assert set(refit.fitted) == set(seen["settings"].fitted)
    assert all(path in refit.model.set for path in refit.fitted)
    assert refit.median_distance == pytest.approx(4.0)
    assert refit.posterior is not None and set(refit.fitted) <= set(refit.posterior.columns)


def test_a_refitted_model_s_held_out_hazards_are_drawn_over_its_posterior(monkeypatch):
    """Every world of a mapped scenario runs a particle of the refitted posterior: two particles far apart give
    worlds with both values, so the hazards are posterior predictive, not those of one plug-in point."""
    from sim.experiments.validation import power

    seen = []

    def capture(scenarios, streams, workers=1, world_values=None, **_):
        seen.append(world_values[0])
        return [pd.DataFrame({"agreed": [False] * scenarios[0].replications,
                              "breakdown_day": pd.array([pd.NA] * scenarios[0].replications, dtype="Int64")})]

    monkeypatch.setattr("sim.engine.packing.run_packed", capture)
    posterior = pd.DataFrame({"model.incident_rate": [600.0, 4000.0], "weight": [0.5, 0.5]})
    power.simulate_model(DEFAULT, scale=0.01, posterior=posterior)
    assert len(seen) == 3
    assert {600.0, 4000.0} <= set(seen[0]["model.incident_rate"].tolist())


@pytest.fixture(scope="module")
def tiny_discrimination():
    pytest.importorskip("pyabc", reason="pyabc not installed (pip install 'ceasefire[calibrate]'); CI installs it")
    return discrimination.discriminate(variants_=(variant("monitoring_does_nothing"), variant("presence=switch")),
                                       settings=TINY, scale=0.01, spell_scale=0.01)


def test_a_tiny_discrimination_recalibrates_both_models_and_compares_them(tiny_discrimination):
    summary, refits = tiny_discrimination
    assert list(summary["variant"]) == ["default", "monitoring_does_nothing", "presence=switch"]
    assert list(summary["kind"]) == ["default", "wrong_variant", "rival_structure"]
    assert set(refits["variant"]) == {"default", "monitoring_does_nothing", "presence=switch"}
    wrong = summary.iloc[1]
    assert 0.0 <= wrong["p_variant"] <= 1.0 and 0.0 <= wrong["p_default"] <= 1.0
    assert wrong["variant_rejected"] == (wrong["p_variant"] < 0.05)
    assert wrong["observed_llr_se"] >= 0.0
    assert summary["p_variant_holm"].iloc[1:].tolist() == pytest.approx(
        discrimination.holm(summary["p_variant"].iloc[1:].tolist()).tolist())
    text = discrimination.discrimination_markdown(summary)
    assert "`monitoring_does_nothing`" in text and "recalibrated" in text
    rows = text.splitlines()
    assert rows.index("| *rival structures: one mechanism in another form* | | | | | | |") \
        == rows.index(next(r for r in rows if r.startswith("| `presence=switch`"))) - 1


def test_holm_adjusts_step_down_over_the_models_compared_only():
    # sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 4 x 0.005, 3 x 0.01, then max(2 x 0.03, 1 x 0.04) kept monotone
    adjusted = discrimination.holm([0.01, 0.04, 0.03, float("nan"), 0.005])
    assert list(adjusted[[0, 1, 2, 4]]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert pd.isna(adjusted[3])
    assert discrimination.holm([0.6, 0.9]).tolist() == [1.0, 1.0]  # capped at 1
    table = pd.DataFrame({"variant": ["default", "a", "b", "c"], "note": ["", "", "not run: x", ""],
                          "p_variant": [None, 0.01, 0.001, 0.02], "p_default": [None, 0.5, 0.5, 0.02]})
    with_holm = discrimination.with_holm(table)
    # the default and the model not run are not in the family: m = 2
    assert with_holm["p_variant_holm"].tolist()[1:] == pytest.approx([0.02, float("nan"), 0.02], nan_ok=True)
    assert with_holm["p_default_holm"].tolist()[3] == pytest.approx(0.04)
