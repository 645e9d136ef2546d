"""Global sensitivity over every assumption: Morris screening, then Sobol indices on the top few and the structure.

Three steps kept apart, as SALib separates them:

1. **sample**: a design in the unit hypercube, one column per factor (``SALib.sample.morris`` for
   Morris's trajectories, ``SALib.sample.sobol`` for Saltelli's design);
2. **evaluate**: each row mapped to a scenario (:meth:`Factor.value`: a prior's quantile,
   :meth:`sim.spec.sources.Prior.ppf`, or a form of a mechanism) and run, every point with the same seed
   (common random numbers);
3. **analyse**: ``SALib.analyze.morris`` and ``SALib.analyze.sobol`` on the design and its outputs.

Sampling and analysis go through :mod:`sim.stats.sensitivity`, the one wrapper of SALib; this module
computes only: :meth:`ScreeningResult.artefacts` lists the tables and figures
(``sim.outputs.plots.screen`` draws them).

The factors of the screening are every ``inspired`` and ``assumption`` parameter of
``seeds/commitments.yaml``, over its prior (:func:`sim.spec.sources.priors`). The Sobol step adds the twelve
structural switches (:data:`sim.mechanisms.REGISTRY`) as factors: a uniform value in [0, 1) picks one
of a mechanism's forms, each with equal weight; ``sim.experiments.sweep.design`` cannot express such a factor.

Outputs per point, over all worlds (no deal = not holding): P(hold at day 365), P(deal) and
P(hold at day 365 | deal).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError
from sim.experiments.result import Artefacts
from sim.mechanisms import DEFAULT_STRUCTURE, REGISTRY
from sim.spec.scenario import Scenario, get_path, load_scenario, set_path, validate_document
from sim.spec.sources import Prior, priors
from sim.stats.metrics import holding_counts
from sim.stats.sensitivity import (
    MORRIS_KEYS,
    binomial_noise_share,
    morris_analyse,
    morris_sample,
    saltelli_sample,
    sobol_table,
    unit_bounds,
)

BASELINE_FILE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
HOLD_DAY = 365
"""The day P(holding) is read at (the horizon if that is shorter)."""
OUTPUTS: tuple[str, ...] = ("p_hold_365", "p_deal", "p_hold_365_given_deal")
"""Outputs per point; the first ranks the factors."""
MORRIS_LEVELS = 4
"""Grid levels of Morris's design: unit values 0, 1/3, 2/3, 1; each step moves a factor by 2/3 of its range."""
MORRIS_RESAMPLES = 1000
"""Bootstrap resamples for the confidence interval of mu*."""
NOISE_SEEDS = 5
"""Seeds the baseline point is run with to measure Monte Carlo noise."""
TOP = 8
"""Parameters carried from the screening into the Sobol step."""
STRUCTURE_PREFIX = "structure."
MORRIS_COLUMNS = ("output", "parameter", "distribution", "low", "high", "default", "mu", "mu_star",
                  "mu_star_conf", "sigma", "rank", "trajectories", "noise_sd")
SOBOL_COLUMNS = ("output", "factor", "kind", "S1", "S1_conf", "ST", "ST_conf", "noise_share")
SHARE_COLUMNS = ("output", "structure_S1", "parameters_S1", "interactions", "noise_share",
                 "structure_ST", "parameters_ST", "points", "variance")
MORRIS_FIGURE = "morris.png"
SOBOL_FIGURES = ("sobol_top.png", "sobol_structure.png")
"""The figures of a screening (``sim.outputs.plots.screen``); the Sobol ones only when that step runs."""

Evaluate = Callable[[np.ndarray], np.ndarray]
"""Design rows (unit values, points × factors) -> outputs (points × len(OUTPUTS))."""


# --------------------------------------------------------------------------- factors


