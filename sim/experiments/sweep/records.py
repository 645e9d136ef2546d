"""One point's record: a point's worlds reduced to its row of ``sweep.csv`` and its daily counts, and the
checks a saved record must pass before a resumed sweep trusts it.

A record is plain data (it is saved as one JSON line while a sweep runs)::

    {"point": p, "point_sha256": "...", "summary": {column: value}, "n_holding": [count per day],
     "posterior": {column: value}}          # "posterior" only with --posterior

``point_sha256`` is :meth:`~sim.experiments.sweep.design.Sweep.point_digest` of point ``p``: a record
moved to another position, or saved by another sweep, does not pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.sweep.design import METRIC_COLUMNS, POSTERIOR_COLUMNS, SOBOL_OUTPUTS, Sweep
from sim.spec.scenario import Scenario
from sim.stats.metrics import CAUSES, HOLD_DAYS, holding_counts, summary_row

WorldDraws = tuple[dict[str, np.ndarray], np.ndarray]
"""Posterior draws per world (:meth:`~sim.experiments.sweep.design.Sweep.world_draws`)
   : path -> values, and each world's draw."""

TOLERANCE = 1e-9
"""Slack when a saved record's figures are checked against each other (they agree to rounding)."""

DIGEST_KEY = "point_sha256"
"""The field of a record holding its point's :meth:`~sim.experiments.sweep.design.Sweep.point_digest`."""


def point_record(index: int, scenario: Scenario, runs: pd.DataFrame,
                 draw_of_world: np.ndarray | None = None) -> dict[str, Any]:
    """A point's ``runs`` reduced to its ``sweep.csv`` row and daily counts of worlds holding.

    With ``draw_of_world`` (the posterior draw of each replication), the ``*_ci_*`` figures of the
    :data:`~sim.experiments.sweep.design.SOBOL_OUTPUTS`
    are :func:`sim.stats.posterior.pooled_interval` (parameters and Monte
    Carlo), and ``"posterior"`` holds each one's parameter spread and Monte-Carlo-only interval.
    """
    row = summary_row(runs, scenario.horizon_days, scenario.name, scenario.seed)
    n_holding, _ = holding_counts(runs, scenario.horizon_days)
    summary = {key: _plain(row[key]) for key in METRIC_COLUMNS}
    record: dict[str, Any] = {"point": index, "summary": summary, "n_holding": n_holding.tolist()}
    if draw_of_world is not None:
        record["posterior"] = _pool_by_draw(runs, scenario.horizon_days, draw_of_world, summary)
    return record


def sealed(record: dict[str, Any], digest: str) -> dict[str, Any]:
    """``record`` with its point's digest, right after ``point``."""
    return {"point": record["point"], DIGEST_KEY: digest, **{k: v for k, v in record.items() if k != "point"}}


def _pool_by_draw(runs: pd.DataFrame, horizon_days: int, draw_of_world: np.ndarray,
                  summary: dict[str, Any]) -> dict[str, float]:
    """Replace ``summary``'s intervals by pooled ones; return the spread and Monte Carlo intervals."""
    from sim.stats.posterior import pooled_from_worlds

    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    ended = np.where(np.isnan(breakdown), np.inf, breakdown)  # holding on day d: agreed, not broken by d
    days = {"p_agreed": None, "p_hold_90": 90, "p_hold_365": 365, "p_hold_horizon": horizon_days}
    defined = [name for name in SOBOL_OUTPUTS if days[name] is None or days[name] <= horizon_days]
    outcomes = np.vstack([agreed if days[name] is None else agreed & (ended > days[name]) for name in defined])
    draw = np.asarray(draw_of_world)[runs["replication"].to_numpy()]
    _, low, high, sd = pooled_from_worlds(outcomes, draw, draws=int(np.max(draw_of_world)) + 1)
    extra = {column: float("nan") for column in POSTERIOR_COLUMNS}
    for i, name in enumerate(defined):
        extra[f"{name}_mc_ci_low"], extra[f"{name}_mc_ci_high"] = summary[f"{name}_ci_low"], summary[f"{name}_ci_high"]
        extra[f"{name}_parameter_sd"] = float(sd[i])
        summary[f"{name}_ci_low"], summary[f"{name}_ci_high"] = float(low[i]), float(high[i])
    return extra


