"""Survival statistics for left-truncated, right-censored durations in days: life tables, Kaplan-Meier,
piecewise-exponential and Weibull likelihoods.

Every function takes one row per risk interval: ``entry`` (days, >= 0), ``exit`` (days, > entry) and ``event``
(1 if the failure happened at ``exit``, 0 if the row was censored there). A row is at risk on ``(entry, exit]``,
so a spell split into segments (one row per segment, each entering where the previous one left) is counted
once at every time. Rates are per day unless a name says per year (:data:`DAYS_PER_YEAR` days).

Pure numpy/pandas/scipy: nothing here imports ``sim``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

DAYS_PER_YEAR = 365.25
ArrayLike = Sequence[float] | np.ndarray | pd.Series


# --------------------------------------------------------------------------- inputs


def _durations(entry: ArrayLike, exit: ArrayLike, event: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated float entry/exit and 0/1 int event arrays of one length."""
    start = np.asarray(entry, dtype=float)
    stop = np.asarray(exit, dtype=float)
    failed = np.asarray(event)
    if not (start.ndim == stop.ndim == failed.ndim == 1 and len(start) == len(stop) == len(failed)):
        raise ValueError("entry, exit and event must be 1-D and of one length")
    if not (np.isfinite(start).all() and np.isfinite(stop).all()):
        raise ValueError("entry and exit must be finite days")
    if (start < 0).any() or (stop <= start).any():
        raise ValueError("need 0 <= entry < exit (days) in every row")
    if not np.isin(failed, (0, 1)).all():
        raise ValueError("event must be 0 (censored) or 1 (failed)")
    return start, stop, failed.astype(int)


def _breaks(breaks_days: ArrayLike) -> np.ndarray:
    """Validated interval lower edges in days: start at 0, strictly increasing, finite."""
    edges = np.asarray(breaks_days, dtype=float)
    if edges.ndim != 1 or len(edges) == 0 or edges[0] != 0 or not np.isfinite(edges).all() \
            or (np.diff(edges) <= 0).any():
        raise ValueError("breaks_days must start at 0 and increase strictly (finite days); "
                         "the last interval runs from the last break to infinity")
    return edges


