"""Running a scenario with its parameters drawn from a posterior file (``ceasefire calibrate``'s output).

A posterior file is a CSV with one weighted particle per row: dotted scenario paths as columns
(``agents.RU.base_offensive_hazard``, ``model.intent_variance``), a ``weight`` column, and optionally
``distance``. :func:`run_with_posterior` draws parameter sets from it and pools their runs; the
pooled intervals then hold parameter uncertainty as well as Monte Carlo noise, and say so in the
``interval`` column (``parameters+monte_carlo``). Reading a posterior does not need pyabc.

Sweeps and the bet draw per world instead (:func:`posterior_world_values`): world ``r`` of every point
runs draw ``r % draws``, and :func:`pooled_from_worlds` pools a point's per-world outcomes by draw.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError, shown
from sim.engine.runner import RunResult
from sim.spec.scenario import Scenario, get_path, set_path, validate_document
from sim.stats.metrics import (
    HOLD_DAYS,
    LONG_HOLD_DAYS,
    Z_95,
    holding_counts,
    intent_table,
    summary_table,
    wilson_interval,
)

WEIGHT, DISTANCE = "weight", "distance"
EXTRA_COLUMNS = frozenset({WEIGHT, DISTANCE})
"""Columns of a posterior file that are not parameters."""
INTERVAL_KIND = "parameters+monte_carlo"
"""What the intervals of a posterior run include."""
DRAW_KEY = 0x9057
"""Spawn key of the stream that picks the posterior draws (apart from every world's stream)."""
DEFAULT_POSTERIOR = Path(__file__).resolve().parents[2] / "seeds" / "posterior" / "posterior.csv"
"""The fitted posterior of the default structure (``ceasefire calibrate``)."""


@dataclass(frozen=True)
class Posterior:
    """Weighted parameter sets: ``parameters`` (one column per dotted path) and normalised ``weights``."""

    parameters: pd.DataFrame
    weights: np.ndarray
    source: Path
    sha256: str = ""  # of the file's bytes, recorded in manifests and in a sweep's hash


@dataclass
class PosteriorRun:
    """A pooled run over posterior draws: the pooled tables, and one row per draw."""

    result: RunResult  # runs (with a ``draw`` column), survival and summary with parameter-aware intervals
    draws: pd.DataFrame  # draw, particle, the parameters, worlds, seed, and per-draw headline figures
    posterior: Posterior


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
            set_path(candidate, column, _typed(get_path(document, column), pick(table[column].to_numpy(float))),
                     source=path)
        validate_document(candidate, source=path)


def _typed(current: Any, value: float) -> Any:
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, int) and float(value).is_integer():
        return int(value)
    return float(value)


def _baseline() -> Scenario:
    from sim.core.bundled import scenario_path
    from sim.spec.scenario import load_scenario

    return load_scenario(scenario_path("baseline"))


# --------------------------------------------------------------------------- running