@dataclass(frozen=True)
class Factor:
    """One input of the design: a parameter over its prior, or a mechanism over its forms.

    :meth:`value` maps a unit value u in [0, 1] to the scenario's value: the prior's quantile
    (:meth:`sim.spec.sources.Prior.ppf`), or for a mechanism the form ``forms[floor(u n)]`` (u = 1 gives
    the last).

    Attributes:
        name: the scenario path the factor sets (``structure.<mechanism>`` for a mechanism).
        prior: the parameter's prior (None for a mechanism).
        forms: the mechanism's forms, in the registry's order (empty for a parameter).
        default: the base scenario's value, for the tables.
    """

    name: str
    prior: Prior | None = None
    forms: tuple[str, ...] = ()
    default: Any = None

    def value(self, u: float) -> Any:
        """The scenario value at unit value ``u`` (clipped to [0, 1])."""
        if self.prior is not None:
            return self.prior.ppf(u)
        u = min(max(float(u), 0.0), 1.0)
        return self.forms[min(int(u * len(self.forms)), len(self.forms) - 1)]

    @property
    def kind(self) -> str:
        """The prior's distribution, or ``structure`` for a mechanism."""
        return self.prior.distribution if self.prior is not None else "structure"

    @property
    def low(self) -> float:
        """Lower end of the prior (0 for a mechanism: the unit interval)."""
        return float(self.prior.low) if self.prior is not None else 0.0  # type: ignore[arg-type]

    @property
    def high(self) -> float:
        """Upper end of the prior (1 for a mechanism)."""
        return float(self.prior.high) if self.prior is not None else 1.0  # type: ignore[arg-type]

    @property
    def path(self) -> str:
        """The scenario path the factor sets (``structure.<mechanism>`` for a mechanism)."""
        return self.name


def prior_factors(base: Scenario | None = None) -> list[Factor]:
    """Every ``inspired`` and ``assumption`` parameter, by its prior, in the order of the commitments file."""
    document = base.model_dump(mode="python") if base is not None else {}
    return [Factor(path, prior, default=get_path(document, path)) for path, prior in priors().items()]


def structure_factors() -> list[Factor]:
    """One factor per contested mechanism, over its forms in the registry's order."""
    return [Factor(f"{STRUCTURE_PREFIX}{name}", forms=tuple(forms), default=DEFAULT_STRUCTURE[name])
            for name, forms in REGISTRY.items()]


# --------------------------------------------------------------------------- sample


def morris_design(factors: Sequence[Factor], trajectories: int, seed: int) -> np.ndarray:
    """Morris's design: ``trajectories × (len(factors) + 1)`` rows of unit values on a 4-level grid."""
    return morris_sample(trajectories, unit_bounds(len(factors)), MORRIS_LEVELS, seed)


def sobol_design(factors: Sequence[Factor], samples: int, seed: int) -> np.ndarray:
    """Saltelli's design without second-order terms: ``samples × (len(factors) + 2)`` rows of unit values,
    scrambled by ``default_rng(seed)``."""
    return saltelli_sample(samples, unit_bounds(len(factors)), np.random.default_rng(seed))


# --------------------------------------------------------------------------- evaluate


def base_document(scenario_file: Path, replications: int, horizon: int, seed: int) -> dict[str, Any]:
    """The resolved scenario every point starts from, as a plain mapping."""
    overrides = {"replications": replications, "horizon_days": horizon, "seed": seed}
    return load_scenario(scenario_file, overrides).model_dump(mode="python")


def point_scenario(document: Mapping[str, Any], factors: Sequence[Factor], row: np.ndarray) -> Scenario:
    """The scenario of one design row: the base with every factor set to its value.

    Raises:
        InputError: the values break the scenario's schema (names the factor values).
    """
    trial = _deep_copy(dict(document))
    for factor, u in zip(factors, row, strict=True):
        set_path(trial, factor.path, factor.value(u), source=Path("screening"))
    return validate_document(trial, source=Path("screening"))


def _deep_copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _deep_copy(value) for key, value in node.items()}
    return node


def _counts(scenario: Scenario, runs: pd.DataFrame) -> tuple[int, int, int]:
    day = min(HOLD_DAY, scenario.horizon_days)
    n_holding, n_agreed = holding_counts(runs, scenario.horizon_days)
    return len(runs), int(n_agreed), int(n_holding[day])