def _exposure_matrix(start: np.ndarray, stop: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Days each row spends at risk in each interval ``(b_k, b_k+1]``: shape (rows, intervals)."""
    upper = np.append(edges[1:], np.inf)
    return np.clip(np.minimum(stop[:, None], upper) - np.maximum(start[:, None], edges), 0.0, None)


def _interval_of(days: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Index k of the interval ``(b_k, b_k+1]`` holding each day (> 0)."""
    return np.searchsorted(edges, days, side="left") - 1


def failures_and_exposure(entry: ArrayLike, exit: ArrayLike, event: ArrayLike,
                          breaks_days: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Failures and days at risk per interval ``(b_k, b_k+1]`` (the last one unbounded).

    A failure at exactly a break counts in the interval that ends there. These two vectors are sufficient for
    every piecewise-exponential statistic below.
    """
    start, stop, failed = _durations(entry, exit, event)
    edges = _breaks(breaks_days)
    failures = np.bincount(_interval_of(stop[failed == 1], edges), minlength=len(edges))
    return failures, _exposure_matrix(start, stop, edges).sum(axis=0)


def censor_at(entry: ArrayLike, exit: ArrayLike, event: ArrayLike,
              horizon_days: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows as seen up to ``horizon_days`` (> 0): later exits censored there, rows entering at or after
    it dropped. Use it to compare the record with a model simulated over a shorter horizon."""
    start, stop, failed = _durations(entry, exit, event)
    if not horizon_days > 0:
        raise ValueError("horizon_days must be > 0")
    keep = start < horizon_days
    start, stop, failed = start[keep], stop[keep], failed[keep]
    return start, np.minimum(stop, horizon_days), np.where(stop > horizon_days, 0, failed)


# --------------------------------------------------------------------------- descriptive


def life_table(entry: ArrayLike, exit: ArrayLike, event: ArrayLike, breaks_days: ArrayLike,
               confidence: float = 0.95) -> pd.DataFrame:
    """Actuarial life table on intervals ``(b_k, b_k+1]`` in days; the last interval is unbounded.

    Exposure of a left-truncated row counts from its entry. Columns: ``start_day``, ``end_day`` (inf for the
    last), ``at_risk_start`` (rows with entry <= start_day < exit), ``failures``, ``exposure_days``,
    ``exposure_years``, ``failures_per_year`` (failures / years at risk; NaN with no exposure), and an exact
    (Garwood) Poisson interval on it, ``rate_low`` and ``rate_high`` at ``confidence`` (0-1).
    """
    start, stop, failed = _durations(entry, exit, event)
    edges = _breaks(breaks_days)
    failures, exposure = failures_and_exposure(start, stop, failed, edges)
    years = exposure / DAYS_PER_YEAR
    tail = (1 - confidence) / 2
    low = np.where(failures > 0, stats.chi2.ppf(tail, 2 * failures) / 2, 0.0)
    high = stats.chi2.ppf(1 - tail, 2 * failures + 2) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        per_year = np.where(years > 0, failures / years, np.nan)
        rate_low = np.where(years > 0, low / years, np.nan)
        rate_high = np.where(years > 0, high / years, np.nan)
    at_risk = [(start <= b) & (b < stop) for b in edges]
    return pd.DataFrame({
        "start_day": edges,
        "end_day": np.append(edges[1:], np.inf),
        "at_risk_start": [int(mask.sum()) for mask in at_risk],
        "failures": failures.astype(int),
        "exposure_days": exposure,
        "exposure_years": years,
        "failures_per_year": per_year,
        "rate_low": rate_low,
        "rate_high": rate_high,
    })


def kaplan_meier(entry: ArrayLike, exit: ArrayLike, event: ArrayLike, confidence: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier survival with left truncation: risk set at day t is the rows with entry < t <= exit.

    One row for day 0 (survival 1) and one per distinct failure day. Columns: ``day``, ``at_risk``,
    ``failures``, ``survival`` (0-1, conditional on surviving to the earliest entry), ``greenwood_variance``,
    and a log-log ("exponential Greenwood") interval ``ci_low``, ``ci_high`` at ``confidence`` (0-1); the
    interval is NaN where survival is 0.
    """
    start, stop, failed = _durations(entry, exit, event)
    days, failures = np.unique(stop[failed == 1], return_counts=True)
    at_risk = np.searchsorted(np.sort(start), days, side="left") - np.searchsorted(np.sort(stop), days, side="left")
    survival = np.cumprod(1 - failures / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood_sum = np.cumsum(failures / (at_risk * (at_risk - failures)))
        variance = np.where(survival > 0, survival**2 * greenwood_sum, 0.0)
        z = stats.norm.ppf(0.5 + confidence / 2)
        spread = z * np.sqrt(greenwood_sum) / np.abs(np.log(survival))
        ci_low = np.where(survival > 0, survival ** np.exp(spread), np.nan)
        ci_high = np.where(survival > 0, survival ** np.exp(-spread), np.nan)
    return pd.DataFrame({
        "day": np.concatenate(([0.0], days)),
        "at_risk": np.concatenate(([int(((start <= 0) & (stop > 0)).sum())], at_risk)),
        "failures": np.concatenate(([0], failures)),
        "survival": np.concatenate(([1.0], survival)),
        "greenwood_variance": np.concatenate(([0.0], variance)),
        "ci_low": np.concatenate(([1.0], ci_low)),
        "ci_high": np.concatenate(([1.0], ci_high)),
    })


# --------------------------------------------------------------------------- piecewise exponential


def piecewise_exponential_mle(entry: ArrayLike, exit: ArrayLike, event: ArrayLike,
                              breaks_days: ArrayLike) -> np.ndarray:
    """Maximum-likelihood hazards per day on the breaks: failures / days at risk per interval (NaN if none)."""
    failures, exposure = failures_and_exposure(entry, exit, event, breaks_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(exposure > 0, failures / exposure, np.nan)


def piecewise_exponential_loglik(entry: ArrayLike, exit: ArrayLike, event: ArrayLike, breaks_days: ArrayLike,
                                 hazards_per_day: ArrayLike) -> float:
    """Exact log-likelihood of left-truncated, right-censored durations under a piecewise-constant hazard.

    Each row contributes ``log f(exit) - log S(entry)`` if it failed and ``log S(exit) - log S(entry)`` if
    censored; summed, that is ``sum_k D_k log h_k - h_k E_k`` with D_k failures and E_k days at risk in interval
    k. ``hazards_per_day`` (>= 0, may be inf) has one value per break; the last applies beyond the last break.
    Returns -inf if a failure falls where the hazard is 0 or a row is at risk where it is infinite.
    """
    failures, exposure = failures_and_exposure(entry, exit, event, breaks_days)
    hazards = np.asarray(hazards_per_day, dtype=float)
    if hazards.shape != exposure.shape or np.isnan(hazards).any() or (hazards < 0).any():
        raise ValueError(f"hazards_per_day needs {len(exposure)} values >= 0 (one per break)")
    if ((hazards == 0) & (failures > 0)).any() or (np.isinf(hazards) & (exposure > 0)).any():
        return float("-inf")
    used = exposure > 0
    with np.errstate(divide="ignore"):
        log_hazards = np.where(failures > 0, np.log(hazards), 0.0)
    return float(np.sum(failures * log_hazards) - np.sum(hazards[used] * exposure[used]))


def hazards_from_survival_curve(days: ArrayLike, survival: ArrayLike, breaks_days: ArrayLike) -> np.ndarray:
    """Piecewise-constant hazards per day whose survival curve passes through ``survival`` at every break.

    ``days`` is a grid starting at day 0 (e.g. 0, 1, ..., horizon), increasing; ``survival`` is S on it (0-1,
    non-increasing). Hazard k is ``-log(S(b_k+1) / S(b_k)) / (b_k+1 - b_k)``; the last interval uses the grid's
    last day as its end. S between grid days is linear. The grid must reach beyond the last break.
    """
    grid = np.asarray(days, dtype=float)
    curve = np.asarray(survival, dtype=float)
    edges = _breaks(breaks_days)
    if grid.ndim != 1 or grid.shape != curve.shape or grid[0] != 0 or (np.diff(grid) <= 0).any():
        raise ValueError("days must be an increasing grid from day 0, with one survival value per day")
    if (curve < 0).any() or (curve > 1).any() or (np.diff(curve) > 0).any():
        raise ValueError("survival must lie in [0, 1] and never increase")
    if grid[-1] <= edges[-1]:
        raise ValueError(f"the curve ends on day {grid[-1]:g}, not beyond the last break ({edges[-1]:g} days)")
    ends = np.append(edges[1:], grid[-1])
    with np.errstate(divide="ignore"):
        log_s = np.log(np.interp(np.append(edges, grid[-1]), grid, curve))
    drop = log_s[:-1] - log_s[1:]
    drop = np.where(np.isneginf(log_s[:-1]), np.inf, drop)  # dead already at the interval's start
    return drop / (ends - edges)


def loglik_from_survival_curve(entry: ArrayLike, exit: ArrayLike, event: ArrayLike, days: ArrayLike,
                               survival: ArrayLike, breaks_days: ArrayLike) -> float:
    """Log-likelihood of observed durations given a model's survival curve S(t) on a daily grid.

    Each row contributes its density at ``exit`` (failed) or survival to ``exit`` (censored), both divided by
    S(entry). The density -dS/dt is smoothed as a **piecewise-constant hazard on** ``breaks_days``, the
    hazards of :func:`hazards_from_survival_curve` (the piecewise-exponential curve through S at the breaks),
    then scored with :func:`piecewise_exponential_loglik`. Why: a simulated S is a step function of finitely
    many worlds, so its raw -dS/dt is zero on most days and one real failure on such a day would score -inf;
    the pre-registered breaks are the life table's own intervals, so model and record are compared on the same
    hazards; the curve is matched exactly at each break, and there is no bandwidth to tune. The cost: shape
    within an interval is ignored, and Monte Carlo noise in S at the breaks enters the hazards.

    Rows must end within the curve (``exit <= days[-1]``): use :func:`censor_at` with the model's horizon
    first; nothing is extrapolated. Returns -inf if a failure falls in an interval where the model has no
    failures.
    """
    start, stop, failed = _durations(entry, exit, event)
    grid = np.asarray(days, dtype=float)
    if stop.max(initial=0.0) > grid[-1]:
        raise ValueError(f"a row ends after the curve's last day ({grid[-1]:g}); censor_at(..., horizon_days="
                         f"{grid[-1]:g}) first")
    hazards = hazards_from_survival_curve(grid, survival, breaks_days)
    return piecewise_exponential_loglik(start, stop, failed, breaks_days, hazards)


# --------------------------------------------------------------------------- Weibull


@dataclass(frozen=True)
class WeibullFit:
    """Maximum-likelihood Weibull, S(t) = exp(-(t / scale)^shape), t in days.

    ``shape`` < 1: the hazard falls with time since the ceasefire; 1: constant; > 1: rises. ``scale_days`` is
    the day by which 1 - 1/e (63 %) of spells would have failed. Standard errors come from the observed
    information (the inverse Hessian of the log-likelihood in log shape and log scale, by the delta method);
    ``covariance_log`` is that inverse, over (log shape, log scale).
    """

    shape: float
    scale_days: float
    shape_se: float
    scale_se_days: float
    covariance_log: np.ndarray
    loglik: float
    rows: int
    failures: int
    converged: bool

    def hazard_per_day(self, day: ArrayLike) -> np.ndarray:
        """The fitted hazard at ``day`` (> 0, days), per day."""
        t = np.asarray(day, dtype=float)
        return (self.shape / self.scale_days) * (t / self.scale_days) ** (self.shape - 1)


def _weibull_terms(log_params: np.ndarray, start: np.ndarray, stop: np.ndarray,
                   failed: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, gradient and Hessian in (a, b) = (log shape, log scale)."""
    a, b = log_params
    k = np.exp(a)
    u = np.log(stop) - b
    z = np.exp(k * u)
    entered = start > 0
    v = np.where(entered, np.log(np.where(entered, start, 1.0)) - b, 0.0)
    w = np.where(entered, np.exp(k * v), 0.0)
    loglik = np.sum(failed * (a - b + (k - 1) * u) - z + w)
    grad_a = np.sum(failed * (1 + k * u) - k * u * z + k * v * w)
    grad_b = np.sum(-failed * k + k * z - k * w)
    h_aa = np.sum(failed * k * u - k * u * z * (1 + k * u) + k * v * w * (1 + k * v))
    h_bb = np.sum(-(k**2) * z + k**2 * w)
    h_ab = np.sum(-failed * k + k * z * (1 + k * u) - k * w * (1 + k * v))
    return float(loglik), np.array([grad_a, grad_b]), np.array([[h_aa, h_ab], [h_ab, h_bb]])


def weibull_loglik(shape: float, scale_days: float, entry: ArrayLike, exit: ArrayLike, event: ArrayLike) -> float:
    """Log-likelihood of left-truncated, right-censored durations (days) under Weibull(shape > 0, scale > 0)."""
    start, stop, failed = _durations(entry, exit, event)
    if not (shape > 0 and scale_days > 0):
        raise ValueError("shape and scale_days must be > 0")
    return _weibull_terms(np.log([shape, scale_days]), start, stop, failed)[0]


def weibull_fit(entry: ArrayLike, exit: ArrayLike, event: ArrayLike) -> WeibullFit:
    """Maximum-likelihood Weibull (shape, scale in days) for left-truncated, right-censored durations.

    Maximised over (log shape, log scale) by scipy's L-BFGS-B with the analytic gradient, from the
    exponential fit (shape 1, scale = days at risk / failures). Needs at least one failure.
    """
    start, stop, failed = _durations(entry, exit, event)
    if failed.sum() == 0:
        raise ValueError("a Weibull fit needs at least one failure")
    initial = np.array([0.0, np.log((stop - start).sum() / failed.sum())])

    def negative(params: np.ndarray) -> tuple[float, np.ndarray]:
        loglik, grad, _ = _weibull_terms(params, start, stop, failed)
        return -loglik, -grad

    spread = np.log(stop.max()) - np.log(stop.min()) + 20
    bounds = [(-6.0, 6.0), (initial[1] - spread, initial[1] + spread)]
    result = optimize.minimize(negative, initial, jac=True, method="L-BFGS-B", bounds=bounds,
                               options={"gtol": 1e-9, "ftol": 1e-14, "maxiter": 1000})
    loglik, grad, hessian = _weibull_terms(result.x, start, stop, failed)
    covariance = np.linalg.inv(-hessian)
    shape, scale = np.exp(result.x)
    log_se = np.sqrt(np.diag(covariance))
    on_bound = any(np.isclose(x, edge) for x, pair in zip(result.x, bounds, strict=True) for edge in pair)
    return WeibullFit(shape=float(shape), scale_days=float(scale), shape_se=float(shape * log_se[0]),
                      scale_se_days=float(scale * log_se[1]), covariance_log=covariance, loglik=loglik,
                      rows=len(stop), failures=int(failed.sum()),
                      converged=bool(result.success) and not on_bound and bool(np.all(np.abs(grad) < 1e-4)))
