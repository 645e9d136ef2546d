"""Statistics of a posterior file (``ceasefire calibrate``'s output): reading it, choosing draws, pooling.

A posterior file is a CSV with one weighted particle per row: dotted scenario paths as columns
(``agents.RU.base_offensive_hazard``, ``model.intent_variance``), a ``weight`` column, and optionally
``distance``. Reading a posterior does not need pyabc.

Every command that draws parameters from it (``run``, ``sweep``, ``bet``) draws them per world
(:func:`posterior_world_values`): world ``r`` runs draw ``r % D`` of ``D`` particles picked by weight, and
:func:`pooled_from_worlds` pools per-world outcomes by draw into intervals that hold parameter uncertainty
as well as Monte Carlo noise (``interval`` = ``parameters+monte_carlo``). Running the worlds is an
experiment's work (:mod:`sim.experiments.posterior_run`); this module only counts.
"""

from __future__ import annotations

import copy
import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError, shown
from sim.engine.streams import StreamKey, generator
from sim.spec.scenario import Scenario, get_path, set_path, validate_document
from sim.spec.sources import typed
from sim.stats.metrics import (
    HOLD_DAYS,
    HORIZON,
    LONG_HOLD_DAYS,
    P_DEAL,
    Z_95,
    grouped_holding_counts,
    headline_outcomes,
    p_hold,
    summary_table,
    wilson_interval,
)