def outputs_from_counts(counts: np.ndarray) -> np.ndarray:
    """(worlds, deals, holding) rows -> (P(hold 365), P(deal), P(hold 365 | deal)); NaN where no deal."""
    counts = np.asarray(counts, dtype=float)
    worlds, deals, holding = counts[:, 0], counts[:, 1], counts[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        given = np.where(deals > 0, holding / deals, np.nan)
    return np.column_stack([holding / worlds, deals / worlds, given])


def run_counts(scenarios: Sequence[Scenario], workers: int = 1,
               progress: Callable[[int], None] | None = None, executor: Executor | None = None) -> np.ndarray:
    """(worlds, deals, holding) of every scenario, packed (``sim.engine.packing``) on ``workers`` local
    processes, each as ``ceasefire run`` runs it (common random numbers); order kept."""
    from sim.engine.packing import run_packed

    counts = np.zeros((len(scenarios), 3), dtype=np.int64)

    def done(index: int, runs: pd.DataFrame) -> None:
        counts[index] = _counts(scenarios[index], runs)
        if progress is not None:
            progress(1)

    run_packed(scenarios, [()] * len(scenarios), done=done, workers=workers, executor=executor)
    return counts


@dataclass
class ModelEvaluator:
    """The evaluate step with the model: design rows -> outputs, every point with the same seed.

    ``counts`` keeps the (worlds, deals, holding) of every row evaluated, in order, for the noise share.
    """

    document: dict[str, Any]
    factors: Sequence[Factor]
    workers: int = 1
    progress: Callable[[int], None] | None = None
    counts: list[np.ndarray] = field(default_factory=list)
    executor: Executor | None = None

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        scenarios = [point_scenario(self.document, self.factors, row) for row in rows]
        counts = run_counts(scenarios, self.workers, self.progress, self.executor)
        self.counts.append(counts)
        return outputs_from_counts(counts)


def baseline_noise(document: Mapping[str, Any], seeds: int = NOISE_SEEDS, workers: int = 1,
                   progress: Callable[[int], None] | None = None, executor: Executor | None = None) -> np.ndarray:
    """SD across ``seeds`` seeds of each output at the base point: the Monte Carlo noise of one point."""
    base_seed = int(document["seed"])
    scenarios = []
    for offset in range(seeds):
        trial = _deep_copy(dict(document))
        trial["seed"] = base_seed + offset
        scenarios.append(validate_document(trial, source=Path("screening")))
    values = outputs_from_counts(run_counts(scenarios, workers, progress, executor))
    return np.nanstd(values, axis=0, ddof=1)


# --------------------------------------------------------------------------- analyse


def analyse_morris(factors: Sequence[Factor], design: np.ndarray, outputs: np.ndarray, seed: int,
                   noise_sd: Sequence[float] | None = None) -> pd.DataFrame:
    """``morris.csv``: mu, mu*, its 95 % half-width and sigma per factor per output (SALib).

    Elementary effects are per unit of the factor's prior range (a move of 2/3 of the range counts
    2/3), so mu* compares factors on their priors. Trajectories with a NaN output (no deal, for the
    conditional output) are left out of that output; ``trajectories`` says how many were used.
    """
    names, bounds = [f.name for f in factors], unit_bounds(len(factors))
    k = len(factors)
    per = k + 1
    rows = []
    for column, output in enumerate(OUTPUTS[: outputs.shape[1]]):
        y = outputs[:, column].reshape(-1, per)
        keep = ~np.isnan(y).any(axis=1)
        x = design.reshape(-1, per, k)[keep].reshape(-1, k)
        used = int(keep.sum())
        if used >= 2 and np.ptp(y[keep]) > 0:
            result = morris_analyse(names, bounds, x, y[keep].ravel(), MORRIS_LEVELS, MORRIS_RESAMPLES, seed)
        else:
            result = {key: np.full(k, np.nan if used < 2 else 0.0) for key in MORRIS_KEYS}
        order = np.argsort(-np.nan_to_num(np.asarray(result["mu_star"], float), nan=-1.0), kind="stable")
        rank = np.empty(k, dtype=int)
        rank[order] = np.arange(1, k + 1)
        for j, factor in enumerate(factors):
            rows.append({
                "output": output, "parameter": factor.name, "distribution": factor.kind,
                "low": factor.low, "high": factor.high, "default": factor.default,
                **{key: float(result[key][j]) for key in MORRIS_KEYS},
                "rank": int(rank[j]), "trajectories": used,
                "noise_sd": float(noise_sd[column]) if noise_sd is not None else float("nan"),
            })
    table = pd.DataFrame(rows, columns=list(MORRIS_COLUMNS))
    return table.sort_values(["output", "rank"], key=_output_order, kind="stable").reset_index(drop=True)


def _output_order(column: pd.Series) -> pd.Series:
    return column.map(OUTPUTS.index) if column.name == "output" else column


def top_parameters(morris_table: pd.DataFrame, count: int = TOP, output: str = OUTPUTS[0]) -> list[str]:
    """The ``count`` parameters with the largest mu* on ``output``."""
    rows = morris_table[morris_table["output"] == output].sort_values("rank")
    return list(rows["parameter"].head(count))


def analyse_sobol(factors: Sequence[Factor], outputs: np.ndarray, trials: Mapping[str, np.ndarray] | None,
                  seed: int) -> pd.DataFrame:
    """``sobol.csv``: S1 and ST with 95 % half-widths per factor per output (SALib), and the noise share.

    ``noise_share`` is the mean binomial variance p(1-p)/(n-1) of a point, n its worlds (its deals for
    the conditional output; ``trials`` by output name, NaN where not given), over the variance of the
    output across points: the part of the variance no factor explains, which Jansen's ST estimator
    adds to every ST. An output with a NaN at some point (no deal anywhere) is left out.
    """
    names = [f.name for f in factors]
    kept = {output: outputs[:, column] for column, output in enumerate(OUTPUTS[: outputs.shape[1]])
            if not np.isnan(outputs[:, column]).any()}
    noise = {output: binomial_noise_share(y, trials[output]) if trials and output in trials else float("nan")
             for output, y in kept.items()}
    indices = sobol_table(names, unit_bounds(len(names)), kept, seed).rename(columns={"parameter": "factor"})
    kinds = {f.name: ("structure" if f.kind == "structure" else "parameter") for f in factors}
    indices.insert(2, "kind", indices["factor"].map(kinds))
    indices["noise_share"] = indices["output"].map(noise)
    return indices[list(SOBOL_COLUMNS)]


def trials_of(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The binomial denominators of each output: worlds, worlds, deals."""
    counts = np.asarray(counts, dtype=float)
    return {OUTPUTS[0]: counts[:, 0], OUTPUTS[1]: counts[:, 0], OUTPUTS[2]: counts[:, 1]}


def variance_shares(sobol_table: pd.DataFrame, outputs: np.ndarray) -> pd.DataFrame:
    """Per output: main effects of structure and of parameters (sums of S1), the rest (interactions),
    the noise share, the sums of ST, and the variance across points."""
    rows = []
    for output, group in sobol_table.groupby("output", sort=False):
        structure = group[group["kind"] == "structure"]
        params = group[group["kind"] == "parameter"]
        s_struct, s_params = float(structure["S1"].sum()), float(params["S1"].sum())
        noise = float(group["noise_share"].iloc[0])
        column = OUTPUTS.index(str(output))
        rows.append({
            "output": output, "structure_S1": s_struct, "parameters_S1": s_params,
            "interactions": 1.0 - s_struct - s_params - (0.0 if math.isnan(noise) else noise),
            "noise_share": noise, "structure_ST": float(structure["ST"].sum()),
            "parameters_ST": float(params["ST"].sum()), "points": int(outputs.shape[0]),
            "variance": float(np.var(outputs[:, column], ddof=1)),
        })
    return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))


# --------------------------------------------------------------------------- the whole screening


@dataclass
class ScreeningResult:
    """A finished screening.

    Attributes:
        morris: ``morris.csv``; sobol: ``sobol.csv`` (None when skipped); shares: ``variance_shares.csv``.
        morris_points / sobol_points: each design row's factor values and outputs.
        top: the parameters carried into the Sobol step.
        timings: wall seconds of each step.
    """

    morris: pd.DataFrame
    morris_points: pd.DataFrame
    sobol: pd.DataFrame | None
    sobol_points: pd.DataFrame | None
    shares: pd.DataFrame | None
    top: list[str]
    noise_sd: np.ndarray
    settings: dict[str, Any]
    timings: dict[str, float]
    scenario: Scenario | None = None

    def artefacts(self) -> Artefacts:
        """The folder of the screening: its tables, the figures drawn from them and its manifest fields."""
        tables = {"morris.csv": self.morris, "morris_points.csv": self.morris_points}
        figures: tuple[str, ...] = (MORRIS_FIGURE,)
        if self.sobol is not None:
            tables.update({"sobol.csv": self.sobol, "sobol_points.csv": self.sobol_points,
                           "variance_shares.csv": self.shares})
            figures += SOBOL_FIGURES
        return Artefacts("screen", tables, manifest=self.manifest(), figures=figures, scenario=self.scenario,
                         source=self.settings.get("scenario_file"))

    def manifest(self) -> dict[str, Any]:
        """What a reader needs to reproduce the screening: settings, outputs, factor mapping, timings."""
        return {
            **self.settings,
            "outputs": list(OUTPUTS),
            "outcomes": "P(holding at day 365) and P(deal) over all worlds (no deal = not holding); "
                        "P(holding at day 365 | deal)",
            "random_numbers": "common: every point runs the same blocks with the same seed",
            "noise_sd": {o: round(float(v), 6) for o, v in zip(OUTPUTS, self.noise_sd, strict=True)},
            "top": self.top,
            "factor_mapping": "unit value u: uniform low+u(high-low); loguniform in log space; integer_uniform "
                              "floor(u(high-low+1)) whole steps; bernoulli true where u >= 1-p; structure "
                              "forms[floor(u n)]",
            "wall_seconds": {k: round(v, 1) for k, v in self.timings.items()},
        }


def points_table(factors: Sequence[Factor], design: np.ndarray, outputs: np.ndarray,
                 counts: np.ndarray | None = None) -> pd.DataFrame:
    """One row per design point: each factor's value (not its unit value), then the outputs."""
    table = pd.DataFrame({f.name: [f.value(u) for u in design[:, j]] for j, f in enumerate(factors)})
    for column, output in enumerate(OUTPUTS[: outputs.shape[1]]):
        table[output] = np.round(outputs[:, column], 6)
    if counts is not None:
        table["worlds"], table["deals"], table["holding"] = counts[:, 0], counts[:, 1], counts[:, 2]
    return table


def planned_runs(factors: int, trajectories: int, sobol_samples: int, structure: int = len(REGISTRY)) -> int:
    """Model runs a screening makes: noise seeds, Morris points, Sobol points."""
    sobol = sobol_samples * (min(TOP, factors) + structure + 2) if sobol_samples > 0 else 0
    return NOISE_SEEDS + trajectories * (factors + 1) + sobol


def run_screening(
    scenario_file: Path = BASELINE_FILE, trajectories: int = 20, replications: int = 500, horizon: int = HOLD_DAY,
    seed: int = 20261125, sobol_samples: int = 128, workers: int = 1,
    progress: Callable[[int], None] | None = None, evaluate: Evaluate | None = None,
    executor: Executor | None = None,
    factors: Sequence[Factor] | None = None,
) -> ScreeningResult:
    """Morris over every prior parameter, then Sobol over the top :data:`TOP` and the structural switches.

    Args:
        scenario_file: the scenario around which the priors are varied (its structure is the default
            for the Morris step).
        trajectories: Morris trajectories r (points: r × (k + 1)).
        replications, horizon, seed: worlds per point, days simulated, the one seed of every point.
        sobol_samples: Saltelli base samples N (points: N × (8 + 12 + 2)); 0 skips the Sobol step.
        workers: local processes, or the worker slots of ``executor``; results do not depend on it.
        progress: called with 1 per point run.
        executor: where the packs run (a Dask cluster's, ``--scheduler``); None starts local processes.
        evaluate: replaces the model (tests): unit design rows -> outputs (points × up to 3).
        factors: the screened factors (default: every prior parameter).
    """
    check_sizes(trajectories, replications, horizon, seed, sobol_samples)
    document = base_document(scenario_file, replications, horizon, seed)
    base = validate_document(_deep_copy(document), source=Path(scenario_file))
    factors = list(factors) if factors is not None else prior_factors(base)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    noise_sd = (baseline_noise(document, NOISE_SEEDS, workers, progress, executor) if evaluate is None
                else np.full(len(OUTPUTS), np.nan))
    timings["noise"] = time.perf_counter() - start

    start = time.perf_counter()
    model = ModelEvaluator(document, factors, workers, progress, executor=executor)
    design = morris_design(factors, trajectories, seed)
    outputs = (evaluate or model)(design)
    morris_table = analyse_morris(factors, design, outputs, seed, noise_sd)
    morris_points = points_table(factors, design, outputs, model.counts[-1] if evaluate is None else None)
    timings["morris"] = time.perf_counter() - start

    top = top_parameters(morris_table, min(TOP, len(factors)))
    sobol = sobol_points = shares = None
    if sobol_samples > 0:
        start = time.perf_counter()
        by_name = {f.name: f for f in factors}
        sobol_factors = [by_name[name] for name in top] + structure_factors()
        model = ModelEvaluator(document, sobol_factors, workers, progress, executor=executor)
        design = sobol_design(sobol_factors, sobol_samples, seed)
        outputs = (evaluate or model)(design)
        sobol = analyse_sobol(sobol_factors, outputs, trials_of(model.counts[-1]) if evaluate is None else None, seed)
        shares = variance_shares(sobol, outputs)
        sobol_points = points_table(sobol_factors, design, outputs, model.counts[-1] if evaluate is None else None)
        timings["sobol"] = time.perf_counter() - start
    settings = {"scenario_file": str(scenario_file), "trajectories": trajectories, "replications": replications,
                "horizon_days": horizon, "seed": seed, "sobol_samples": sobol_samples, "workers": workers,
                "morris_levels": MORRIS_LEVELS, "noise_seeds": NOISE_SEEDS, "hold_day": min(HOLD_DAY, horizon),
                "factors": len(factors), "top": TOP}
    return ScreeningResult(morris_table, morris_points, sobol, sobol_points, shares, top, noise_sd, settings, timings,
                           scenario=base)


def check_sizes(trajectories: int, replications: int, horizon: int, seed: int, sobol_samples: int) -> None:
    """Refuse sizes the design cannot use, naming the option.

    Raises:
        InputError: ``--trajectories`` < 2, ``--replications`` < 1, ``--horizon`` < 1, a negative
            ``--seed``, or ``--sobol-samples`` neither 0 nor a power of 2 (Saltelli's design).
    """
    if trajectories < 2:
        raise InputError(f"--trajectories: must be >= 2 (got {trajectories})")
    if replications < 1:
        raise InputError(f"--replications: must be >= 1 (got {replications})")
    if horizon < 1:
        raise InputError(f"--horizon: must be >= 1 day (got {horizon})")
    if not 0 <= seed <= 2**63 - 1:
        raise InputError(f"--seed: must be between 0 and 2^63-1 (got {seed})")
    if sobol_samples < 0 or (sobol_samples > 0 and sobol_samples & (sobol_samples - 1)):
        raise InputError(f"--sobol-samples: must be 0 (skip) or a power of 2, e.g. 64 or 128 (got {sobol_samples})")


# --------------------------------------------------------------------------- names


def short_name(name: str) -> str:
    """``agents.RU.war_cost`` -> ``RU.war_cost``; ``model.entry_cost`` -> ``entry_cost``."""
    return name.removeprefix("agents.").removeprefix("model.")


def noise_floor(noise_sd: float) -> float:
    """mu* that pure noise would give: E|e| of an elementary effect between two independent points
    with output SD ``noise_sd``, a step of 2/3 of the range. Common random numbers lower the real floor."""
    step = MORRIS_LEVELS / (2.0 * (MORRIS_LEVELS - 1))
    return math.sqrt(2.0 / math.pi) * math.sqrt(2.0) * noise_sd / step
