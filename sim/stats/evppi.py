"""Value of information on the ensemble: which uncertain factor would it pay most to learn before choosing?

``values``: one row per future (a model structure x posterior draw) and one column per option, an outcome in its own
units (higher is better unless ``higher_is_better=False``). ``factors``: the same rows, one column per uncertain
factor (a parameter as a numeric column; a model structure or mechanism switch as a categorical one).

- EVPI, the expected value of perfect information: E[max_d value_d] - max_d E[value_d], what learning everything
  before choosing is worth, in the outcome's units (>= 0). It equals the expected regret of the option with the
  highest expected value (:mod:`sim.stats.decision`).
- EVPPI of a factor X, the partial EVPI: E_X[max_d E(value_d | X)] - max_d E[value_d], what learning X alone is
  worth (0 <= EVPPI <= EVPI).

Estimator (Strong, Oakley & Brennan 2014, "Estimating multiparameter partial expected value of perfect information
from a probabilistic sensitivity analysis sample: a nonparametric regression approach", *Medical Decision Making*
34:311): regress each option's value, less a baseline option's (the first column; the difference has the same
EVPPI and, with common random numbers, far less noise), on X; the fitted values g_d(x_n) estimate
E(value_d - value_0 | X = x_n), and EVPPI = mean_n max_d g_d(x_n) - max_d mean_n g_d(x_n) with g_0 = 0.

- Discrete factors (non-numeric, boolean, or numeric with at most ``max_levels`` distinct values): the group mean of
  each level, which is E(value | X) itself, exact up to Monte Carlo error.
- Continuous factors, ``method="spline"`` (the default): a cubic B-spline basis on quantile knots with a ridge
  penalty chosen per option by generalized cross-validation (scikit-learn's SplineTransformer and RidgeCV): a
  penalized regression spline, a one-term GAM whose penalty is on the size of the B-spline coefficients rather than
  on their roughness as in mgcv or pygam; both shrink the curve toward the mean (Wood 2017, *Generalized Additive
  Models*, 2nd ed., ch. 4-5).
  ``method="gam"``: pygam's LinearGAM with one spline term, its smoothing chosen by pygam's GCV grid search.
  The spline is the default because pygam 0.12.0 (the newest) declares scipy < 1.17, so installing it beside this
  project's scipy 1.17 downgrades scipy (pyGAM issue #584), although it fits correctly on 1.17; and because on the
  toy problems of tests/test_evppi.py (5,000 futures, 8 seeds) the two agree to about one Monte Carlo standard
  error (within 0.0015 on an EVPPI of 0.125), pygam's smoother being the wigglier on a factor that does not matter
  (+0.002 on a true 0) and 15 times slower (its GCV grid search).

Like any regression estimator this one is biased slightly upward for a factor that does not matter (fitted noise
is maxed over options), most when options are nearly tied in expectation. Near such a tie it is also biased down
for a factor that does matter, by about half the mean absolute sampling error of the mean difference between the
options (the max over options of sample means exceeds the max of true means). Both fall as futures are added.
Pure numpy/pandas (+ scikit-learn, and pygam if asked for): nothing here imports ``sim``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_DISCRETE_LEVELS = 10
SPLINE_KNOTS = 12
_RIDGE_ALPHAS = np.logspace(-8, 4, 49)
COLUMNS = ["evppi", "share_of_evpi", "kind", "levels", "r2"]


def _goodness(values: pd.DataFrame, higher_is_better: bool) -> np.ndarray:
    if not isinstance(values, pd.DataFrame) or values.shape[0] < 2 or values.shape[1] < 1:
        raise ValueError("values must be a DataFrame with >= 2 futures (rows) and >= 1 option (columns)")
    goodness = values.to_numpy(dtype=float) * (1.0 if higher_is_better else -1.0)
    if not np.isfinite(goodness).all():
        raise ValueError("values must be finite numbers (no NaN)")
    return goodness


def evpi(values: pd.DataFrame, higher_is_better: bool = True) -> float:
    """Expected value of perfect information, E[max_d value_d] - max_d E[value_d], in the outcome's units (>= 0)."""
    goodness = _goodness(values, higher_is_better)
    return float(goodness.max(axis=1).mean() - goodness.mean(axis=0).max())


def is_discrete(factor: pd.Series, max_levels: int = MAX_DISCRETE_LEVELS) -> bool:
    """Whether a factor is estimated by group means: non-numeric, boolean, or <= ``max_levels`` distinct values."""
    if not pd.api.types.is_numeric_dtype(factor) or pd.api.types.is_bool_dtype(factor):
        return True
    return factor.nunique() <= max_levels