def _plain(value: Any) -> int | float:
    """A numpy or Python number as a plain int or float (JSON keeps floats exactly)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return float(value)


# --------------------------------------------------------------------------- checking a saved record


def max_record_bytes(horizon_days: int) -> int:
    """The longest line a record of a sweep over ``horizon_days`` days can have (bytes, with slack)."""
    return 8192 + 12 * (horizon_days + 1)


def sweep_record_problem(record: Any, sweep: Sweep, digests: dict[int, str] | None = None) -> str | None:
    """What is wrong with one saved record of ``sweep``, or None if it can be trusted: its fields
    (:func:`record_problem`), then its digest against its point's definition.

    Args:
        digests: point -> digest already computed (filled in as points are met).
    """
    base = sweep.base
    problem = record_problem(record, sweep.n_points, base.replications, base.horizon_days,
                             posterior=sweep.posterior is not None)
    if problem:
        return problem
    point = record["point"]
    digests = {} if digests is None else digests
    if point not in digests:
        digests[point] = sweep.point_digest(point)
    if record[DIGEST_KEY] != digests[point]:
        return (f"{DIGEST_KEY}: does not match the definition of point {point} (a record moved to another "
                "position, or saved by another sweep)")
    return None


def record_problem(record: Any, n_points: int, replications: int, horizon_days: int,
                   posterior: bool = False) -> str | None:
    """What is wrong with the fields of one saved record, or None if they hold together.

    A record is as :func:`point_record` and :func:`sealed` make it: ``0 <= point < n_points``;
    ``point_sha256`` 64 hexadecimal digits; ``summary`` holds exactly
    :data:`sim.experiments.sweep.design.METRIC_COLUMNS`, with the sweep's
    ``replications`` and ``horizon_days``, probabilities and shares in [0, 1] inside their intervals;
    ``n_holding`` is ``horizon_days + 1`` counts in [0, replications], never increasing, that agree
    with the summary's P(holding). With ``posterior`` (a sweep with ``--posterior``), ``posterior`` holds
    exactly :data:`sim.experiments.sweep.design.POSTERIOR_COLUMNS` (:func:`_posterior_problem`); without, it is absent.
    """
    if not isinstance(record, dict):
        return "not a JSON record (damaged or not UTF-8)"
    missing = [key for key in ("point", DIGEST_KEY, "summary", "n_holding") if key not in record]
    if missing:
        return f"missing {', '.join(missing)}"
    point = record["point"]
    if type(point) is not int or not 0 <= point < n_points:
        return f"point: must be a whole number in [0, {n_points - 1}] (got {_shown(point)})"
    digest = record[DIGEST_KEY]
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return f"{DIGEST_KEY}: must be 64 hexadecimal digits (got {_shown(digest)})"
    n_holding = record["n_holding"]
    problem = _counts_problem(n_holding, replications, horizon_days)
    if problem:
        return problem
    return (_summary_problem(record["summary"], n_holding, replications, horizon_days)
            or _posterior_problem(record, posterior))


def _posterior_problem(record: dict[str, Any], posterior: bool) -> str | None:
    """A posterior sweep's record: each defined probability's parameter sd in [0, 0.5] (the largest spread
    a proportion can have) and its Monte Carlo interval in [0, 1] around it; all NaN where undefined."""
    if not posterior:
        return "posterior: this sweep draws no parameters from a posterior" if "posterior" in record else None
    extra, summary = record.get("posterior"), record["summary"]
    if not isinstance(extra, dict) or set(extra) != set(POSTERIOR_COLUMNS):
        return "posterior: must hold the parameter spread and Monte Carlo interval of each probability"
    for name in SOBOL_OUTPUTS:
        sd, low, high = (extra[f"{name}{suffix}"] for suffix in ("_parameter_sd", "_mc_ci_low", "_mc_ci_high"))
        if any(type(v) not in (int, float) for v in (sd, low, high)):
            return f"posterior.{name}: must be numbers"
        if math.isnan(summary[name]):
            if not all(math.isnan(v) for v in (sd, low, high)):
                return f"posterior.{name}: must be empty (the day is past the horizon)"
            continue
        if not (0.0 <= sd <= 0.5 and 0.0 <= low <= summary[name] + TOLERANCE and
                summary[name] - TOLERANCE <= high <= 1.0):
            return f"posterior.{name}: spread or Monte Carlo interval out of range (got {_shown(sd)})"
    return None


def _shown(value: Any) -> str:
    """A value for a message, cut short (a damaged file may hold anything)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _counts_problem(n_holding: Any, replications: int, horizon_days: int) -> str | None:
    if not isinstance(n_holding, list) or len(n_holding) != horizon_days + 1:
        return f"n_holding: must be a list of {horizon_days + 1} counts (days 0..{horizon_days})"
    if set(map(type, n_holding)) != {int}:
        return "n_holding: must hold whole numbers only"
    if min(n_holding) < 0 or max(n_holding) > replications:
        return f"n_holding: counts must be in [0, {replications}] (the worlds of a point)"
    if any(later > earlier for earlier, later in zip(n_holding, n_holding[1:], strict=False)):
        return "n_holding: must never increase from one day to the next"
    return None


