"""sim.stats.survival on synthetic durations (and hand-computed examples): life table, Kaplan-Meier,
piecewise-exponential and Weibull likelihoods with left truncation and censoring. No real data here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from sim.stats import survival

BREAKS = np.array([0.0, 91.0, 365.0, 730.0])
HAZARDS = np.array([0.006, 0.002, 0.0008, 0.0003])
"""A falling piecewise-constant hazard per day, like a ceasefire's."""


def cumulative_hazard(days: np.ndarray, breaks: np.ndarray = BREAKS, hazards: np.ndarray = HAZARDS) -> np.ndarray:
    ends = np.append(breaks[1:], np.inf)
    return np.sum(hazards * np.clip(np.minimum(np.asarray(days, float)[:, None], ends) - breaks, 0, None), axis=1)


def inverse_cumulative_hazard(target: np.ndarray) -> np.ndarray:
    at_breaks = cumulative_hazard(BREAKS)
    k = np.searchsorted(at_breaks, target, side="right") - 1
    return BREAKS[k] + (target - at_breaks[k]) / HAZARDS[k]


def simulate_piecewise(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left-truncated (entry 0-400 days, half at 0), right-censored piecewise-exponential durations."""
    rng = np.random.default_rng(seed)
    entry = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 400, n))
    failure = inverse_cumulative_hazard(cumulative_hazard(entry) + rng.exponential(1.0, n))
    censor = entry + rng.uniform(1, 3000, n)
    return entry, np.minimum(failure, censor), (failure <= censor).astype(int)


def simulate_weibull(n: int, shape: float, scale: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left-truncated, right-censored Weibull durations in days: T | T > entry by the cumulative hazard."""
    rng = np.random.default_rng(seed)
    entry = np.where(rng.random(n) < 0.6, 0.0, rng.uniform(0, 300, n))
    failure = scale * ((entry / scale) ** shape + rng.exponential(1.0, n)) ** (1 / shape)
    censor = entry + rng.uniform(1, 4000, n)
    return entry, np.minimum(failure, censor), (failure <= censor).astype(int)


# --------------------------------------------------------------------------- life table


def test_life_table_recovers_the_hazards_within_a_poisson_interval():
    """Given the days at risk, each interval's failure count is Poisson(h_k E_k) (the piecewise-exponential
    likelihood is the Poisson one); all four must fall in their 99.9 % family-wise (Bonferroni) interval."""
    entry, exit_, event = simulate_piecewise(4000, seed=11)
    table = survival.life_table(entry, exit_, event, BREAKS)
    expected = HAZARDS * table["exposure_days"].to_numpy()
    alpha = 0.001 / len(BREAKS)
    low, high = stats.poisson.ppf(alpha / 2, expected), stats.poisson.ppf(1 - alpha / 2, expected)
    assert ((table["failures"] >= low) & (table["failures"] <= high)).all()
    assert table["failures"].sum() == event.sum()
    assert np.isclose(table["exposure_days"].sum(), (exit_ - entry).sum())
    assert np.allclose(table["failures_per_year"], table["failures"] / table["exposure_days"] * 365.25)


def test_life_table_counts_exposure_from_entry_and_a_failure_on_a_break_in_the_interval_it_ends():
    #                entry   exit  event
    rows = np.array([[0, 91, 1],      # fails on the break: first interval
                     [50, 200, 0],    # left-truncated: 41 days in the first interval, 109 in the second
                     [91, 100, 1],    # enters on the break: all in the second interval
                     [400, 500, 1]])  # only in the third
    table = survival.life_table(rows[:, 0], rows[:, 1], rows[:, 2], [0, 91, 365])
    assert table["failures"].tolist() == [1, 1, 1]
    assert table["exposure_days"].tolist() == [91 + 41, 109 + 9, 100]
    assert table["at_risk_start"].tolist() == [1, 2, 0]
    assert np.isinf(table["end_day"].iloc[-1])


def test_life_table_interval_is_garwoods():
    table = survival.life_table([0, 0], [365.25, 365.25], [0, 0], [0])
    assert table["failures_per_year"].iloc[0] == 0 and table["rate_low"].iloc[0] == 0
    assert table["rate_high"].iloc[0] == pytest.approx(-np.log(0.025) / 2, rel=1e-9)  # 0 failures, 2 years


@pytest.mark.parametrize("breaks", [[1, 2], [0, 5, 5], [0, np.inf], []])
def test_breaks_must_start_at_zero_and_increase(breaks):
    with pytest.raises(ValueError, match="breaks_days"):
        survival.life_table([0], [1], [1], breaks)


@pytest.mark.parametrize(("entry", "exit_", "event"), [([2], [2], [1]), ([-1], [3], [0]), ([0], [3], [2]),
                                                       ([0, 1], [3], [0])])
def test_bad_durations_are_refused(entry, exit_, event):
    with pytest.raises(ValueError):
        survival.kaplan_meier(entry, exit_, event)


# --------------------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_by_hand_with_left_truncation():
    """Failures on days 2 and 4. Day 2: at risk A, B, C, D (E enters on day 3) -> S = 3/4.
    Day 4: C, D, E (A failed, B censored on day 3) -> S = 3/4 * 1/3 = 1/4.
    Greenwood: S^2 * (1/(4*3) + 2/(3*1)) = 1/16 * 3/4."""
    entry = [0, 0, 1, 0, 3]
    exit_ = [2, 3, 4, 4, 5]
    event = [1, 0, 1, 1, 0]
    table = survival.kaplan_meier(entry, exit_, event)
    assert table["day"].tolist() == [0, 2, 4]
    assert table["at_risk"].tolist() == [3, 4, 3]  # day 0: entry <= 0 < exit (A, B, D)
    assert table["survival"].tolist() == pytest.approx([1, 3 / 4, 1 / 4])
    assert table["greenwood_variance"].tolist() == pytest.approx([0, (9 / 16) / 12, (1 / 16) * (3 / 4)])
    s, sigma = 0.25, np.sqrt(0.75) / abs(np.log(0.25))
    z = stats.norm.ppf(0.975)
    assert table["ci_low"].iloc[2] == pytest.approx(s ** np.exp(z * sigma))
    assert table["ci_high"].iloc[2] == pytest.approx(s ** np.exp(-z * sigma))


def test_a_split_spell_is_counted_once_on_its_split_day():
    """Spell 1 split on day 2 into (0, 2] and (2, 5]; spell 2 fails on day 2: risk set of 3, not 4."""
    table = survival.kaplan_meier([0, 2, 0, 0], [2, 5, 2, 6], [0, 1, 1, 0])
    assert table.loc[table["day"] == 2, "at_risk"].item() == 3
    assert table.loc[table["day"] == 2, "survival"].item() == pytest.approx(2 / 3)


def test_kaplan_meier_survival_reaching_zero_has_no_interval():
    table = survival.kaplan_meier([0, 0], [1, 2], [1, 1])
    assert table["survival"].tolist() == [1, 0.5, 0]
    assert np.isnan(table["ci_low"].iloc[-1]) and table["greenwood_variance"].iloc[-1] == 0


def test_kaplan_meier_matches_lifelines():
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(5)
    entry = np.floor(rng.uniform(0, 50, 300))  # whole days, so entries tie with failures
    failure = entry + np.ceil(rng.exponential(200, 300))
    censor = np.maximum(np.ceil(rng.uniform(0, 800, 300)), entry + 1)
    event = (failure <= censor).astype(int)
    exit_ = np.where(event == 1, failure, censor)
    ours = survival.kaplan_meier(entry, exit_, event)
    fitter = lifelines.KaplanMeierFitter().fit(exit_, event, entry=entry)
    theirs = fitter.survival_function_at_times(ours["day"]).to_numpy()
    bounds = fitter.confidence_interval_survival_function_.reindex(ours["day"]).to_numpy()
    assert ours["survival"].to_numpy() == pytest.approx(theirs, abs=1e-12)
    assert ours["ci_low"].to_numpy() == pytest.approx(bounds[:, 0], abs=1e-12)
    assert ours["ci_high"].to_numpy() == pytest.approx(bounds[:, 1], abs=1e-12)


# --------------------------------------------------------------------------- piecewise exponential


def brute_force_loglik(entry, exit_, event, breaks, hazards) -> float:
    """Sum of log f(t)/S(entry) or log S(t)/S(entry), the cumulative hazard by numerical quadrature."""
    edges, ends = np.asarray(breaks, float), np.append(np.asarray(breaks[1:], float), np.inf)

    def hazard(t: float) -> float:
        return float(hazards[np.searchsorted(edges, t, side="left") - 1])

    total = 0.0
    for start, stop, failed in zip(entry, exit_, event, strict=True):
        inside = [b for b in (*edges, *ends) if start < b < stop]
        integral, _ = integrate.quad(hazard, start, stop, points=inside or None, limit=200)
        total += (np.log(hazard(stop)) if failed else 0.0) - integral
    return total


def test_piecewise_loglik_equals_a_brute_force_integral():
    entry = np.array([0, 0, 30, 100, 0, 95])
    exit_ = np.array([12.5, 91, 400, 350, 800, 96])
    event = np.array([1, 1, 0, 1, 0, 1])
    breaks, hazards = [0, 91, 365], np.array([0.01, 0.003, 0.0005])
    exact = survival.piecewise_exponential_loglik(entry, exit_, event, breaks, hazards)
    assert exact == pytest.approx(brute_force_loglik(entry, exit_, event, breaks, hazards), rel=1e-10)


def test_piecewise_loglik_is_largest_at_failures_over_exposure():
    entry, exit_, event = simulate_piecewise(500, seed=3)
    best = survival.piecewise_exponential_mle(entry, exit_, event, BREAKS)
    failures, exposure = survival.failures_and_exposure(entry, exit_, event, BREAKS)
    assert best == pytest.approx(failures / exposure)
    top = survival.piecewise_exponential_loglik(entry, exit_, event, BREAKS, best)
    for k in range(len(BREAKS)):
        for factor in (0.9, 0.99, 1.01, 1.1):
            moved = best.copy()
            moved[k] *= factor
            assert survival.piecewise_exponential_loglik(entry, exit_, event, BREAKS, moved) < top


def test_piecewise_loglik_impossible_cases():
    assert survival.piecewise_exponential_loglik([0], [100], [1], [0, 91], [0.01, 0.0]) == -np.inf
    assert survival.piecewise_exponential_loglik([0], [50], [0], [0, 91], [0.01, 0.0]) == pytest.approx(-0.5)
    assert survival.piecewise_exponential_loglik([0], [100], [0], [0, 91], [0.01, np.inf]) == -np.inf
    with pytest.raises(ValueError, match="one per break"):
        survival.piecewise_exponential_loglik([0], [1], [1], [0, 91], [0.01])


def test_censor_at_a_horizon():
    entry, exit_, event = survival.censor_at([0, 0, 50, 120], [30, 200, 90, 150], [1, 1, 1, 0], 100)
    assert entry.tolist() == [0, 0, 50]
    assert exit_.tolist() == [30, 100, 90]
    assert event.tolist() == [1, 0, 1]


# --------------------------------------------------------------------------- from a model's survival curve


def test_hazards_from_an_exact_curve_are_the_true_hazards():
    days = np.arange(0, 1001)
    curve = np.exp(-cumulative_hazard(days))
    assert survival.hazards_from_survival_curve(days, curve, BREAKS) == pytest.approx(HAZARDS, rel=1e-9)


def test_loglik_from_an_exact_curve_equals_the_piecewise_loglik():
    entry, exit_, event = survival.censor_at(*simulate_piecewise(300, seed=8), horizon_days=1000)
    days = np.arange(0, 1001)
    curve = np.exp(-cumulative_hazard(days))
    from_curve = survival.loglik_from_survival_curve(entry, exit_, event, days, curve, BREAKS)
    assert from_curve == pytest.approx(survival.piecewise_exponential_loglik(entry, exit_, event, BREAKS, HAZARDS))


def test_loglik_from_a_simulated_step_curve_is_finite_and_prefers_the_true_model():
    """A Kaplan-Meier curve of 20,000 simulated worlds (a step function) scores the observations close to the
    true model, and better than a curve whose hazards are doubled. Size of the gap: each interval's hazard from
    the curve is off by about 1/sqrt(its simulated failures), 1-2 % here, which moves this likelihood by
    (observed - expected failures) x 2 % + failures x (2 %)^2 / 2, well under 1; 5 is a loose bound, while
    doubling the hazards costs tens."""
    days = np.arange(0, 1001)
    observed = survival.censor_at(*simulate_piecewise(300, seed=21), horizon_days=1000)

    def simulated_curve(scale: float, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        times = inverse_cumulative_hazard(rng.exponential(1.0, 20_000) / scale)
        return 1 - np.searchsorted(np.sort(times), days, side="right") / len(times)

    truth = survival.piecewise_exponential_loglik(*observed, BREAKS, HAZARDS)
    fitted = survival.loglik_from_survival_curve(*observed, days, simulated_curve(1.0, 1), BREAKS)
    doubled = survival.loglik_from_survival_curve(*observed, days, simulated_curve(2.0, 2), BREAKS)
    assert np.isfinite(fitted) and abs(fitted - truth) < 5
    assert doubled < fitted


def test_loglik_from_a_curve_refuses_rows_beyond_it_and_bad_curves():
    days = np.arange(0, 101)
    curve = np.linspace(1, 0.5, 101)
    with pytest.raises(ValueError, match="censor_at"):
        survival.loglik_from_survival_curve([0], [150], [1], days, curve, [0, 50])
    with pytest.raises(ValueError, match="never increase"):
        survival.loglik_from_survival_curve([0], [50], [1], days, curve[::-1], [0, 50])
    with pytest.raises(ValueError, match="beyond the last break"):
        survival.loglik_from_survival_curve([0], [50], [1], days, curve, [0, 100])


def test_a_curve_that_reaches_zero_makes_rows_at_risk_in_that_interval_impossible():
    days = np.arange(0, 11)
    curve = np.array([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.2, 0.1, 0, 0, 0])  # S(5) = 0.5, S(10) = 0
    assert survival.hazards_from_survival_curve(days, curve, [0, 5]).tolist() == [np.log(2) / 5, np.inf]
    assert survival.loglik_from_survival_curve([0], [8], [0], days, curve, [0, 5]) == -np.inf
    assert survival.loglik_from_survival_curve([0], [4], [1], days, curve, [0, 5]) == pytest.approx(
        np.log(np.log(2) / 5) - 4 * np.log(2) / 5)


# --------------------------------------------------------------------------- Weibull


def test_weibull_loglik_matches_scipys_distribution():
    entry, exit_, event = simulate_weibull(50, shape=0.7, scale=900.0, seed=2)
    dist = stats.weibull_min(0.7, scale=900.0)
    direct = np.sum(np.where(event == 1, dist.logpdf(exit_), dist.logsf(exit_)) - dist.logsf(entry))
    assert survival.weibull_loglik(0.7, 900.0, entry, exit_, event) == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize(("shape", "scale", "seed"), [(0.6, 1500.0, 1), (1.0, 500.0, 2), (1.8, 300.0, 3)])
def test_weibull_fit_recovers_the_shape_within_four_standard_errors(shape, scale, seed):
    entry, exit_, event = simulate_weibull(1500, shape, scale, seed)
    fit = survival.weibull_fit(entry, exit_, event)
    assert fit.converged
    assert abs(fit.shape - shape) < 4 * fit.shape_se
    assert abs(fit.scale_days - scale) < 4 * fit.scale_se_days
    assert fit.failures == event.sum() and fit.rows == 1500


def test_weibull_standard_errors_match_a_numerical_hessian():
    entry, exit_, event = simulate_weibull(400, 0.8, 700.0, seed=4)
    fit = survival.weibull_fit(entry, exit_, event)
    point, step = np.log([fit.shape, fit.scale_days]), 1e-4

    def loglik(log_params: np.ndarray) -> float:
        return survival.weibull_loglik(*np.exp(log_params), entry, exit_, event)

    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * step, np.eye(2)[j] * step
            hessian[i, j] = (loglik(point + e_i + e_j) - loglik(point + e_i - e_j) - loglik(point - e_i + e_j)
                             + loglik(point - e_i - e_j)) / (4 * step**2)
    assert fit.covariance_log == pytest.approx(np.linalg.inv(-hessian), rel=1e-4)
    assert fit.loglik == pytest.approx(loglik(point))
    for direction in np.eye(2) * 1e-3:
        assert loglik(point + direction) < fit.loglik and loglik(point - direction) < fit.loglik


def test_exponential_data_give_shape_near_one_and_the_exponential_scale():
    entry, exit_, event = simulate_weibull(2000, 1.0, 400.0, seed=9)
    fit = survival.weibull_fit(entry, exit_, event)
    assert abs(fit.shape - 1) < 4 * fit.shape_se
    exponential_scale = (exit_ - entry).sum() / event.sum()
    assert abs(fit.scale_days - exponential_scale) < 4 * fit.scale_se_days
    assert fit.hazard_per_day(np.array([10.0, 1000.0])) == pytest.approx(
        fit.shape / fit.scale_days * (np.array([10.0, 1000.0]) / fit.scale_days) ** (fit.shape - 1))


def test_weibull_fit_needs_a_failure():
    with pytest.raises(ValueError, match="at least one failure"):
        survival.weibull_fit([0, 0], [5, 9], [0, 0])