WEIGHT, DISTANCE = "weight", "distance"
EXTRA_COLUMNS = frozenset({WEIGHT, DISTANCE})
"""Columns of a posterior file that are not parameters."""
INTERVAL_KIND = "parameters+monte_carlo"
"""What the intervals of a posterior run include."""
DEFAULT_POSTERIOR = Path(__file__).resolve().parents[2] / "seeds" / "posterior" / "posterior.csv"
"""The fitted posterior of the default structure (``ceasefire calibrate``)."""


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter sets: ``parameters`` (one column per dotted path) and normalised ``weights``."""

    parameters: pd.DataFrame
    weights: np.ndarray
    source: Path
    sha256: str = ""  # of the file's bytes, recorded in manifests and in a sweep's hash


# --------------------------------------------------------------------------- reading


def load_posterior(path: str | Path, template: Scenario | None = None) -> Posterior:
    """Read and check a posterior CSV.

    Args:
        path: the file.
        template: a scenario whose schema the values are checked against (default: the baseline).

    Raises:
        InputError: one line: unreadable file, no ``weight`` column, an unknown column, a weight that is
            negative or not a number, weights summing to 0, or a value outside the parameter's range.
    """
    path = Path(path)
    table = _read_csv(path)
    if WEIGHT not in table.columns:
        raise InputError(f"{path}: {WEIGHT}: column is missing (one weight per particle)")
    template = template if template is not None else _baseline()
    document = template.model_dump(mode="python")
    columns = [c for c in table.columns if c not in EXTRA_COLUMNS]
    if not columns:
        raise InputError(f"{path}: has no parameter columns (dotted paths such as model.intent_variance)")
    for column in columns:
        _check_column(path, column, table[column], document)
    weights = _check_weights(path, table[WEIGHT])
    _check_ranges(path, table[columns], document)
    return Posterior(table[columns].reset_index(drop=True), weights / weights.sum(), path, _file_sha256(path))


def _file_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a posterior CSV ({' '.join(str(exc).split())[:120]})") from None
    if table.empty:
        raise InputError(f"{path}: has no particles (rows)")
    return table


def _check_column(path: Path, column: str, values: pd.Series, document: dict[str, Any]) -> None:
    parts = str(column).split(".")
    current = get_path(document, str(column)) if parts[0] in ("agents", "model") else None
    if current is None or isinstance(current, (dict, str)):
        raise InputError(f"{path}: {shown(column)}: unknown parameter column (give dotted paths such as "
                         "model.intent_variance, plus weight)")
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or not np.isfinite(numbers.to_numpy(float)).all():
        raise InputError(f"{path}: {column}: every value must be a finite number")


def _check_weights(path: Path, column: pd.Series) -> np.ndarray:
    weights = pd.to_numeric(column, errors="coerce").to_numpy(float)
    if np.isnan(weights).any() or not np.isfinite(weights).all():
        raise InputError(f"{path}: {WEIGHT}: every weight must be a finite number")
    if (weights < 0).any():
        raise InputError(f"{path}: {WEIGHT}: must be >= 0 (got {weights[weights < 0][0]:g})")
    if weights.sum() <= 0:
        raise InputError(f"{path}: {WEIGHT}: weights must sum to more than 0")
    return weights


def _check_ranges(path: Path, table: pd.DataFrame, document: dict[str, Any]) -> None:
    """Every value valid for its parameter: the schema's bounds are per field, so the smallest and the
    largest value of each column are checked; whole numbers where the parameter is whole."""
    for column in table.columns:
        values = table[column].to_numpy(float)
        if isinstance(get_path(document, column), bool) and not np.isin(values, (0.0, 1.0)).all():
            raise InputError(f"{path}: {column}: a true/false parameter takes 0 or 1")
    for pick in (np.min, np.max):
        candidate = copy.deepcopy(document)
        for column in table.columns:
            set_path(candidate, column, typed(get_path(document, column), pick(table[column].to_numpy(float))),
                     source=path)
        validate_document(candidate, source=path)


def _baseline() -> Scenario:
    from sim.core.bundled import scenario_path
    from sim.spec.scenario import load_scenario

    return load_scenario(scenario_path("baseline"))


# --------------------------------------------------------------------------- choosing draws


def draw_indices(posterior: Posterior, draws: int, seed: int) -> np.ndarray:
    """``draws`` particle indices, drawn with replacement in proportion to the weights (seeded)."""
    rng = generator(seed, StreamKey.POSTERIOR_DRAW)
    return rng.choice(len(posterior.weights), size=draws, replace=True, p=posterior.weights)


def draw_scenario(scenario: Scenario, values: dict[str, float], worlds: int, seed: int) -> Scenario:
    """``scenario`` with the given parameter values, ``worlds`` replications and ``seed``."""
    document = scenario.model_dump(mode="python")
    for path, value in values.items():
        set_path(document, path, typed(get_path(document, path), value), source=Path("posterior"))
    document.update(replications=worlds, seed=seed)
    return validate_document(document, source=Path("posterior"))


def posterior_world_values(posterior: Posterior, draws: int, seed: int, replications: int,
                           template: Scenario | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-world parameter values for a run, a sweep point or a bet's troop level: world ``r`` runs draw ``r % draws``.

    ``draws`` particles are picked by :func:`draw_indices` (weighted, seeded by ``seed``); every draw gets
    ``replications // draws`` worlds or one more. The values depend only on the posterior, ``draws``,
    ``seed`` and ``replications``, so world ``r`` has the same particle at every point and troop level:
    with common random numbers, points still differ only through their own parameters.

    Args:
        template: if given, each picked particle is checked once against its schema (:func:`draw_scenario`).

    Returns:
        (values, draw_of_world): dotted path -> array of ``replications`` values (to ``sim.engine.packing``'s
        ``world_values``), and the draw of each world, shape (replications,).

    Raises:
        InputError: ``draws`` outside 1..replications, or a drawn value invalid for ``template``.
    """
    if not 1 <= draws <= replications:
        raise InputError(f"--draws: must be between 1 and the number of worlds, {replications} (got {draws})")
    picked = draw_indices(posterior, draws, seed)
    columns = list(posterior.parameters.columns)
    if template is not None:
        for particle in sorted(set(picked.tolist())):
            draw_scenario(template, {c: float(posterior.parameters.at[particle, c]) for c in columns},
                          template.replications, template.seed)
    draw_of_world = np.arange(replications, dtype=np.int64) % draws
    particle_of_world = picked[draw_of_world]
    values = {c: posterior.parameters[c].to_numpy(dtype=float)[particle_of_world] for c in columns}
    return values, draw_of_world