def _summary_problem(summary: Any, n_holding: list[int], replications: int, horizon_days: int) -> str | None:
    if not isinstance(summary, dict):
        return "summary: must be a record of the sweep.csv figures"
    missing = [key for key in METRIC_COLUMNS if key not in summary]
    extra = [key for key in summary if key not in METRIC_COLUMNS]
    if missing or extra:
        return f"summary: {'missing ' + ', '.join(missing) if missing else 'unknown ' + ', '.join(extra)}"[:160]
    for key, expected in (("replications", replications), ("horizon_days", horizon_days)):
        if type(summary[key]) is not int or summary[key] != expected:
            return f"summary.{key}: must be {expected}, the sweep's (got {_shown(summary[key])})"
    for key in METRIC_COLUMNS[2:]:
        if type(summary[key]) not in (int, float):
            return f"summary.{key}: must be a number (got {_shown(summary[key])})"
    expected_p = {f"p_hold_{day}": n_holding[day] / replications for day in HOLD_DAYS if day <= horizon_days}
    expected_p["p_hold_horizon"] = n_holding[horizon_days] / replications
    expected_p["share_held"] = n_holding[horizon_days] / replications
    for key in ("p_agreed", *(f"p_hold_{day}" for day in HOLD_DAYS), "p_hold_horizon"):
        problem = _proportion_problem(summary, key, key in expected_p or key == "p_agreed")
        if problem:
            return problem
    shares = [summary[f"share_{cause}"] for cause in CAUSES]
    if not all(0.0 <= share <= 1.0 for share in shares) or abs(sum(shares) - 1.0) > TOLERANCE:
        return "summary: share_*: must be in [0, 1] and add up to 1"
    expected_p["share_no_deal"] = 1.0 - summary["p_agreed"]
    for key, value in expected_p.items():
        if abs(summary[key] - value) > TOLERANCE:
            return f"summary.{key}: {_shown(summary[key])} disagrees with the saved counts ({value:.6g})"
    median = summary["median_breakdown_day"]
    if not (math.isnan(median) or 0 <= median <= horizon_days):
        return f"summary.median_breakdown_day: must be empty or in [0, {horizon_days}] (got {_shown(median)})"
    return None


def _proportion_problem(summary: dict[str, Any], key: str, defined: bool) -> str | None:
    """A proportion and its interval: in [0, 1], low <= p <= high; all NaN where undefined (day > horizon)."""
    values = [summary[key], summary[f"{key}_ci_low"], summary[f"{key}_ci_high"]]
    if not defined:
        if all(math.isnan(v) for v in values):
            return None
        return f"summary.{key}: must be empty (the day is past the horizon)"
    p, low, high = values
    if not all(0.0 <= v <= 1.0 for v in values):  # NaN fails too
        return f"summary.{key}: must be a probability in [0, 1] with its interval (got {_shown(p)})"
    if not low - TOLERANCE <= p <= high + TOLERANCE:
        return f"summary.{key}: must lie within its interval [{key}_ci_low, {key}_ci_high]"
    return None
