"""Statistics over run records: the headline probabilities, Wilson intervals, survival curves, summaries.

Pure functions of tables; they know nothing of the model's internals.

The headlines, each with one name in code (the stem of its columns in ``summary.csv``, ``sweep.csv`` …):

- P(deal), :data:`P_DEAL` (``p_agreed``): the share of worlds whose parties agreed a ceasefire;
- P(hold at d days), :func:`p_hold` (``p_hold_<d>``, ``p_hold_horizon`` at the horizon): the share of
  worlds where a deal was agreed and has not broken down by the end of day d.

:func:`headline_outcomes` gives, for every world, the outcome each of them counts: sums of it are the
counts, and per-world outcomes are what pooling over posterior draws needs.
"""

from __future__ import annotations

from collections.abc import Iterable

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

P_DEAL = "p_agreed"
"""The name of P(deal) in code and the stem of its columns."""

HORIZON = "horizon"
"""The day of :func:`p_hold` that stands for the scenario's horizon."""


def p_hold(day: int | str) -> str:
    """The name of P(hold at ``day`` days) in code and the stem of its columns: ``p_hold_365``;
    ``p_hold_horizon`` for :data:`HORIZON`."""
    return f"p_hold_{day}"


def headline_outcomes(runs: pd.DataFrame, horizon_days: int, days: Iterable[int] = ()) -> dict[str, np.ndarray]:
    """Per world, in the order of ``runs``, the outcome behind each headline probability.

    Args:
        runs: one row per world, with ``agreed`` and ``breakdown_day`` (empty where it held).
        horizon_days: the last day simulated (>= 0).
        days: the days of P(hold at d days) wanted; those beyond the horizon are left out (not known).

    Returns:
        bool arrays by name: :data:`P_DEAL` (reached a deal), ``p_hold(d)`` for each day ``d`` within the
        horizon and ``p_hold(HORIZON)``: agreed, and not broken down by the end of that day.
    """
    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    outcomes = {P_DEAL: agreed}
    for day in days:
        if day <= horizon_days:
            outcomes[p_hold(day)] = agreed & ~(breakdown <= day)  # NaN (held) is never <= day
    outcomes[p_hold(HORIZON)] = agreed & ~(breakdown <= horizon_days)
    return outcomes


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
    n_holding, n_agreed = grouped_holding_counts(runs, horizon_days, np.zeros(len(runs), dtype=np.int64), 1)
    return n_holding[0], np.asarray(n_agreed[0])


def grouped_holding_counts(runs: pd.DataFrame, horizon_days: int, group: np.ndarray, groups: int
                           ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`holding_counts` within each group of worlds (e.g. the posterior draw each world ran).

    Args:
        group: the group of each world, 0 .. groups - 1, in the order of ``runs``.
        groups: the number of groups (>= 1).

    Returns:
        (n_holding, n_agreed): shapes (groups, horizon_days + 1) and (groups,).
    """
    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    # a world that broke on day b stops holding from day b on; NaN = held to the horizon
    ended_on = np.where(np.isnan(breakdown), horizon_days + 1, np.minimum(breakdown, horizon_days + 1))
    width = horizon_days + 2
    members = np.asarray(group, dtype=np.int64)[agreed]
    cells = members * width + ended_on[agreed].astype(np.int64)
    breaks = np.bincount(cells, minlength=groups * width).reshape(groups, width)[:, : horizon_days + 1]
    n_agreed = np.bincount(members, minlength=groups).astype(np.int64)
    return n_agreed[:, None] - np.cumsum(breaks, axis=1), n_agreed


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


def _undefined(prefix: str) -> dict[str, float]:
    """A proportion that is not known (its day is beyond the horizon): NaN with NaN bounds."""
    return {prefix: np.nan, f"{prefix}_ci_low": np.nan, f"{prefix}_ci_high": np.nan}


def summary_row(
    runs: pd.DataFrame, horizon_days: int, scenario: str, seed: int
) -> dict[str, float | int | str]:
    """One summary row: P(deal), P(holding) at 90 and 365 days and at the horizon, causes.

    P(holding at d) is over all worlds and is NaN when d exceeds the horizon.
    ``median_breakdown_day`` is over worlds that reached a deal and then broke down.
    """
    n = len(runs)
    given_deal_day = min(365, horizon_days)  # once agreed, does it hold? (at the horizon when shorter)
    outcomes = headline_outcomes(runs, horizon_days, (*HOLD_DAYS, *LONG_HOLD_DAYS, given_deal_day))
    count = {name: float(np.count_nonzero(values)) for name, values in outcomes.items()}
    row: dict[str, float | int | str] = {
        "scenario": scenario,
        "replications": n,
        "seed": seed,
        "horizon_days": horizon_days,
    }
    row.update(_proportion(P_DEAL, count[P_DEAL], n))
    for day in HOLD_DAYS:
        name = p_hold(day)
        row.update(_proportion(name, count[name], n) if name in count else _undefined(name))
    for name in (p_hold(day) for day in LONG_HOLD_DAYS):
        if name in count:
            row.update(_proportion(name, count[name], n))
    row.update(_proportion(p_hold(HORIZON), count[p_hold(HORIZON)], n))
    row.update(_proportion(f"{p_hold(365)}_given_deal", count[p_hold(given_deal_day)], count[P_DEAL]))
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
    intent is roughly fixed. Quartiles are cut at the empirical quartiles of intent over all worlds; with a few
    distinct types (``types: two_types``) all worlds of a type fall in one quartile and some quartiles are empty.

    Returns:
        One row per quartile: ``quartile``, ``intent_low``, ``intent_high``, ``n_worlds``, ``n_agreed``,
        ``p_agreed`` and ``p_hold_<hold_day>_given_deal`` with Wilson 95 % intervals (NaN beyond the horizon).
    """
    intent = runs["intent"].to_numpy(dtype=float)
    cuts = np.quantile(intent, [0.25, 0.5, 0.75]) if len(intent) else np.zeros(3)
    quartile = np.searchsorted(cuts, intent, side="right")
    # a few distinct types (two_types form): the quartiles coincide, and each type fills the quartile its share
    # reaches, the others stay empty (n_worlds 0, NaN proportions)
    outcomes = headline_outcomes(runs, horizon_days, (hold_day,))
    agreed = outcomes[P_DEAL]
    held = outcomes.get(p_hold(hold_day))
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
        row.update(_proportion(P_DEAL, float(n_agreed), n_worlds))
        column = f"{p_hold(hold_day)}_given_deal"
        row.update(_undefined(column) if held is None else
                   _proportion(column, float((members & held).sum()), n_agreed))
        rows.append(row)
    return pd.DataFrame(rows)
