"""Wilson intervals, survival tables and summaries against hand-checkable and derived values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.stats.metrics import (
    CAUSES,
    HORIZON,
    P_DEAL,
    Z_95,
    grouped_holding_counts,
    headline_outcomes,
    holding_counts,
    p_hold,
    summary_row,
    survival_table,
    wilson_interval,
)


def test_wilson_interval_matches_the_closed_form():
    # Wilson (1927): for 8 successes in 10 at z = 1.96 the interval is about [0.490, 0.943]
    low, high = wilson_interval(8, 10, z=1.96)
    assert float(low) == pytest.approx(0.4902, abs=1e-4)
    assert float(high) == pytest.approx(0.9433, abs=1e-4)


def test_wilson_interval_stays_inside_zero_one_and_is_nan_for_no_trials():
    low, high = wilson_interval(np.array([0, 10, 0]), np.array([10, 10, 0]))
    assert low[0] == 0.0 and high[1] == 1.0
    assert 0 < high[0] < 0.5 and 0.5 < low[1] < 1
    assert math.isnan(low[2]) and math.isnan(high[2])


def test_wilson_interval_covers_the_true_proportion_about_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    p, n, trials = 0.3, 50, 4000
    k = rng.binomial(n, p, size=trials)
    low, high = wilson_interval(k, n)
    coverage = np.mean((low <= p) & (p <= high))
    # the coverage estimate itself has sd sqrt(.95 * .05 / 4000) ~ 0.0034; Wilson's true coverage
    # at n = 50 lies within about 0.93-0.96, so allow that range plus 4 sd of sampling error
    assert 0.93 - 4 * 0.0034 <= coverage <= 0.965 + 4 * 0.0034


def _runs(breakdowns: list[float | None], agreed: list[bool]) -> pd.DataFrame:
    breakdown = pd.array([b if b is not None else pd.NA for b in breakdowns], dtype="Int64")
    causes = ["held" if b is None else "major_offensive" for b in breakdowns]
    causes = [c if a else "no_deal" for c, a in zip(causes, agreed, strict=True)]
    return pd.DataFrame({"replication": range(len(agreed)), "agreed": agreed, "breakdown_day": breakdown,
                         "cause": causes})


def test_survival_counts_a_world_as_holding_until_its_breakdown_day():
    runs = _runs([None, 3, 5, None], [True, True, True, False])
    table = survival_table(runs, horizon_days=6)
    assert table["n_holding"].tolist() == [3, 3, 3, 2, 2, 1, 1]
    assert table["p_holding"].iloc[0] == pytest.approx(0.75)
    assert table["p_holding_given_deal"].iloc[-1] == pytest.approx(1 / 3)


def test_summary_reports_nan_beyond_the_horizon_and_shares_that_sum_to_one():
    runs = _runs([None, 3, 5, None], [True, True, True, False])
    row = summary_row(runs, horizon_days=100, scenario="t", seed=1)
    assert row["p_hold_90"] == pytest.approx(0.25)
    assert math.isnan(row["p_hold_365"])
    assert row["median_breakdown_day"] == 4
    assert sum(row[f"share_{c}"] for c in CAUSES) == pytest.approx(1.0)


def test_headline_outcomes_are_per_world_and_sum_to_the_summary():
    runs = _runs([None, 3, 5, None, 100], [True, True, True, False, True])
    outcomes = headline_outcomes(runs, horizon_days=100, days=(4, 90, 365))
    assert outcomes[P_DEAL].tolist() == [True, True, True, False, True]
    assert outcomes[p_hold(4)].tolist() == [True, False, True, False, True]  # broke on day 3: not holding on 4
    assert outcomes[p_hold(HORIZON)].tolist() == [True, False, False, False, False]  # broke on the last day
    assert p_hold(365) not in outcomes  # beyond the horizon: unknown, not "not holding"
    row = summary_row(runs, horizon_days=100, scenario="t", seed=1)
    for name in (P_DEAL, p_hold(90), p_hold(HORIZON)):
        assert row[name] == pytest.approx(outcomes[name].mean()), name
    assert (P_DEAL, p_hold(365), p_hold(HORIZON)) == ("p_agreed", "p_hold_365", "p_hold_horizon")


def test_holding_counts_by_group_are_the_counts_of_each_group():
    rng = np.random.default_rng(3)
    agreed = rng.random(200) < 0.7
    breakdowns = [float(rng.integers(0, 60)) if rng.random() < 0.5 else None for _ in range(200)]
    runs = _runs(breakdowns, agreed.tolist())
    group = rng.integers(0, 4, 200)
    held, deals = grouped_holding_counts(runs, 50, group, 5)
    assert held.shape == (5, 51) and deals.tolist()[4] == 0
    for g in range(4):
        alone, agreed_alone = holding_counts(runs[group == g], 50)
        assert held[g].tolist() == alone.tolist() and deals[g] == int(agreed_alone)


def _binomial_quantile(n: int, p: float, q: float) -> int:
    """Smallest k with P(X <= k) >= q for X ~ Binomial(n, p)."""
    cumulative = 0.0
    for k in range(n + 1):
        cumulative += math.comb(n, k) * p**k * (1 - p) ** (n - k)
        if cumulative >= q:
            return k
    return n


def test_reported_intervals_for_p_hold_365_are_honest_over_independent_seeds():
    from sim.experiments.run import run_scenario
    from tests.conftest import make_scenario

    runs, worlds = 150, 300
    estimates = [
        run_scenario(make_scenario(replications=worlds, horizon_days=365, seed=seed), record_trajectories=False)
        .summary.iloc[0]
        for seed in range(runs)
    ]
    pooled = np.mean([row["p_hold_365"] for row in estimates])
    covered = sum(row["p_hold_365_ci_low"] <= pooled <= row["p_hold_365_ci_high"] for row in estimates)
    # Wilson's actual coverage at n = 300 lies within 0.93-0.965; the count of covering runs is then
    # Binomial(150, c); accept anything a 99.9 % two-sided binomial band allows for c in that range
    low = _binomial_quantile(runs, 0.93, 0.0005)
    high = _binomial_quantile(runs, 0.965, 0.9995)
    assert low <= covered <= high, f"{covered} of {runs} intervals covered the pooled estimate"
    # coverage alone cannot catch intervals that are too wide; their width must match the spread of the
    # estimates: the sample sd of 150 estimates has a relative standard error of about 1/sqrt(2 * 149),
    # so 4 of those bound the ratio
    spread = np.std([row["p_hold_365"] for row in estimates], ddof=1)
    half_width = np.mean([(row["p_hold_365_ci_high"] - row["p_hold_365_ci_low"]) / 2 for row in estimates])
    tolerance = 4 / math.sqrt(2 * (runs - 1))
    assert abs(half_width / Z_95 / spread - 1) < tolerance