def draw_indices(posterior: Posterior, draws: int, seed: int) -> np.ndarray:
    """``draws`` particle indices, drawn with replacement in proportion to the weights (seeded)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DRAW_KEY,)))
    return rng.choice(len(posterior.weights), size=draws, replace=True, p=posterior.weights)


def draw_scenario(scenario: Scenario, values: dict[str, float], worlds: int, seed: int) -> Scenario:
    """``scenario`` with the given parameter values, ``worlds`` replications and ``seed``."""
    document = scenario.model_dump(mode="python")
    for path, value in values.items():
        set_path(document, path, _typed(get_path(document, path), value), source=Path("posterior"))
    document.update(replications=worlds, seed=seed)
    return validate_document(document, source=Path("posterior"))


def posterior_world_values(posterior: Posterior, draws: int, seed: int, replications: int,
                           template: Scenario | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-world parameter values for a sweep point or a bet's troop level: world ``r`` runs draw ``r % draws``.

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
    """``--posterior FILE --draws D`` of a sweep or a bet: which posterior, and how many particles it draws."""

    posterior: Posterior
    draws: int

    def key(self) -> dict[str, Any]:
        """What determines the results (part of a sweep's hash): the file's SHA-256 and the draws."""
        return {"sha256": self.posterior.sha256, "draws": self.draws}

    def describe(self, worlds: int) -> dict[str, Any]:
        """Manifest fields: the file, its SHA-256, the draws and worlds per draw, what the intervals hold."""
        return {"file": str(self.posterior.source), "sha256": self.posterior.sha256, "draws": self.draws,
                "worlds_per_draw": [worlds // self.draws, -(-worlds // self.draws)],
                "assignment": "world r runs draw r % draws at every point (draws picked by weight, seeded)",
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


def run_with_posterior(
    scenario: Scenario, posterior: Posterior, draws: int, workers: int = 1, seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> PosteriorRun:
    """Run ``scenario`` under ``draws`` parameter sets drawn from ``posterior`` and pool the worlds.

    Each draw runs ``scenario.replications // draws`` worlds (at least 1) with its own seed, a child of
    ``seed`` (default: the scenario's): results do not depend on ``workers``.

    Raises:
        InputError: ``draws`` < 1, or a drawn value is invalid for ``scenario``.
    """
    if draws < 1:
        raise InputError(f"--draws: must be >= 1 (got {draws})")
    seed = scenario.seed if seed is None else seed
    worlds = max(1, scenario.replications // draws)
    picked = draw_indices(posterior, draws, seed)
    seeds = np.random.SeedSequence(seed).spawn(draws)
    scenarios = [
        draw_scenario(scenario, {c: float(posterior.parameters.at[int(i), c]) for c in posterior.parameters.columns},
                      worlds, int(s.generate_state(1, np.uint64)[0] >> np.uint64(1)))
        for i, s in zip(picked, seeds, strict=True)
    ]
    results = _run_all(scenarios, workers, progress)
    return pool(scenario, results, picked, posterior)


def _run_all(scenarios: Sequence[Scenario], workers: int, progress: Callable[[int], None] | None) -> list[RunResult]:
    """Each draw's run, in draw order: packed (``sim.engine.packing``: the drawn parameters are per-world
    values), on ``workers`` local processes when more than one; the results do not depend on it."""
    from sim.engine.packing import run_packed
    from sim.engine.runner import RunResult

    parts = run_packed(scenarios, [()] * len(scenarios), workers=workers,
                       done=None if progress is None else (lambda index, _: progress(scenarios[index].replications)))
    return [RunResult(s, runs, survival=pd.DataFrame(),
                      summary=summary_table(runs, s.horizon_days, s.name, s.seed),
                      trajectories=None, intent=pd.DataFrame(), wall_seconds=0.0, workers=workers)
            for s, runs in zip(scenarios, parts, strict=True)]


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


def pool(scenario: Scenario, results: Sequence[RunResult], picked: np.ndarray, posterior: Posterior) -> PosteriorRun:
    """Join the draws' worlds into one RunResult whose intervals include parameter uncertainty."""
    horizon = scenario.horizon_days
    runs = []
    first = 0
    for d, r in enumerate(results):
        table = r.runs.copy()
        table.insert(0, "draw", d)
        table["replication"] = np.arange(first, first + len(table))
        first += len(table)
        runs.append(table)
    pooled_runs = pd.concat(runs, ignore_index=True)
    counts = [holding_counts(r.runs, horizon) for r in results]
    held = np.array([c[0] for c in counts])  # (draws, horizon + 1)
    agreed = np.array([int(c[1]) for c in counts])
    worlds = np.array([len(r.runs) for r in results])
    result = RunResult(
        scenario=scenario, runs=pooled_runs, survival=_survival(held, agreed, worlds),
        summary=_summary(pooled_runs, scenario, held, agreed, worlds, len(results)), trajectories=None,
        intent=intent_table(pooled_runs, horizon), wall_seconds=sum(r.wall_seconds for r in results),
        workers=max(r.workers for r in results),
    )
    return PosteriorRun(result, _draw_table(results, picked, posterior), posterior)


def _survival(held: np.ndarray, agreed: np.ndarray, worlds: np.ndarray) -> pd.DataFrame:
    days = held.shape[1]
    all_n = np.repeat(worlds[:, None], days, axis=1)
    deal_n = np.repeat(agreed[:, None], days, axis=1)
    p, low, high, sd = pooled_interval(held, all_n)
    pd_, low_d, high_d, sd_d = pooled_interval(held, deal_n)
    return pd.DataFrame({
        "day": np.arange(days), "n_worlds": int(worlds.sum()), "n_agreed": int(agreed.sum()),
        "n_holding": held.sum(axis=0), "p_holding": p, "ci_low": low, "ci_high": high,
        "p_holding_given_deal": pd_, "ci_low_given_deal": low_d, "ci_high_given_deal": high_d,
        "parameter_sd": sd, "parameter_sd_given_deal": sd_d, "interval": INTERVAL_KIND,
    })


def _summary(runs: pd.DataFrame, scenario: Scenario, held: np.ndarray, agreed: np.ndarray, worlds: np.ndarray,
             draws: int) -> pd.DataFrame:
    horizon = scenario.horizon_days
    summary = summary_table(runs.drop(columns="draw"), horizon, scenario.name, scenario.seed)
    columns: dict[str, np.ndarray] = {"p_agreed": agreed,
                                      "p_hold_horizon": held[:, horizon]}
    for day in (*HOLD_DAYS, *LONG_HOLD_DAYS):
        if day <= horizon:
            columns[f"p_hold_{day}"] = held[:, day]
    for name, successes in columns.items():
        p, low, high, sd = pooled_interval(successes[:, None], worlds[:, None])
        mc_low, mc_high = wilson_interval(successes.sum(), worlds.sum())
        summary[f"{name}_ci_low"], summary[f"{name}_ci_high"] = float(low[0]), float(high[0])
        summary[f"{name}_mc_ci_low"], summary[f"{name}_mc_ci_high"] = float(mc_low), float(mc_high)
        summary[f"{name}_parameter_sd"] = float(sd[0])
    summary["interval"] = INTERVAL_KIND
    summary["posterior_draws"] = draws
    return summary


def _draw_table(results: Sequence[RunResult], picked: np.ndarray, posterior: Posterior) -> pd.DataFrame:
    rows = []
    for d, (r, i) in enumerate(zip(results, picked, strict=True)):
        s = r.summary.iloc[0]
        rows.append({"draw": d, "particle": int(i), **posterior.parameters.iloc[int(i)].to_dict(),
                     "worlds": len(r.runs), "seed": r.scenario.seed, "p_agreed": s["p_agreed"],
                     "p_hold_365": s["p_hold_365"], "p_hold_horizon": s["p_hold_horizon"]})
    return pd.DataFrame(rows)


def posterior_manifest(run: PosteriorRun) -> dict[str, Any]:
    """Fields a run folder's manifest gains when its parameters come from a posterior."""
    return {"posterior_file": str(run.posterior.source), "posterior_sha256": run.posterior.sha256,
            "posterior_draws": len(run.draws),
            "worlds_per_draw": int(run.draws["worlds"].iloc[0]), "interval": INTERVAL_KIND,
            "posterior_parameters": list(run.posterior.parameters.columns)}


# --------------------------------------------------------------------------- command-line helpers


def posterior_from_args(args: argparse.Namespace, scenario: Scenario) -> Posterior | None:
    """``--posterior FILE`` read and checked against ``scenario`` (and ``--draws`` against its worlds),
    before any simulation; None without ``--posterior``.

    Raises:
        InputError: a bad posterior file, or ``--draws`` outside 1..replications.
    """
    if getattr(args, "posterior", None) is None:
        return None
    posterior = load_posterior(args.posterior, template=scenario)
    if not 1 <= args.draws <= scenario.replications:
        raise InputError(f"--draws: must be between 1 and the number of worlds, {scenario.replications} "
                         f"(got {args.draws})")
    return posterior


def apply_posterior(args: argparse.Namespace, scenario: Scenario, workers: int = 1,
                    progress: Callable[[int], None] | None = None) -> PosteriorRun | None:
    """With ``--posterior``: read it (errors before any simulation) and run; without: None."""
    posterior = posterior_from_args(args, scenario)
    if posterior is None:
        return None
    return run_with_posterior(scenario, posterior, args.draws, workers=workers, progress=progress)


def save_posterior_run(run: PosteriorRun, out_dir: str | Path, command_line: Sequence[str] | None = None,
                       source: str | Path | None = None) -> Path:
    """Write a posterior run folder: runs, survival, summary, intent, draws, manifest and survival plot."""
    from sim.outputs.artefacts import atomic_folder, manifest_base, write_csv, write_json
    from sim.outputs.plots.runs import plot_survival

    out_dir = Path(out_dir)
    result = run.result
    with atomic_folder(out_dir) as tmp:
        for name, table in (("runs", result.runs), ("survival", result.survival), ("summary", result.summary),
                            ("intent", result.intent), ("draws", run.draws)):
            write_csv(table, tmp / f"{name}.csv")
        plot_survival(result.survival, result.scenario.name, tmp / "survival.png")
        write_json({**manifest_base(result.scenario, command_line, source),
                    "structure": result.scenario.structure.model_dump(), **posterior_manifest(run),
                    "wall_seconds": round(result.wall_seconds, 3)}, tmp / "manifest.json")
    return out_dir