@dataclass(frozen=True)
class PosteriorChoice:
    """``--posterior [FILE] --draws D`` of a run, a sweep or a bet: which posterior, and how many particles it draws."""

    posterior: Posterior
    draws: int

    def key(self) -> dict[str, Any]:
        """What determines the results (part of a sweep's hash): the file's SHA-256 and the draws."""
        return {"sha256": self.posterior.sha256, "draws": self.draws}

    def describe(self, worlds: int) -> dict[str, Any]:
        """Manifest fields: the file, its SHA-256, the draws and worlds per draw, what the intervals hold."""
        return {"file": str(self.posterior.source), "sha256": self.posterior.sha256, "draws": self.draws,
                "worlds_per_draw": [worlds // self.draws, -(-worlds // self.draws)],
                "assignment": "world r runs draw r % draws, at every point and troop level (draws picked by "
                              "weight, seeded)",
                "parameters": list(self.posterior.parameters.columns), "interval": INTERVAL_KIND}

    def world_values(self, seed: int, replications: int, template: Scenario | None = None
                     ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """:func:`posterior_world_values` of this choice."""
        return posterior_world_values(self.posterior, self.draws, seed, replications, template)

    def check_free(self, moved: Sequence[str], what: str) -> None:
        """Refuse parameters that the posterior draws and the command also moves (``what`` names them).

        Raises:
            InputError: naming the file and the first such parameter.
        """
        clash = [path for path in moved if path in self.posterior.parameters.columns]
        if clash:
            raise InputError(f"{self.posterior.source}: --posterior draws {clash[0]}, which {what} also sets; "
                             "drop it from one of them")


# --------------------------------------------------------------------------- pooling


def pooled_interval(successes: np.ndarray, trials: np.ndarray, z: float = Z_95
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pooled proportion over draws with an interval holding parameter and Monte Carlo uncertainty.

    Args:
        successes, trials: shape (draws, k): counts per draw and statistic.

    Returns:
        (p, low, high, parameter_sd): p = Σ successes / Σ trials; parameter_sd² = between-draw variance
        of the per-draw proportions minus their mean binomial variance (floored at 0), i.e. the spread
        of the true proportion across the posterior; the interval is p ± z·sqrt(parameter_sd² +
        p(1−p)/Σ trials), clipped to [0, 1]. The split uses the draws with at least 2 trials, and the
        unbiased binomial variance p̂(1−p̂)/(n−1) of each (p̂(1−p̂)/n is low by a factor (n−1)/n, which
        would show a spread of sd ≈ sqrt(p(1−p))/n where there is none: 0.05 at n = 10); with fewer
        than 2 such draws it is the Monte Carlo (normal) interval.
    """
    k, n = np.asarray(successes, float), np.asarray(trials, float)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a statistic with fewer than 2 usable draws: NaN, unused
        p = k.sum(axis=0) / n.sum(axis=0)
        usable = n >= 2
        per_draw = np.where(usable, k / np.where(usable, n, 1), np.nan)
        counted = np.sum(usable, axis=0)
        between = np.nanvar(per_draw, axis=0, ddof=1) if k.shape[0] > 1 else np.zeros(p.shape)
        within = np.nanmean(per_draw * (1 - per_draw) / np.where(usable, n - 1, np.nan), axis=0)
        parameter_var = np.where(counted > 1, np.maximum(0.0, between - within), 0.0)
        half = z * np.sqrt(parameter_var + p * (1 - p) / n.sum(axis=0))
    return p, np.clip(p - half, 0, 1), np.clip(p + half, 0, 1), np.sqrt(parameter_var)


def draw_sums(values: np.ndarray, draw_of_world: np.ndarray, draws: int) -> np.ndarray:
    """Per-draw sums of per-world values: ``values`` (k, worlds) -> (draws, k), exact for counts."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    out = np.zeros((values.shape[0], draws))
    for row, series in enumerate(values):
        out[row] = np.bincount(draw_of_world, weights=series, minlength=draws)
    return out.T


def pooled_from_worlds(successes: np.ndarray, draw_of_world: np.ndarray, trials: np.ndarray | None = None,
                       draws: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`pooled_interval` from per-world outcomes: which draw each world ran, what it scored.

    Args:
        successes: per-world indicators (or counts), shape (worlds,) or (k, worlds).
        draw_of_world: the draw of each world (:func:`posterior_world_values`), shape (worlds,).
        trials: per-world trials of the same shape (e.g. "agreed" for P(hold | deal)); None: one each.
        draws: number of draws (default: the largest draw index + 1).

    Returns:
        (p, low, high, parameter_sd), each of shape (k,).
    """
    draw_of_world = np.asarray(draw_of_world, dtype=np.int64)
    draws = int(draw_of_world.max()) + 1 if draws is None else int(draws)
    successes = np.atleast_2d(np.asarray(successes, dtype=float))
    trials = np.ones_like(successes) if trials is None else np.atleast_2d(np.asarray(trials, dtype=float))
    return pooled_interval(draw_sums(successes, draw_of_world, draws), draw_sums(trials, draw_of_world, draws))


# --------------------------------------------------------------------------- pooled tables


HEADLINE_DAYS: tuple[int, ...] = (*HOLD_DAYS, *LONG_HOLD_DAYS)
"""Days of P(hold at d days) a pooled summary gives (those within the horizon)."""


def pooled_survival(runs: pd.DataFrame, horizon_days: int, draw_of_world: np.ndarray, draws: int) -> pd.DataFrame:
    """``survival.csv`` of worlds that ran posterior draws: per day, P(holding) over all worlds and given a
    deal with :func:`pooled_interval` bounds, and each one's spread across the posterior.

    Args:
        runs: one row per world (``agreed``, ``breakdown_day``).
        draw_of_world: the draw of each row of ``runs``, 0 .. draws - 1.
    """
    held, agreed = grouped_holding_counts(runs, horizon_days, draw_of_world, draws)
    worlds = np.bincount(np.asarray(draw_of_world, dtype=np.int64), minlength=draws)
    days = held.shape[1]
    p, low, high, sd = pooled_interval(held, np.repeat(worlds[:, None], days, axis=1))
    p_deal, low_d, high_d, sd_d = pooled_interval(held, np.repeat(agreed[:, None], days, axis=1))
    return pd.DataFrame({
        "day": np.arange(days), "n_worlds": int(worlds.sum()), "n_agreed": int(agreed.sum()),
        "n_holding": held.sum(axis=0), "p_holding": p, "ci_low": low, "ci_high": high,
        "p_holding_given_deal": p_deal, "ci_low_given_deal": low_d, "ci_high_given_deal": high_d,
        "parameter_sd": sd, "parameter_sd_given_deal": sd_d, "interval": INTERVAL_KIND,
    })


def pooled_summary(runs: pd.DataFrame, horizon_days: int, scenario: str, seed: int, draw_of_world: np.ndarray,
                   draws: int) -> pd.DataFrame:
    """``summary.csv`` of worlds that ran posterior draws: :func:`sim.stats.metrics.summary_table` whose
    headline intervals are pooled (parameters and Monte Carlo), with, for each headline, its
    Monte-Carlo-only Wilson interval (``_mc_ci_low``, ``_mc_ci_high``) and spread across the posterior
    (``_parameter_sd``); ``interval`` and ``posterior_draws`` say so."""
    summary = summary_table(runs, horizon_days, scenario, seed)
    outcomes = headline_outcomes(runs, horizon_days, HEADLINE_DAYS)
    names = list(outcomes)
    _, low, high, sd = pooled_from_worlds(np.vstack([outcomes[n] for n in names]), draw_of_world, draws=draws)
    for i, name in enumerate(names):
        mc_low, mc_high = wilson_interval(np.count_nonzero(outcomes[name]), len(runs))
        summary[f"{name}_ci_low"], summary[f"{name}_ci_high"] = float(low[i]), float(high[i])
        summary[f"{name}_mc_ci_low"], summary[f"{name}_mc_ci_high"] = float(mc_low), float(mc_high)
        summary[f"{name}_parameter_sd"] = float(sd[i])
    summary["interval"] = INTERVAL_KIND
    summary["posterior_draws"] = draws
    return summary


def draw_table(choice: PosteriorChoice, seed: int, runs: pd.DataFrame, horizon_days: int,
               draw_of_world: np.ndarray) -> pd.DataFrame:
    """One row per draw (``draws.csv``): the particle it drew, its parameter values, its worlds, and its own
    P(deal), P(hold at 365 days) and P(hold at the horizon) (Monte Carlo only; NaN beyond the horizon)."""
    picked = draw_indices(choice.posterior, choice.draws, seed)
    outcomes = headline_outcomes(runs, horizon_days, (365,))
    names = [P_DEAL, p_hold(365), p_hold(HORIZON)]
    worlds = np.bincount(np.asarray(draw_of_world, dtype=np.int64), minlength=choice.draws)
    found = [n for n in names if n in outcomes]
    sums = draw_sums(np.vstack([outcomes[n] for n in found]), draw_of_world, choice.draws)
    table = choice.posterior.parameters.iloc[picked].reset_index(drop=True)
    table.insert(0, "particle", picked.astype(np.int64))
    table.insert(0, "draw", np.arange(choice.draws))
    table["worlds"] = worlds
    for name in names:
        table[name] = sums[:, found.index(name)] / worlds if name in found else np.nan
    return table
