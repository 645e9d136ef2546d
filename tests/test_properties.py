"""Properties that hold for any valid scenario, on random ones drawn by hypothesis."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.experiments.run import run_scenario
from sim.stats.metrics import CAUSES
from tests.conftest import make_scenario

probability = st.floats(0.0, 1.0)
troops = st.floats(0.0, 80_000.0)

random_overrides = st.fixed_dictionaries(
    {
        "agents.UK.troops": troops,
        "agents.FR.troops": troops,
        "agents.DE.troops": troops,
        "agents.DE.deployment_delay_days": st.integers(0, 200),
        "agents.UK.resolve": probability,
        "agents.DE.domestic_support": probability,
        "agents.US.detection_probability": probability,
        "agents.US.attribution_accuracy": probability,
        "agents.US.patience": st.floats(0.0, 5000.0),
        "agents.UA.guarantee_threshold": probability,
        "agents.UA.withdrawal_threshold": probability,
        "agents.RU.probe_rate": probability,
        "agents.RU.base_offensive_hazard": st.floats(0.0, 0.05),
        "agents.RU.provocation": st.floats(0.0, 3.0),
        "model.deterrence_weight": st.floats(0.0, 5.0),
        "model.escalation_threshold": st.floats(0.1, 20.0),
        "model.intent_variance": st.floats(0.0, 10.0),
        "model.incident_rate": st.floats(0.0, 3000.0),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=random_overrides, horizon=st.integers(1, 120), seed=st.integers(0, 2**32))
def test_any_valid_scenario_gives_consistent_tables(overrides, horizon, seed):
    scenario = make_scenario(overrides, replications=60, horizon_days=horizon, seed=seed)
    result = run_scenario(scenario)
    runs, survival, summary = result.runs, result.survival, result.summary.iloc[0]

    probabilities = survival[["p_holding", "ci_low", "ci_high"]].to_numpy()
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert np.all(survival["ci_low"] <= survival["p_holding"]) and np.all(survival["p_holding"] <= survival["ci_high"])
    assert np.all(np.diff(survival["p_holding"]) <= 0), "survival must not increase"

    assert summary["p_agreed"] == runs["agreed"].mean()
    holding_at_horizon = runs["agreed"] & runs["breakdown_day"].isna()
    assert summary["p_hold_horizon"] == holding_at_horizon.mean()
    assert survival["p_holding"].iloc[-1] == summary["p_hold_horizon"]
    shares = [summary[f"share_{c}"] for c in CAUSES]
    assert abs(sum(shares) - 1.0) < 1e-12
    assert summary["share_no_deal"] == (~runs["agreed"]).mean()

    ended = runs["breakdown_day"].notna()
    assert (runs.loc[ended, "breakdown_day"].between(1, horizon)).all()
    assert (runs.loc[~runs["agreed"], "cause"] == "no_deal").all()
    assert (runs["detected_violations"] <= runs["incidents"] + runs["probes"]).all()
    assert (runs["detected_probes"] <= runs["probes"]).all()

    trajectories = result.trajectories
    assert trajectories["n_holding"].tolist() == survival["n_holding"].tolist()
    for name in ("credibility", "detection_probability"):
        values = trajectories[[f"{name}_mean", f"{name}_p10", f"{name}_p90"]].dropna().to_numpy()
        assert np.all((values >= 0) & (values <= 1 + 1e-6))
