"""Structural uncertainty in every headline: a scenario run under every combination of structural forms,
crossed with parameter draws, and the variance of each headline number split into its sources.

Design (a balanced full factorial):

- **Combinations** ``c = 1..C``: the combinations of the twelve contested mechanisms' forms (all 20,736, or a
  seeded uniform sample; ``ceasefire ensemble`` samples 96 by default)
  (:data:`sim.mechanisms.REGISTRY`), or ``sample:N``, N distinct combinations drawn uniformly without
  replacement from the seed's combination stream (:func:`choose_combinations`).
- **Parameter draws** ``d = 1..K``: from a fitted posterior file (rows resampled in proportion to their
  weights) or, by default, from the priors of ``seeds/commitments.yaml``. The *same* K draws serve every
  combination (common parameter draws). A parameter the scenario sets to a value of its own (other than
  the commitments' default) is the scenario's question, not an uncertainty, and is not drawn.
- **Random numbers**: draw ``d`` runs with seed ``seed + d`` in every combination (common random numbers
  across combinations, so that differences between structures are paired); different draws have
  different seeds, so the Monte Carlo errors of the K runs of one combination are independent and the
  binomial formula gives exactly the Monte Carlo part of their spread.

Each cell ``(c, d)`` gives what one :func:`sim.experiments.run.run_scenario` of N worlds gives (run packed, many
cells to a batch: ``sim.engine.packing``); its headline numbers are P(deal), P(holding at 365 days),
P(holding at 365 days | deal) and P(holding at the horizon).

Variance decomposition of a headline ``y[c, d]`` (two-way layout, draws as random blocks; see
:func:`variance_shares`): structure = the variance between combination means, less the interaction noise
that reaches them; parameters = the variance between draws within a combination, less the Monte Carlo part;
Monte Carlo = the binomial variance ``p(1 - p) / n`` of one run, averaged over runs.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError
from sim.engine.streams import StreamKey, generator
from sim.experiments.result import Artefacts
from sim.mechanisms import DEFAULT_STRUCTURE, LEGACY_STRUCTURE, REGISTRY
from sim.spec.scenario import Scenario, get_path, load_scenario
from sim.spec.sources import typed
from sim.stats.form_effects import coefficients, form_effects
from sim.stats.metrics import holding_counts

if TYPE_CHECKING:
    from concurrent.futures import Executor

MECHANISM_NAMES: tuple[str, ...] = tuple(REGISTRY)
"""The contested mechanisms (twelve in version 3), in registry order (the form columns of ``ensemble.csv``)."""

OUTPUTS: dict[str, str] = {
    "p_deal": "P(deal)",
    "p_hold_365": "P(holding at 365 days)",
    "p_hold_365_given_deal": "P(holding at 365 days | deal)",
    "p_hold_horizon": "P(holding at the horizon)",
}
"""Headline numbers of every run: column prefix -> label."""

ONE_YEAR = 365
"""Days of the fixed-horizon headline."""

MAX_SEED = 2**63 - 1
"""Largest scenario seed; run seeds wrap below it."""

FIXED_SOURCE = "fixed: the scenario's own values"
"""``parameter_source`` of ``--draws 0``: no parameter draws."""

STATISTICS: tuple[str, ...] = ("mean", "p05", "p95", "low", "high", "min_structure", "max_structure", "mc_se")
"""Per-output columns of ``ensemble.csv`` (``<output>_<statistic>``); see :func:`ensemble_table`."""

ENSEMBLE_FIGURES: tuple[str, ...] = ("ensemble.png",)
"""The figure of an ensemble folder (``sim.outputs.plots.ensemble``)."""


# --------------------------------------------------------------------------- design


def all_combinations() -> list[dict[str, str]]:
    """Every combination of forms, ``{mechanism: form}``, in registry order (the default's index varies)."""
    forms = [list(REGISTRY[name]) for name in MECHANISM_NAMES]
    return [dict(zip(MECHANISM_NAMES, chosen, strict=True)) for chosen in itertools.product(*forms)]


def choose_combinations(spec: str, seed: int) -> tuple[list[dict[str, str]], str]:
    """The combinations ``--combinations`` names, and the rule as text for the manifest.

    Args:
        spec: ``all`` or ``sample:N`` (1 <= N <= the number of combinations): N distinct combinations uniformly
            at random without replacement, from the generator ``generator(seed, StreamKey.ENSEMBLE_COMBINATIONS)``
            (``sim.engine.streams``), kept in registry order.

    Raises:
        InputError: any other text, or N out of range.
    """
    combos = all_combinations()
    text = spec.strip()
    if text == "all":
        return combos, f"all {len(combos)}"
    head, sep, count = text.partition(":")
    if head != "sample" or not sep or not count.strip().isdigit():
        raise InputError(f"--combinations: expected 'all' or 'sample:N', e.g. sample:12 (got {spec!r})")
    n = int(count)
    if not 1 <= n <= len(combos):
        raise InputError(f"--combinations: sample:N needs 1 <= N <= {len(combos)} (got {n})")
    rng = generator(seed, StreamKey.ENSEMBLE_COMBINATIONS)
    chosen = sorted(rng.choice(len(combos), size=n, replace=False).tolist())
    return [combos[i] for i in chosen], f"sample:{n} of {len(combos)} (uniform without replacement, seed {seed})"


@dataclass(frozen=True)
class ParameterDraws:
    """K parameter sets (dotted scenario path -> value) and where they come from (``prior`` or
    ``posterior FILE``)."""

    values: tuple[dict[str, Any], ...]
    source: str


def scenario_own_paths(base: Scenario) -> set[str]:
    """Dotted paths of assumed parameters the scenario sets to a value other than the commitments' default."""
    from sim.spec.sources import load_commitments

    defaults = load_commitments().defaults()
    current = base.model_dump()
    return {path for path in load_commitments().priors() if get_path(current, path) != get_path(defaults, path)}


def prior_draws(base: Scenario, k: int, seed: int) -> ParameterDraws:
    """K independent draws from the priors of ``seeds/commitments.yaml`` of every assumed parameter the
    scenario leaves at its default; seeded by ``generator(seed, StreamKey.ENSEMBLE_PARAMETERS)``."""
    from sim.spec.sources import load_commitments

    priors = load_commitments().priors()
    own = scenario_own_paths(base)
    rng = generator(seed, StreamKey.ENSEMBLE_PARAMETERS)
    current = base.model_dump()
    draws: list[dict[str, Any]] = [{} for _ in range(k)]
    for path, prior in priors.items():  # path order is the commitments' order: fixed, so draws are reproducible
        values = prior.sample(rng, k)
        if path in own:
            continue  # drawn anyway, so that the other parameters' draws do not depend on the scenario
        for draw, value in zip(draws, values, strict=True):
            draw[path] = typed(get_path(current, path), value)
    return ParameterDraws(tuple(draws), "prior")


def read_posterior(path: Path, base: Scenario) -> tuple[pd.DataFrame, np.ndarray]:
    """A posterior file's particles (one column per dotted path) and normalised weights
    (:func:`sim.stats.posterior.load_posterior`, which checks every column and value).

    Raises:
        InputError: unreadable file, no ``weight`` column, an unknown column, bad weights or values.
    """
    from sim.stats.posterior import load_posterior

    posterior = load_posterior(path, base)
    return posterior.parameters, np.asarray(posterior.weights, dtype=float)


def posterior_draws(path: Path, base: Scenario, k: int, seed: int) -> ParameterDraws:
    """K rows of a posterior file, drawn with replacement in proportion to their weights (seeded like the
    prior draws); the draws then count equally."""
    parameters, weights = read_posterior(Path(path), base)
    rng = generator(seed, StreamKey.ENSEMBLE_PARAMETERS)
    rows = rng.choice(len(weights), size=k, replace=True, p=weights)
    current = base.model_dump()
    draws = tuple({column: typed(get_path(current, column), parameters.iloc[row][column])
                   for column in parameters.columns} for row in rows)
    return ParameterDraws(draws, f"posterior {path}")


@dataclass(frozen=True)
class Design:
    """The full factorial: every combination crossed with every draw, draw ``d`` seeded ``seeds[d]``."""

    scenario_file: Path
    base: Scenario
    combinations: tuple[dict[str, str], ...]
    combination_rule: str
    draws: ParameterDraws
    seeds: tuple[int, ...]
    replications: int
    horizon_days: int

    @property
    def cells(self) -> list[tuple[int, int]]:
        """(combination index, draw index) of every run, combination-major."""
        return [(c, d) for c in range(len(self.combinations)) for d in range(len(self.seeds))]

    def overrides(self, c: int, d: int) -> dict[str, Any]:
        """Scenario overrides of run ``(c, d)``: forms, parameter draw, worlds, horizon, seed."""
        forms = {f"structure.{name}": form for name, form in self.combinations[c].items()}
        return {**forms, **self.draws.values[d], "replications": self.replications,
                "horizon_days": self.horizon_days, "seed": self.seeds[d]}

    def scenario(self, c: int, d: int) -> Scenario:
        """The validated scenario of run ``(c, d)``."""
        return load_scenario(self.scenario_file, self.overrides(c, d))


def make_design(
    scenario_file: Path,
    combinations: str = "all",
    draws: int = 16,
    replications: int = 500,
    horizon_days: int | None = None,
    seed: int | None = None,
    posterior: Path | None = None,
) -> Design:
    """The ensemble design of a scenario; every run's scenario is validated here, before any simulation.

    Args:
        scenario_file: scenario YAML (or a bundled name).
        combinations: ``all`` or ``sample:N``.
        draws: parameter draws K (>= 2: the parameter part needs a spread within combinations), or 0: one
            run per combination at the scenario's own values (structure and Monte Carlo only).
        replications: worlds per run N (>= 1).
        horizon_days: days after the deal (default: the scenario's).
        seed: base seed (default: the scenario's); draw d runs with ``seed + d``.
        posterior: a posterior CSV; None draws from the priors.

    Raises:
        InputError: bad sizes, combinations, posterior, or a draw the scenario schema refuses.
    """
    if draws < 0 or draws == 1:
        raise InputError(f"--draws: must be 0 (the scenario's own values) or >= 2, so parameters have a spread "
                         f"to measure (got {draws})")
    if replications < 2:
        raise InputError(f"--replications: must be >= 2 (got {replications})")
    if horizon_days is not None and horizon_days < 1:
        raise InputError(f"--horizon: must be >= 1 day (got {horizon_days})")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError(f"--seed: must be between 0 and {MAX_SEED} (got {seed})")
    base = load_scenario(scenario_file)
    seed = base.seed if seed is None else seed
    combos, rule = choose_combinations(combinations, seed)
    if draws == 0:
        if posterior is not None:
            raise InputError("--draws: 0 runs the scenario's own values; give --draws K >= 2 with --posterior")
        parameter_draws = ParameterDraws(({},), FIXED_SOURCE)
    else:
        parameter_draws = (prior_draws(base, draws, seed) if posterior is None
                           else posterior_draws(posterior, base, draws, seed))
    design = Design(
        scenario_file=Path(scenario_file), base=base, combinations=tuple(combos), combination_rule=rule,
        draws=parameter_draws, seeds=tuple((seed + d) % (MAX_SEED + 1) for d in range(max(draws, 1))),
        replications=replications, horizon_days=horizon_days or base.horizon_days,
    )
    _check_draws(design, posterior)
    return design


def _check_draws(design: Design, posterior: Path | None) -> None:
    """Validate every draw under the default structure (a draw's validity does not depend on the forms)."""
    for d in range(len(design.seeds)):
        try:
            load_scenario(design.scenario_file, {**design.overrides(0, d), **{
                f"structure.{k}": v for k, v in DEFAULT_STRUCTURE.items()}})
        except InputError as exc:
            where = posterior if posterior is not None else "prior draw"
            raise InputError(f"{where}: draw {d}: {exc}") from None


# --------------------------------------------------------------------------- running


def headline_counts(runs: pd.DataFrame, horizon_days: int) -> dict[str, int]:
    """``<output>_k`` (successes) and ``<output>_n`` (trials) of each headline number; the 365-day ones
    have 0 trials when the horizon is shorter."""
    n_holding, n_agreed = holding_counts(runs, horizon_days)
    n, agreed = len(runs), int(n_agreed)
    year = int(n_holding[ONE_YEAR]) if horizon_days >= ONE_YEAR else 0
    in_year = horizon_days >= ONE_YEAR
    return {
        "p_deal_k": agreed, "p_deal_n": n,
        "p_hold_365_k": year, "p_hold_365_n": n if in_year else 0,
        "p_hold_365_given_deal_k": year, "p_hold_365_given_deal_n": agreed if in_year else 0,
        "p_hold_horizon_k": int(n_holding[horizon_days]), "p_hold_horizon_n": n,
    }


@dataclass
class EnsembleResult:
    """The design, one row per run (``runs``), the wall time in seconds and the worker processes (or a
    cluster's worker slots) used."""

    design: Design
    runs: pd.DataFrame
    wall_seconds: float
    workers: int

    @cached_property
    def table(self) -> pd.DataFrame:
        """``ensemble.csv`` (:func:`ensemble_table`)."""
        return ensemble_table(self)

    @cached_property
    def variance(self) -> pd.DataFrame:
        """``variance.csv`` (:func:`variance_table`)."""
        return variance_table(self)

    @cached_property
    def form_effects(self) -> pd.DataFrame:
        """``form_effects.csv``: each form's main effect on each headline against its mechanism's default form,
        fitted to the combinations' means (:func:`sim.stats.form_effects.form_effects`)."""
        return form_effects(self._combination_rows, MECHANISM_NAMES, [f"{o}_mean" for o in OUTPUTS],
                            DEFAULT_STRUCTURE, REGISTRY)

    @property
    def _combination_rows(self) -> pd.DataFrame:
        """The rows of ``ensemble.csv`` that are combinations (not the pooled row)."""
        return self.table[self.table["row"] == "combination"]

    def artefacts(self) -> Artefacts:
        """``ensemble.csv``, ``variance.csv``, ``form_effects.csv``, ``runs.csv``, ``draws.csv``, ``ensemble.png``
        and the manifest."""
        tables = {"ensemble.csv": self.table, "variance.csv": self.variance, "form_effects.csv": self.form_effects,
                  "runs.csv": self.runs, "draws.csv": draws_table(self.design)}
        return Artefacts("ensemble", tables, manifest=self.manifest_fields(), figures=ENSEMBLE_FIGURES,
                         scenario=self.design.base.model_copy(update={"replications": self.design.replications,
                                                                      "horizon_days": self.design.horizon_days}),
                         source=self.design.scenario_file)

    def manifest_fields(self) -> dict[str, Any]:
        """What a reader needs to reproduce the ensemble beyond the common fields: design, seeds, parameter
        source, method, timing."""
        design = self.design
        return {
            "combinations": design.combination_rule,
            "n_combinations": len(design.combinations),
            "draws": len(design.seeds),
            "run_seeds": list(design.seeds),
            "worlds_per_run": design.replications,
            "run_horizon_days": design.horizon_days,
            "parameter_source": design.draws.source,
            "parameters_drawn": sorted(design.draws.values[0]),
            "design": "full factorial: every combination x every draw; the same draws and the same seed per draw "
                      "in every combination (common parameter draws and common random numbers)",
            "outputs": OUTPUTS,
            "variance": "two-way layout, draws as random blocks: structure = (MS_combination - MS_residual) / K; "
                        "parameters = mean within-combination variance between draws - Monte Carlo; "
                        "Monte Carlo = mean binomial variance p(1-p)/(n-1) of one run",
            "form_effects": self._form_effects_note(),
            "workers": self.workers,
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def _form_effects_note(self) -> str:
        """What ``form_effects.csv`` holds, or why it is empty."""
        combinations = self._combination_rows
        needed = coefficients(combinations, MECHANISM_NAMES, DEFAULT_STRUCTURE, REGISTRY)
        if self.form_effects.empty:
            return (f"not fitted: {len(combinations)} combinations for {needed} coefficients (the fit needs more "
                    "combinations than coefficients)")
        return (f"main effects of the forms against the default forms, least squares over {len(combinations)} "
                f"combination means, {needed} coefficients, 95 % t intervals")


def run_ensemble(design: Design, workers: int = 1, progress: Callable[[int], None] | None = None,
                 executor: Executor | None = None) -> EnsembleResult:
    """Run every cell of the design; results are the same whatever ``workers``, ``executor`` or the finishing
    order.

    Cells of the same structural combination are run packed, many to a batch (``sim.engine.packing``): the
    drawn parameters become per-world values; every world keeps the streams of its cell's seed. With
    ``workers`` > 1 the packs run on ``executor`` (e.g. a Dask cluster's, ``workers`` its slots), or on
    that many local processes.

    Raises:
        sim.engine.runner.WorkersStoppedError: with ``workers > 1``, the worker processes stopped.
    """
    from sim.engine.packing import run_packed

    start = time.perf_counter()
    cells = list(design.cells)
    scenarios = [design.scenario(*cell) for cell in cells]

    def done(index: int, _runs: pd.DataFrame) -> None:
        if progress is not None:
            progress(1)

    parts = run_packed(scenarios, [()] * len(cells), done=done, workers=workers, executor=executor)
    records = [{"cell": cell, **headline_counts(runs, scenario.horizon_days)}
               for cell, scenario, runs in zip(cells, scenarios, parts, strict=True)]
    runs = runs_table(design, records)
    return EnsembleResult(design, runs, time.perf_counter() - start, workers)


def runs_table(design: Design, records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run (``runs.csv``): combination, draw, seed, forms, successes, trials and estimate."""
    rows = []
    for record in records:
        c, d = record["cell"]
        row: dict[str, Any] = {"combination": c, "draw": d, "seed": design.seeds[d],
                               **design.combinations[c]}
        for output in OUTPUTS:
            k, n = record[f"{output}_k"], record[f"{output}_n"]
            row.update({f"{output}_k": k, f"{output}_n": n, output: k / n if n else np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- analysis


def grid(runs: pd.DataFrame, column: str, shape: tuple[int, int]) -> np.ndarray:
    """A run column as a (combinations, draws) array, rows in combination order."""
    ordered = runs.sort_values(["combination", "draw"])
    return ordered[column].to_numpy(dtype=float).reshape(shape)


def mc_variance(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Unbiased estimate of each run's binomial variance ``p (1 - p) / n``: ``p̂ (1 - p̂) / (n - 1)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        return np.where(n >= 2, p * (1.0 - p) / np.maximum(n - 1.0, 1.0), np.nan)


def variance_shares(y: np.ndarray, v_mc: np.ndarray) -> dict[str, float]:
    """Split the variance of run-level estimates ``y[c, d]`` into structure, parameters and Monte Carlo.

    Two-way layout with one run per (combination, draw), draws as random blocks shared by every
    combination: ``y = m + s_c + t_d + (st)_cd + e_cd``.

    - Monte Carlo: ``σ²_mc`` = mean of ``v_mc`` (each run's binomial variance).
    - Parameters: the mean within-combination variance between draws (``ddof=1``) estimates
      ``σ²_t + σ²_st + σ²_mc`` (the K runs of a combination have independent seeds), so
      ``σ²_param = max(0, within - σ²_mc)``.
    - Structure: the between-combination mean square ``K·Σ(ȳ_c - ȳ)²/(C-1)`` estimates
      ``K σ²_s + σ²_st + noise``; the common draw effect ``t_d`` cancels from it (common draws), and
      the residual mean square estimates the rest, so ``σ²_structure = max(0, (MS_c - MS_res) / K)``.
      With one combination it is 0.
    - One draw (fixed parameters): parameters 0; structure ``max(0, var_c(y) - σ²_mc)``, conservative, since
      common random numbers make the MC errors of the combinations positively correlated.

    Args:
        y: (C, K) estimates, no NaN.
        v_mc: (C, K) binomial variances of those estimates.

    Returns:
        ``var_structure``, ``var_parameters``, ``var_monte_carlo``, ``var_total`` (their sum), and
        ``share_structure``, ``share_parameters``, ``share_monte_carlo`` (summing to 1; NaN if the total is 0).
    """
    v_mc_mean = float(np.mean(v_mc))
    var_struct = _structure_variance(y, v_mc_mean)
    var_param = 0.0 if y.shape[1] == 1 else max(0.0, float(np.mean(np.var(y, axis=1, ddof=1))) - v_mc_mean)
    total = var_struct + var_param + v_mc_mean
    shares = ({f"share_{name}": value / total for name, value in
               (("structure", var_struct), ("parameters", var_param), ("monte_carlo", v_mc_mean))}
              if total > 0 else dict.fromkeys(("share_structure", "share_parameters", "share_monte_carlo"), np.nan))
    return {"var_structure": var_struct, "var_parameters": var_param, "var_monte_carlo": v_mc_mean,
            "var_total": total, **shares}


SHARES: tuple[str, ...] = ("share_structure", "share_parameters", "share_monte_carlo")
VARIANCE_COLUMNS: tuple[str, ...] = (*SHARES, "var_structure", "var_parameters", "var_monte_carlo", "var_total",
                                     "draws_used")
INTERVAL_COLUMNS: tuple[str, ...] = tuple(f"{share}_{end}" for share in SHARES for end in ("low", "high"))
"""Columns of ``variance.csv`` after ``output``: the shares and variances, the draws used, then each share's 95 %
bootstrap interval."""

BOOTSTRAP_RESAMPLES = 1000
"""Resamples of :func:`share_intervals`."""


def _structure_variance(y: np.ndarray, v_mc_mean: float) -> float:
    """The structural variance component of a (C, K) grid (see :func:`variance_shares`)."""
    c, k = y.shape
    if c < 2:
        return 0.0
    if k == 1:  # fixed parameters: combinations differ by structure and by the part of MC noise not shared
        return max(0.0, float(np.var(y[:, 0], ddof=1)) - v_mc_mean)
    combo_means, draw_means, grand = y.mean(axis=1), y.mean(axis=0), y.mean()
    ms_c = k * float(np.sum((combo_means - grand) ** 2)) / (c - 1)
    residual = y - combo_means[:, None] - draw_means[None, :] + grand
    ms_res = float(np.sum(residual**2)) / ((c - 1) * (k - 1))
    return max(0.0, (ms_c - ms_res) / k)


def balanced_shares(y: np.ndarray, v_mc: np.ndarray) -> dict[str, float]:
    """:func:`variance_shares` over the draws whose runs are defined in every combination, plus
    ``draws_used``; NaN shares when fewer than 2 such draws remain (1 when the design has one draw)."""
    # a draw whose run is undefined in some combination (no deal, for the conditional headline) is left
    # out of every combination, so that the layout stays balanced
    complete = ~(np.isnan(y) | np.isnan(v_mc)).any(axis=0)
    used = int(complete.sum())
    if used < min(2, y.shape[1]):
        return {**dict.fromkeys(VARIANCE_COLUMNS, np.nan), "draws_used": used}
    return {**variance_shares(y[:, complete], v_mc[:, complete]), "draws_used": used}


def share_intervals(y: np.ndarray, v_mc: np.ndarray, rng: np.random.Generator,
                    resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, float]:
    """95 % percentile intervals of the shares of :func:`balanced_shares`, by the pigeonhole bootstrap of a
    crossed design: combinations and draws resampled with replacement, independently (Owen 2007), so that the
    intervals hold both the sampling of the structures and that of the parameter draws. Owen shows this
    bootstrap slightly overstates the variance of a crossed *mean*; for these ratios of variance components it
    errs the other way: in a simulated 96 x 16 layout the intervals covered the true shares about 81-83 % of the
    time (``benchmarks/check_share_intervals.py``), so they are too narrow, and the docs say so.

    Returns ``share_<part>_low`` and ``share_<part>_high`` for each part; NaN where fewer than 2 draws are
    defined in every combination, or with a single combination and a single draw.
    """
    complete = ~(np.isnan(y) | np.isnan(v_mc)).any(axis=0)
    y, v_mc = y[:, complete], v_mc[:, complete]
    c, k = y.shape
    if k < min(2, complete.size) or c * k < 2:
        return dict.fromkeys(INTERVAL_COLUMNS, np.nan)
    found = np.empty((resamples, len(SHARES)))
    for b in range(resamples):
        rows, columns = rng.integers(0, c, c), rng.integers(0, k, k)
        shares = variance_shares(y[np.ix_(rows, columns)], v_mc[np.ix_(rows, columns)])
        found[b] = [shares[name] for name in SHARES]
    with np.errstate(all="ignore"):
        low, high = np.nanquantile(found, [0.025, 0.975], axis=0)
    return {column: float(value) for share, lo, hi in zip(SHARES, low, high, strict=True)
            for column, value in ((f"{share}_low", lo), (f"{share}_high", hi))}


def variance_table(result: EnsembleResult) -> pd.DataFrame:
    """``variance.csv``: one row per headline number: its variance shares and variances, ``draws_used`` (the
    draws whose runs are defined in every combination; NaN shares when fewer than 2) and each share's 95 %
    bootstrap interval (:func:`share_intervals`, seeded by the design's seed)."""
    shape = (len(result.design.combinations), len(result.design.seeds))
    rng = generator(result.design.seeds[0], StreamKey.ENSEMBLE_BOOTSTRAP)
    rows = []
    for output in OUTPUTS:
        y = grid(result.runs, output, shape)
        v = mc_variance(grid(result.runs, f"{output}_k", shape), grid(result.runs, f"{output}_n", shape))
        parts = balanced_shares(y, v)
        rows.append({"output": output, **{key: parts[key] for key in VARIANCE_COLUMNS},
                     **share_intervals(y, v, rng)})
    return pd.DataFrame(rows)


def _stats(values: np.ndarray, v_mc: np.ndarray, combo_means: np.ndarray | None) -> dict[str, float]:
    """Mean, 5/95 % and 2.5/97.5 % quantiles of run estimates, structural range, Monte Carlo SE of the mean."""
    values, v_mc = values[~np.isnan(values)], v_mc[~np.isnan(v_mc)]
    if len(values) == 0:
        return dict.fromkeys(STATISTICS, np.nan)
    p05, p95, low, high = np.quantile(values, [0.05, 0.95, 0.025, 0.975])
    # independent seeds across draws; across combinations the errors of one draw share a seed and are
    # positively correlated, so mean(v)/K bounds the variance of the pooled mean's MC error from above
    draws = v_mc.size if combo_means is None else v_mc.size // max(len(combo_means), 1)
    mc_se = math.sqrt(float(np.sum(v_mc))) / len(v_mc) if combo_means is None else \
        math.sqrt(float(np.mean(v_mc)) / max(draws, 1))
    has_range = combo_means is not None and len(combo_means) > 0
    return {"mean": float(values.mean()), "p05": float(p05), "p95": float(p95), "low": float(low),
            "high": float(high), "min_structure": float(np.nanmin(combo_means)) if has_range else np.nan,
            "max_structure": float(np.nanmax(combo_means)) if has_range else np.nan, "mc_se": mc_se}


def ensemble_table(result: EnsembleResult) -> pd.DataFrame:
    """``ensemble.csv``: one row per combination (statistics over its K draws), then the pooled row.

    Per output ``X``: ``X_mean``; ``X_p05``/``X_p95`` and ``X_low``/``X_high`` (5/95 % and 2.5/97.5 %
    quantiles of the run-level estimates: over draws for a combination, over every run for the pooled row,
    so the pooled interval holds structure, parameters and the binomial noise of one N-world run);
    ``X_min_structure``/``X_max_structure`` (range of the combination means; pooled row only);
    ``X_mc_se`` (Monte Carlo standard error of the mean; an upper bound on the pooled row).
    """
    design = result.design
    shape = (len(design.combinations), len(design.seeds))
    columns = {o: grid(result.runs, o, shape) for o in OUTPUTS}
    variances = {o: mc_variance(grid(result.runs, f"{o}_k", shape), grid(result.runs, f"{o}_n", shape))
                 for o in OUTPUTS}
    common = {"draws": len(design.seeds), "replications": design.replications, "seed": design.seeds[0],
              "horizon_days": design.horizon_days, "parameter_source": design.draws.source}
    rows = []
    for c, forms in enumerate(design.combinations):
        row: dict[str, Any] = {"row": "combination", "combination": c, **forms,
                               "is_default": forms == DEFAULT_STRUCTURE, "legacy_forms": forms == LEGACY_STRUCTURE,
                               "runs": shape[1], **common}
        for output in OUTPUTS:
            stats = _stats(columns[output][c], variances[output][c], None)
            row.update({f"{output}_{key}": value for key, value in stats.items()})
        rows.append(row)
    pooled: dict[str, Any] = {"row": "pooled", "combination": -1, **dict.fromkeys(MECHANISM_NAMES, "all"),
                              "is_default": False, "legacy_forms": False, "runs": shape[0] * shape[1], **common}
    for output in OUTPUTS:
        with np.errstate(all="ignore"):
            means = np.nanmean(columns[output], axis=1) if not np.isnan(columns[output]).all() else np.array([])
        stats = _stats(columns[output].ravel(), variances[output].ravel(), means)
        pooled.update({f"{output}_{key}": value for key, value in stats.items()})
    rows.append(pooled)
    return pd.DataFrame(rows)


def draws_table(design: Design) -> pd.DataFrame:
    """``draws.csv``: the parameter values and seed of each draw (one row per draw)."""
    return pd.DataFrame([{"draw": d, "seed": seed, **design.draws.values[d]} for d, seed in enumerate(design.seeds)])
