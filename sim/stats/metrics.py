"""Statistics over run records: Wilson intervals, survival curves, scenario summaries.

Pure functions of tables; they know nothing of the model's internals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CAUSES: tuple[str, ...] = (
    "no_deal",
    "major_offensive",
    "escalation_spiral",
    "ukrainian_withdrawal",
    "held",
)
"""Every value the ``cause`` column of ``runs.csv`` can take."""

Z_95 = 1.959963984540054
"""Standard-normal quantile for a two-sided 95 % interval."""

HOLD_DAYS: tuple[int, ...] = (90, 365)
"""Fixed horizons reported in ``summary.csv`` besides the scenario's own horizon (NaN beyond it)."""

LONG_HOLD_DAYS: tuple[int, ...] = (730, 1825, 3650)
"""Two, five and ten years: reported in ``summary.csv`` only when the horizon reaches them."""

INTENT_QUARTILES: tuple[str, ...] = ("q1", "q2", "q3", "q4")
"""Labels of the quartiles of Russia's intent in ``intent.csv``, from the most dovish to the most hawkish."""


def wilson_interval(
    successes: np.ndarray | float, trials: np.ndarray | float, z: float = Z_95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (Wilson 1927, JASA 22:209-212).

    Args:
        successes: number of successes, 0 <= successes <= trials (array or scalar).
        trials: number of trials, >= 0. Where trials is 0 the interval is NaN.
        z: standard-normal quantile; the default gives a two-sided 95 % interval.

    Returns:
        (low, high), each in [0, 1], with the shape of the broadcast inputs.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    # exact at the edges, where rounding would otherwise leave 1e-16 gaps
    low = np.where(k <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k >= n, 1.0, np.clip(centre + half, 0.0, 1.0))
    empty = n <= 0
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return low, high


def holding_counts(runs: pd.DataFrame, horizon_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Number of worlds whose ceasefire holds at the end of each day 0..horizon.

    A world holds on day ``d`` if a deal was agreed and it has not broken down by
    the end of day ``d`` (``breakdown_day`` empty or greater than ``d``).

    Returns:
        (n_holding, n_agreed): n_holding has length horizon_days + 1; n_agreed is a scalar array.
    """
    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    # a world that broke on day b stops holding from day b on; NaN = held to the horizon
    ended_on = np.where(np.isnan(breakdown), horizon_days + 1, breakdown).astype(np.int64)
    ended_on = ended_on[agreed]
    breaks_per_day = np.bincount(ended_on, minlength=horizon_days + 2)[: horizon_days + 1]
    n_agreed = np.int64(agreed.sum())
    n_holding = n_agreed - np.cumsum(breaks_per_day)
    return n_holding, np.asarray(n_agreed)


def survival_table(runs: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
    """Share of worlds holding on each day, with Wilson 95 % intervals.

    ``p_holding`` is over all worlds (no deal counts as not holding);
    ``p_holding_given_deal`` is over the worlds that reached a deal.
    """
    n_worlds = len(runs)
    n_holding, n_agreed = holding_counts(runs, horizon_days)
    low, high = wilson_interval(n_holding, n_worlds)
    low_d, high_d = wilson_interval(n_holding, n_agreed)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_all = n_holding / n_worlds if n_worlds else np.full(n_holding.shape, np.nan)
        p_deal = np.where(n_agreed > 0, n_holding / np.maximum(n_agreed, 1), np.nan)
    return pd.DataFrame(
        {
            "day": np.arange(horizon_days + 1),
            "n_worlds": n_worlds,
            "n_agreed": int(n_agreed),
            "n_holding": n_holding,
            "p_holding": p_all,
            "ci_low": low,
            "ci_high": high,
            "p_holding_given_deal": p_deal,
            "ci_low_given_deal": low_d,
            "ci_high_given_deal": high_d,
        }
    )


def _proportion(prefix: str, successes: float, trials: float) -> dict[str, float]:
    low, high = wilson_interval(successes, trials)
    p = successes / trials if trials else np.nan
    return {prefix: p, f"{prefix}_ci_low": float(low), f"{prefix}_ci_high": float(high)}


def summary_row(
    runs: pd.DataFrame, horizon_days: int, scenario: str, seed: int
) -> dict[str, float | int | str]:
    """One summary row: P(deal), P(holding) at 90 and 365 days and at the horizon, causes.

    P(holding at d) is over all worlds and is NaN when d exceeds the horizon.
    ``median_breakdown_day`` is over worlds that reached a deal and then broke down.
    """
    n = len(runs)
    n_holding, n_agreed = holding_counts(runs, horizon_days)
    row: dict[str, float | int | str] = {
        "scenario": scenario,
        "replications": n,
        "seed": seed,
        "horizon_days": horizon_days,
    }
    row.update(_proportion("p_agreed", float(n_agreed), n))
    for day in HOLD_DAYS:
        if day <= horizon_days:
            row.update(_proportion(f"p_hold_{day}", float(n_holding[day]), n))
        else:
            row.update({f"p_hold_{day}": np.nan, f"p_hold_{day}_ci_low": np.nan, f"p_hold_{day}_ci_high": np.nan})
    for day in LONG_HOLD_DAYS:
        if day <= horizon_days:
            row.update(_proportion(f"p_hold_{day}", float(n_holding[day]), n))
    row.update(_proportion("p_hold_horizon", float(n_holding[horizon_days]), n))
    # once agreed, does it hold? (the same counts over the worlds that reached a deal)
    given_deal_day = min(365, horizon_days)
    row.update(_proportion("p_hold_365_given_deal", float(n_holding[given_deal_day]), float(n_agreed)))
    broken = runs["breakdown_day"].dropna()
    row["median_breakdown_day"] = float(broken.median()) if len(broken) else np.nan
    counts = runs["cause"].value_counts()
    for cause in CAUSES:
        row[f"share_{cause}"] = counts.get(cause, 0) / n if n else np.nan
    return row


def summary_table(
    runs: pd.DataFrame, horizon_days: int, scenario: str, seed: int
) -> pd.DataFrame:
    """``summary_row`` as a one-row table."""
    return pd.DataFrame([summary_row(runs, horizon_days, scenario, seed)])


def intent_table(runs: pd.DataFrame, horizon_days: int, hold_day: int = 365) -> pd.DataFrame:
    """P(deal) and P(holding at ``hold_day`` | deal) by quartile of Russia's intent (``intent.csv``).

    Intent is Russia's type (ODD eq. 4). Under bargaining acceptance, hawkish worlds refuse more often,
    so P(hold | deal) pooled over all worlds mixes the effect of troops with selection; within a quartile,
    intent is roughly fixed. Quartiles are cut at the empirical quartiles of intent over all worlds.

    Returns:
        One row per quartile: ``quartile``, ``intent_low``, ``intent_high``, ``n_worlds``, ``n_agreed``,
        ``p_agreed`` and ``p_hold_<hold_day>_given_deal`` with Wilson 95 % intervals (NaN beyond the horizon).
    """
    intent = runs["intent"].to_numpy(dtype=float)
    cuts = np.quantile(intent, [0.25, 0.5, 0.75]) if len(intent) else np.zeros(3)
    quartile = np.searchsorted(cuts, intent, side="right")
    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    held = agreed & ~(breakdown <= hold_day)
    rows = []
    for index, label in enumerate(INTENT_QUARTILES):
        members = quartile == index
        n_worlds, n_agreed = int(members.sum()), int((members & agreed).sum())
        row: dict[str, float | int | str] = {
            "quartile": label,
            "intent_low": float(intent[members].min()) if n_worlds else np.nan,
            "intent_high": float(intent[members].max()) if n_worlds else np.nan,
            "n_worlds": n_worlds,
            "n_agreed": n_agreed,
        }
        row.update(_proportion("p_agreed", float(n_agreed), n_worlds))
        column = f"p_hold_{hold_day}_given_deal"
        if hold_day <= horizon_days:
            row.update(_proportion(column, float((members & held).sum()), n_agreed))
        else:
            row.update({column: np.nan, f"{column}_ci_low": np.nan, f"{column}_ci_high": np.nan})
        rows.append(row)
    return pd.DataFrame(rows)