def _group_means(factor: pd.Series, increments: np.ndarray) -> np.ndarray:
    frame = pd.DataFrame(increments, index=factor.index)
    return frame.groupby(factor.to_numpy(), sort=False, observed=True).transform("mean").to_numpy()


def _spline_fit(factor: np.ndarray, increments: np.ndarray) -> np.ndarray:
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    n_knots = int(min(SPLINE_KNOTS, max(2, np.unique(factor).size - 2)))
    model = make_pipeline(SplineTransformer(n_knots=n_knots, degree=3, knots="quantile", extrapolation="linear"),
                          RidgeCV(alphas=_RIDGE_ALPHAS, alpha_per_target=True, gcv_mode="svd"))
    return model.fit(factor[:, None], increments).predict(factor[:, None]).reshape(increments.shape)


def _gam_fit(factor: np.ndarray, increments: np.ndarray) -> np.ndarray:
    from pygam import LinearGAM, s

    fitted = np.empty_like(increments)
    for column in range(increments.shape[1]):
        gam = LinearGAM(s(0)).gridsearch(factor[:, None], increments[:, column], progress=False)
        fitted[:, column] = gam.predict(factor[:, None])
    return fitted


def _r2(observed: np.ndarray, fitted: np.ndarray) -> float:
    """Mean over options of the share of the increments' variance the regression explains (NaN if none vary)."""
    total = ((observed - observed.mean(axis=0)) ** 2).sum(axis=0)
    explained = 1 - ((observed - fitted) ** 2).sum(axis=0) / np.where(total > 0, total, np.nan)
    return float(np.nanmean(explained)) if np.isfinite(explained).any() else float("nan")


def evppi_of(values: pd.DataFrame, factor: pd.Series, higher_is_better: bool = True, method: str = "spline",
             max_levels: int = MAX_DISCRETE_LEVELS) -> tuple[float, str, float]:
    """EVPPI of one factor (outcome's units, >= 0), how it was estimated, and the regression's mean R^2."""
    if method not in ("spline", "gam"):
        raise ValueError("method must be 'spline' or 'gam'")
    goodness = _goodness(values, higher_is_better)
    if len(factor) != len(goodness) or factor.isna().any():
        raise ValueError(f"factor {factor.name!r} needs one non-missing entry per future")
    increments = goodness[:, 1:] - goodness[:, :1]
    if increments.shape[1] == 0:
        return 0.0, "one option", float("nan")
    factor = factor.reset_index(drop=True)
    if is_discrete(factor, max_levels):
        fitted, kind = _group_means(factor, increments), "discrete: group means"
    elif method == "gam":
        fitted, kind = _gam_fit(factor.to_numpy(dtype=float), increments), "continuous: pygam LinearGAM"
    else:
        fitted, kind = _spline_fit(factor.to_numpy(dtype=float), increments), "continuous: penalized spline"
    with_baseline = np.column_stack([np.zeros(len(fitted)), fitted])
    value = with_baseline.max(axis=1).mean() - with_baseline.mean(axis=0).max()
    return float(max(value, 0.0)), kind, _r2(increments, fitted)


def evppi(values: pd.DataFrame, factors: pd.DataFrame, higher_is_better: bool = True, method: str = "spline",
          max_levels: int = MAX_DISCRETE_LEVELS) -> pd.DataFrame:
    """EVPPI of every factor (column of ``factors``, rows aligned with ``values``), largest first.

    Columns: ``evppi`` (outcome's units), ``share_of_evpi`` (evppi / EVPI, in [0, 1] up to estimation error; NaN
    when EVPI is 0), ``kind`` (how it was estimated), ``levels`` (distinct values of the factor) and ``r2``.
    """
    if len(factors) != len(values):
        raise ValueError("factors and values need the same futures (rows)")
    total = evpi(values, higher_is_better)
    rows = []
    for name in factors.columns:
        value, kind, r2 = evppi_of(values, factors[name], higher_is_better, method, max_levels)
        rows.append({"factor": name, "evppi": value, "share_of_evpi": value / total if total > 0 else np.nan,
                     "kind": kind, "levels": int(factors[name].nunique()), "r2": r2})
    table = pd.DataFrame(rows, columns=["factor", *COLUMNS]).set_index("factor")
    return table.sort_values("evppi", ascending=False, kind="stable")
