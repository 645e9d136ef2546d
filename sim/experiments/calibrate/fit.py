"""Calibration by inference: ABC-SMC (pyabc) of a few assumptions against the calibration evidence.

What is fitted (the pre-registered plan, ``seeds/evidence_plan.yaml``, says which evidence may be):

- **the life table of the calibration spells**: failures per year at risk of Fortna's primary-analogue spells
  that never had a mission (``spells_none``, ``spells_political``), in the
  intervals 0-90 days, 90 days-1 year, 1-2, 2-3 and 3-5 years (:data:`LIFE_TABLE_BREAKS_DAYS`), against the
  deals of the model's no-troops, no-monitoring scenario (:data:`NONE_RUN`: ``no_european_troops`` with US
  detection 0, as ``ceasefire validation`` maps those spells) simulated for five years;
- **the OSCE's recorded violations per day** (``minsk_recorded_violations_per_day``) against the monitoring-only
  scenario (:data:`MONITORING_RUN`, one year).

The distance adds, for each life-table interval, the Poisson deviance of the record's failures against the
failures the model's hazard predicts over the record's own days at risk (the counts are small: 3 to 12
failures an interval, so a Gaussian distance would be wrong), and for the violations ((model - observed) / se)²
with ``se`` the empirical 95 % interval's half-width / 1.96. Both are -2 log likelihood ratios, on one scale.
Every other item is held out and never read here: :func:`calibration_statistics` passes every key through
:func:`sim.spec.evidence_plan.calibration_keys`, and the record's held-out spells are dropped by
:func:`sim.spec.spells.calibration_segments` before anything is counted.

Only the parameters in ``FITTED`` are inferred; all others stay at their defaults (docs/CALIBRATION.md says
why). Loguniform priors are sampled in log10 space so that the perturbation kernel moves them by ratios.

Reproducibility: each model evaluation is seeded from the run seed and the parameter values
themselves, so equal parameters give equal statistics whatever the order. pyabc's proposals come from
numpy's global generator, which is seeded here, and are drawn in order by
``sim.experiments.calibrate.batch_sampler.BatchSampler``,
which simulates a batch of particles packed into one run (on ``workers`` processes): the posterior is
the same, byte for byte, on every run, whatever the batch size and the number of workers.
pyabc is imported only when a calibration runs; reading a posterior (:mod:`sim.stats.posterior`) does not
need it.

Computes only: :func:`run_calibration` returns a :class:`Calibration` whose :meth:`~Calibration.artefacts`
lists the tables of its folder (:func:`sim.outputs.artefacts.save` writes them, and
:mod:`sim.outputs.plots.calibrate` draws ``posterior.png`` from them).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import struct
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.bundled import scenario_path
from sim.core.errors import InputError
from sim.experiments.result import Artefacts
from sim.experiments.run import RunResult, run_scenario
from sim.experiments.validation.anchors import ANCHORS, Estimate, detected_per_day
from sim.mechanisms import DEFAULT_STRUCTURE
from sim.spec.evidence_plan import calibration_keys, plan_sha256
from sim.spec.scenario import Scenario, load_scenario
from sim.spec.sources import Prior, priors
from sim.spec.spells import calibration_segments, load_segments, primary_analogue
from sim.stats.metrics import Z_95
from sim.stats.survival import censor_at, failures_and_exposure

COMMAND = "calibrate"
SCENARIO_FILE = scenario_path("no_european_troops")
"""The scenario both calibration runs are made from: no European troops (monitoring on or off)."""
LIFE_TABLE_BREAKS_DAYS: tuple[int, ...] = (0, 91, 365, 730, 1095)
"""Lower edges of the life-table intervals fitted: 0-90 days, 90 days-1 year, 1-2, 2-3 and 3-5 years."""
LIFE_TABLE_END_DAYS = 1826
"""The last interval's end (five years): the record is censored, and the no-mission run simulated, to here."""
LIFE_TABLE_ITEMS: tuple[str, ...] = ("spells_none", "spells_political")
"""The plan items the life table reads: the calibration spells (their own hazard shape, not the plan's pooled
``hazard_shape`` table, which included mission spells)."""
VIOLATIONS_KEY = "minsk_recorded_violations_per_day"
VIOLATIONS_DAYS = 365
"""Days the monitoring-only run is simulated for the violation rate (a daily rate: one year is plenty)."""
FAILED_DIVERGENT = 1e6
"""Distance of a simulation whose statistics cannot be computed (no deal in any world)."""


@dataclass(frozen=True)
class CalibrationRun:
    """One of the two runs a particle is scored by: bundled scenario, overrides, horizon (days)."""

    key: str
    description: str
    overrides: Mapping[str, Any]
    horizon_days: int


NONE_RUN = CalibrationRun("none", "no troops and no monitoring (US detection 0): the calibration spells' mapping",
                          {"agents.US.detection_probability": 0.0}, LIFE_TABLE_END_DAYS)
MONITORING_RUN = CalibrationRun("monitoring", "US monitoring only: the OSCE's recorded violations", {},
                                VIOLATIONS_DAYS)
RUNS: tuple[CalibrationRun, ...] = (NONE_RUN, MONITORING_RUN)


def life_table_key(start: int, end: int) -> str:
    """The statistic's name of one interval, e.g. ``life_table_91_365d``."""
    return f"life_table_{start}_{end}d"


LIFE_TABLE_KEYS: tuple[str, ...] = tuple(
    life_table_key(a, b) for a, b in zip(LIFE_TABLE_BREAKS_DAYS, (*LIFE_TABLE_BREAKS_DAYS[1:], LIFE_TABLE_END_DAYS),
                                         strict=True))

STATISTIC_ITEMS: dict[str, tuple[str, ...]] = {**{key: LIFE_TABLE_ITEMS for key in LIFE_TABLE_KEYS},
                                               VIOLATIONS_KEY: (VIOLATIONS_KEY,)}
"""Every summary statistic fitted, with the plan items it reads."""

FITTED: tuple[str, ...] = (
    "agents.RU.offensive_value",
    "agents.RU.resumption_cost",
    "model.offensive_ceiling",
    "model.institution_effect",
    "model.institution_days",
    "model.institution_erosion",
    "model.incident_rate",
    "model.spiral_hazard",
    "model.deterrence_weight",
)
"""The assumptions inferred (model version 3): the offensive choice's value, cost and ceiling, the duration
mechanism's effect, time constant and erosion (the hazard's dependence on time), the incident rate, the spiral
hazard, and the deterrence weight (which acts without troops through the guarantors' other capability; it was
once tuned to held-out anchors and is refitted here on calibration evidence only). Version 2's base hazard and
intent variance act only in the retired forms (``offensive: hazard``, ``types: gamma``). The rest stay at their
defaults."""


@dataclass(frozen=True)
class Settings:
    """Size of an ABC-SMC run: particles per generation, generations, worlds per evaluation, seed.

    ``worlds`` are the no-mission run's (five years); the monitoring run has ``violation_worlds`` (one year)."""

    particles: int
    generations: int
    worlds: int
    seed: int = 20261126
    workers: int = 1
    fitted: tuple[str, ...] = FITTED
    violation_worlds: int = 500
    structure: tuple[tuple[str, str], ...] = ()  # (mechanism, form) pairs; () = the default structure
    batch: int = 0  # particles simulated together (batch_sampler); 0 = as many as fill a pack per worker
    overrides: tuple[tuple[str, Any], ...] = ()  # fixed values (dotted paths) beside the fitted ones: a variant


QUICK = Settings(particles=100, generations=6, worlds=1500)
FULL = Settings(particles=300, generations=8, worlds=4000, violation_worlds=1000)


@dataclass(frozen=True)
class Coordinate:
    """One fitted parameter as pyabc sees it: a plain name, and log10 scale for loguniform priors."""

    path: str
    prior: Prior

    @property
    def name(self) -> str:
        return self.path.replace(".", "__")

    @property
    def log(self) -> bool:
        return self.prior.distribution == "loguniform"

    def to_value(self, x: float) -> float:
        return float(10.0 ** x) if self.log else float(x)

    def to_sampled(self, value: float) -> float:
        """The inverse of :meth:`to_value`: a value on the scale pyabc samples (log10 for loguniform)."""
        return math.log10(value) if self.log else float(value)

    def bounds(self) -> tuple[float, float]:
        low, high = float(self.prior.low), float(self.prior.high)  # type: ignore[arg-type]
        return (math.log10(low), math.log10(high)) if self.log else (low, high)


@dataclass
class Calibration:
    """The result: weighted particles, per-generation record, settings and timing."""

    posterior: pd.DataFrame  # one row per particle: dotted paths, weight (sums to 1), distance
    populations: pd.DataFrame  # generation, epsilon, particles, evaluations, acceptance
    settings: Settings
    observed: dict[str, float]
    scales: dict[str, float]
    wall_seconds: float
    coordinates: list[Coordinate] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Per fitted parameter: default, prior, weighted posterior median and 90 % interval, width against the
        prior's, weight in the prior's outer 5 % at each end and information gained."""
        return posterior_summary(self)

    def artefacts(self) -> Artefacts:
        """posterior.csv, posterior_summary.csv, populations.csv, the figure posterior.png and the manifest's
        fields (:mod:`sim.outputs.plots.calibrate` draws the figure from the first two)."""
        return Artefacts(COMMAND, tables={"posterior.csv": self.posterior, "posterior_summary.csv": self.summary(),
                                          "populations.csv": self.populations},
                         manifest=manifest_fields(self), figures=("posterior.png",))


# --------------------------------------------------------------------------- statistics and distance


def calibration_statistics() -> dict[str, tuple[str, ...]]:
    """:data:`STATISTIC_ITEMS`, once the evidence plan has confirmed every item they read is a calibration item.

    Raises:
        InputError: an item is held out in the plan, or not in it.
    """
    calibration_keys(sorted({item for items in STATISTIC_ITEMS.values() for item in items}))
    return dict(STATISTIC_ITEMS)


def record_life_table(segments: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Failures and days at risk per life-table interval of the record's calibration spells (primary analogue),
    censored at five years. Held-out spells (any with a mission) are dropped before anything is counted."""
    calibration_statistics()
    segments = load_segments() if segments is None else segments
    chosen = segments[calibration_segments(segments) & primary_analogue(segments)]
    start, stop, event = censor_at(chosen["entry_day"], chosen["exit_day"], chosen["event"], LIFE_TABLE_END_DAYS)
    failures, exposure = failures_and_exposure(start, stop, event, LIFE_TABLE_BREAKS_DAYS)
    return failures.astype(float), exposure.astype(float)


def model_life_table(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Failures and days at risk per life-table interval among a run's deals (day 0 = the ceasefire)."""
    deals = result.runs[result.runs["agreed"].to_numpy(bool)]
    day = deals["breakdown_day"].to_numpy(float, na_value=np.nan)
    broke = ~np.isnan(day) & (day <= LIFE_TABLE_END_DAYS)
    exit_day = np.maximum(np.where(broke, day, LIFE_TABLE_END_DAYS), 0.5)  # a day-0 breakdown has time at risk
    start, stop, event = censor_at(np.zeros(len(exit_day)), exit_day, broke.astype(int), LIFE_TABLE_END_DAYS)
    failures, exposure = failures_and_exposure(start, stop, event, LIFE_TABLE_BREAKS_DAYS)
    return failures.astype(float), exposure.astype(float)


def per_year(failures: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Failures per year at risk (NaN where nothing was at risk)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(exposure > 0, failures / (exposure / 365.25), np.nan)


def observed_estimates() -> dict[str, Estimate]:
    """The empirical figure of every statistic: the record's failures per year at risk (with a Poisson 95 %
    interval) and the OSCE's violation rate as defined in :mod:`sim.experiments.validation.anchors`."""
    statistics = calibration_statistics()
    failures, exposure = record_life_table()
    estimates = {}
    for k, key in enumerate(LIFE_TABLE_KEYS):
        rate = float(per_year(failures, exposure)[k])
        half = Z_95 * math.sqrt(max(failures[k], 0.5)) / max(exposure[k] / 365.25, 1e-12)
        estimates[key] = Estimate(rate, max(rate - half, 0.0), rate + half)
    by_key = {anchor.key: anchor for anchor in ANCHORS}
    for key in statistics:
        if key in LIFE_TABLE_KEYS:
            continue
        if key not in by_key:
            raise InputError(f"sim/experiments/validation/anchors.py: ANCHORS: calibration anchor {key} "
                             "is not defined")
        estimates[key] = by_key[key].empirical
    return estimates


def observed_values() -> dict[str, float]:
    """The observed summary statistics (rates per year at risk; violations per day)."""
    return {key: float(e.value) for key, e in observed_estimates().items()}


def distance_scales() -> dict[str, float]:
    """Per statistic, what one unit of distance is measured against: the record's days at risk (in years) of
    each life-table interval, and the violations' empirical standard error (half the 95 % interval / 1.96)."""
    _, exposure = record_life_table()
    scales = {key: float(exposure[k] / 365.25) for k, key in enumerate(LIFE_TABLE_KEYS)}
    for key, e in observed_estimates().items():
        if key in scales:
            continue
        se = (e.high - e.low) / (2 * Z_95)
        if not (math.isfinite(se) and se > 0):
            raise InputError(f"sim/experiments/validation/anchors.py: {key}: empirical interval must have low < high")
        scales[key] = float(se)
    return scales


def summary_statistics(results: Mapping[str, RunResult]) -> dict[str, float]:
    """The statistics of a particle's runs by :class:`CalibrationRun` key (NaN where no deal was reached)."""
    calibration_statistics()
    rates = per_year(*model_life_table(results[NONE_RUN.key]))
    out = {key: float(rates[k]) for k, key in enumerate(LIFE_TABLE_KEYS)}
    with np.errstate(invalid="ignore", divide="ignore"):
        out[VIOLATIONS_KEY] = float(detected_per_day(MONITORING_RUN.key)(results).value)
    return out


def noise_floor() -> float:
    """The distance at which ABC-SMC stops: the median of a chi-squared with one degree of freedom per statistic
    (5.35 for six), i.e. how far the record lies from a *correct* model's expectation by Poisson and sampling
    noise alone. Shrinking epsilon below it would keep only the parameters that happen to reproduce the record's
    noise, and the posterior would be narrower than the evidence allows."""
    from scipy.stats import chi2

    return float(chi2.median(len(STATISTIC_ITEMS)))


def poisson_deviance(observed: float, expected: float) -> float:
    """2 [D log(D / mu) - (D - mu)]: -2 log likelihood ratio of ``observed`` failures against a Poisson mean."""
    if expected <= 0:
        return 0.0 if observed == 0 else FAILED_DIVERGENT
    term = observed * math.log(observed / expected) if observed > 0 else 0.0
    return 2.0 * (term - (observed - expected))


def distance(simulated: Mapping[str, float], observed: Mapping[str, float], scales: Mapping[str, float]) -> float:
    """The Poisson deviance of the record's failures in each life-table interval against the model's rate over
    the record's years at risk, plus ((simulated − observed) / se)² for the violations; FAILED_DIVERGENT if a
    statistic is NaN."""
    total = 0.0
    for key, scale in scales.items():
        value = simulated[key]
        if not math.isfinite(value):
            return FAILED_DIVERGENT
        if key in LIFE_TABLE_KEYS:
            total += poisson_deviance(observed[key] * scale, value * scale)
        else:
            total += ((value - observed[key]) / scale) ** 2
    return total


def evaluation_seed(seed: int, parameters: Mapping[str, float]) -> int:
    """A 63-bit seed from the run seed and the exact parameter values (order of keys irrelevant)."""
    digest = hashlib.sha256(struct.pack("<q", seed))
    for key in sorted(parameters):
        digest.update(key.encode() + struct.pack("<d", float(parameters[key])))
    return int.from_bytes(digest.digest()[:8], "little") >> 1


def evaluation_scenarios(parameters: Mapping[str, float], settings: Settings) -> dict[str, Scenario]:
    """The two calibration runs (:data:`RUNS`) with ``parameters`` (dotted paths), the settings' fixed overrides
    and structure, their worlds and the evaluation's own seed."""
    seed = evaluation_seed(settings.seed, parameters)
    fixed = {**dict(settings.overrides), **{f"structure.{m}": form for m, form in settings.structure}}
    worlds = {NONE_RUN.key: settings.worlds, MONITORING_RUN.key: settings.violation_worlds}
    return {run.key: load_scenario(SCENARIO_FILE, {**run.overrides, **fixed, **parameters,
                                                   "replications": worlds[run.key],
                                                   "horizon_days": run.horizon_days, "seed": seed})
            for run in RUNS}


def simulate(parameters: Mapping[str, float], settings: Settings) -> dict[str, float]:
    """Run the calibration runs with ``parameters`` (see :func:`evaluation_scenarios`); their statistics."""
    scenarios = evaluation_scenarios(parameters, settings)
    return summary_statistics({key: run_scenario(s, workers=1, record_trajectories=False)
                               for key, s in scenarios.items()})


def simulate_many(parameter_sets: Sequence[Mapping[str, float]], settings: Settings,
                  executor: Any = None) -> list[dict[str, float]]:
    """:func:`simulate` for many parameter sets at once, packed (``sim.engine.packing``): the same statistics."""
    from sim.engine.packing import run_packed

    keyed = [evaluation_scenarios(p, settings) for p in parameter_sets]
    flat = [(i, key, s) for i, by_key in enumerate(keyed) for key, s in by_key.items()]
    parts = run_packed([s for _, _, s in flat], [()] * len(flat), workers=settings.workers, executor=executor)
    results: list[dict[str, RunResult]] = [{} for _ in parameter_sets]
    for (i, key, s), runs in zip(flat, parts, strict=True):
        results[i][key] = RunResult(s, runs, pd.DataFrame(), pd.DataFrame(), None, pd.DataFrame(), 0.0, 1)
    return [summary_statistics(r) for r in results]


# --------------------------------------------------------------------------- priors


def fitted_coordinates(fitted: Sequence[str] = FITTED) -> list[Coordinate]:
    """The fitted parameters with their priors from seeds/commitments.yaml (continuous priors only)."""
    known = priors()
    coordinates = []
    for path in fitted:
        if path not in known:
            raise InputError(f"seeds/commitments.yaml: {path}: has no prior (only assumed parameters can be fitted)")
        prior = known[path]
        if prior.distribution not in ("uniform", "loguniform"):
            raise InputError(f"seeds/commitments.yaml: {path}: prior {prior.distribution} cannot be fitted "
                             "(uniform or loguniform only)")
        coordinates.append(Coordinate(path, prior))
    return coordinates


# --------------------------------------------------------------------------- ABC-SMC


def run_calibration(settings: Settings, db_dir: Path | None = None, executor: Any = None) -> Calibration:
    """Fit ``settings.fitted`` to the calibration anchors by ABC-SMC; returns the last generation.

    Args:
        settings: particles, generations, worlds per evaluation, seed, workers and batch size (the
            posterior depends on neither of the last two).
        db_dir: folder for pyabc's working database (default: a temporary folder, removed after).
        executor: where the packed batches run (a Dask cluster's, ``--scheduler``; ``settings.workers`` its
            slots); None starts ``settings.workers`` local processes. The posterior is the same.

    Raises:
        InputError: pyabc is not installed, or a fitted parameter has no continuous prior.
    """
    pyabc = import_pyabc()
    coordinates = fitted_coordinates(settings.fitted)
    observed, scales = observed_values(), distance_scales()
    start = time.perf_counter()
    np.random.seed(settings.seed % 2**32)  # pyabc's proposals come from numpy's global generator
    logging.getLogger("ABC").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ceasefire-abc-", dir=db_dir) as tmp, \
            contextlib.ExitStack() as stack:
        if executor is None and settings.workers > 1:
            from sim.engine.runner import local_executor

            executor = stack.enter_context(local_executor(settings.workers))
        abc = pyabc.ABCSMC(
            _model_function(coordinates, settings), _prior(pyabc, coordinates),
            lambda x, x0: distance(x, x0, scales), population_size=settings.particles,
            sampler=_sampler(coordinates, settings, executor),
        )
        abc.new(f"sqlite:///{Path(tmp) / 'abc.db'}", observed)
        history = abc.run(max_nr_populations=settings.generations, minimum_epsilon=noise_floor())
        posterior = _posterior_table(history, coordinates)
        populations = _population_table(history)
    return Calibration(posterior, populations, settings, observed, scales, time.perf_counter() - start,
                       coordinates)


def import_pyabc() -> Any:
    """pyabc, or an InputError saying how to install it (only fitting needs it)."""
    try:
        import pyabc
    except ImportError:
        raise InputError("pyabc: not installed; calibration needs it: pip install 'ceasefire[calibrate]' "
                         "(reading a posterior does not)") from None
    return pyabc


def _model_function(coordinates: Sequence[Coordinate], settings: Settings) -> Callable[[Mapping[str, float]], dict]:
    from sim.experiments.calibrate.batch_sampler import batched

    def model(particle: Mapping[str, float]) -> dict[str, float]:
        values = {c.path: c.to_value(particle[c.name]) for c in coordinates}
        return simulate(values, settings)

    return batched(model)


def batch_size(settings: Settings) -> int:
    """Particles simulated together: ``settings.batch``, or enough to fill a pack on every worker."""
    from sim.engine.packing import PACK_WORLDS

    if settings.batch > 0:
        return settings.batch
    return max(1, settings.workers) * max(1, PACK_WORLDS // settings.worlds)


def _prior(pyabc: Any, coordinates: Sequence[Coordinate]) -> Any:
    rvs = {}
    for c in coordinates:
        low, high = c.bounds()
        rvs[c.name] = pyabc.RV("uniform", low, high - low)
    return pyabc.Distribution(**rvs)


def _sampler(coordinates: Sequence[Coordinate], settings: Settings, executor: Any) -> Any:
    """pyabc's proposals in order, the particles' simulations packed in batches (``batch_sampler``)."""
    from sim.experiments.calibrate.batch_sampler import BatchSampler

    def simulate_batch(particles: Sequence[Mapping[str, float]]) -> list[dict[str, float]]:
        values = [{c.path: c.to_value(p[c.name]) for c in coordinates} for p in particles]
        return simulate_many(values, settings, executor)

    return BatchSampler(batch_size(settings), simulate_batch)


def _posterior_table(history: Any, coordinates: Sequence[Coordinate]) -> pd.DataFrame:
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    table = pd.DataFrame({c.path: [c.to_value(x) for x in frame[c.name].to_numpy(float)] for c in coordinates})
    weights = np.asarray(weights, dtype=float)
    table["weight"] = weights / weights.sum()
    distances = history.get_weighted_distances(t=history.max_t)["distance"].to_numpy(float)
    if len(distances) == len(table):
        table["distance"] = distances
    return table.reset_index(drop=True)


def _population_table(history: Any) -> pd.DataFrame:
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    table = pd.DataFrame({
        "generation": populations["t"].astype(int).to_numpy(),
        "epsilon": populations["epsilon"].astype(float).to_numpy(),
        "particles": populations["particles"].astype(int).to_numpy(),
        "evaluations": populations["samples"].astype(int).to_numpy(),
    })
    table["acceptance"] = table["particles"] / table["evaluations"]
    return table


# --------------------------------------------------------------------------- summaries


def posterior_summary(calibration: Calibration, quantiles: tuple[float, float, float] = (0.05, 0.5, 0.95)
                      ) -> pd.DataFrame:
    """Per fitted parameter: its default, prior, the weighted posterior median and 90 % interval, and what the
    data taught: on the scale the prior is uniform on (log10 for loguniform priors), the 90 % interval's width
    against the prior's (``width_ratio``: 1 = nothing learnt), the posterior weight in the bottom and top 5 % of
    the prior's range (``weight_bottom_5pct``, ``weight_top_5pct``: 0.05 each under the prior; more than 0.2 is
    a pile-up against a bound) and the information gained (``information_bits``: the Kullback-Leibler
    divergence of the posterior from the prior over ten equal bins of the range, in bits; 0 = prior-like,
    log2(10) = 3.3 at most)."""
    from sim.spec.scenario import get_path
    from sim.spec.sources import load_commitments

    defaults = load_commitments().defaults()
    weights = calibration.posterior["weight"].to_numpy(float)
    rows = []
    for c in calibration.coordinates:
        values = calibration.posterior[c.path].to_numpy(float)
        low, median, high = weighted_quantiles(values, weights, quantiles)
        rows.append({"parameter": c.path, "default": float(get_path(defaults, c.path)),
                     "prior": c.prior.describe(), "posterior_median": median, "posterior_q05": low,
                     "posterior_q95": high, **learning(c, values, weights)})
    return pd.DataFrame(rows)


def learning(coordinate: Coordinate, values: np.ndarray, weights: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Width ratio, outer-5 % weights and information gained of one parameter (see :func:`posterior_summary`)."""
    low, high = coordinate.bounds()
    position = (np.array([coordinate.to_sampled(v) for v in values]) - low) / (high - low)
    w = weights / weights.sum()
    q05, q95 = weighted_quantiles(position, w, (0.05, 0.95))
    counts = np.bincount(np.clip((position * bins).astype(int), 0, bins - 1), weights=w, minlength=bins)
    nonzero = counts > 0
    information = float(np.sum(counts[nonzero] * np.log2(counts[nonzero] * bins)))
    return {"width_ratio": round((q95 - q05) / 0.9, 4), "weight_bottom_5pct": round(float(w[position < 0.05].sum()), 4),
            "weight_top_5pct": round(float(w[position > 0.95].sum()), 4), "information_bits": round(information, 4)}


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoint rule)."""
    order = np.argsort(values)
    v, w = values[order], weights[order] / weights.sum()
    cdf = np.cumsum(w) - 0.5 * w
    return [float(np.interp(q, cdf, v)) for q in qs]


def manifest_fields(calibration: Calibration) -> dict[str, Any]:
    """What a reader needs to reproduce and judge a calibration (the common fields are added when written)."""
    from importlib import metadata

    try:
        pyabc_version = metadata.version("pyabc")
    except metadata.PackageNotFoundError:
        pyabc_version = "not installed"
    settings = calibration.settings
    return {
        "scenario_file": f"scenarios/{SCENARIO_FILE.name}",
        "evidence_plan": "seeds/evidence_plan.yaml",
        "evidence_plan_sha256": plan_sha256(),
        "runs": [{"key": run.key, "description": run.description, "overrides": dict(run.overrides),
                  "horizon_days": run.horizon_days} for run in RUNS],
        "life_table": {"breaks_days": list(LIFE_TABLE_BREAKS_DAYS), "end_day": LIFE_TABLE_END_DAYS,
                       "items": list(LIFE_TABLE_ITEMS),
                       "record": "Fortna (2008) spells, primary analogue, spells that never had a mission "
                                 "(seeds/civil_war_ceasefire_spells.csv)"},
        "structure": {**DEFAULT_STRUCTURE, **dict(settings.structure)},
        "settings": asdict(settings),
        "seed": settings.seed,
        "reproducible": True,
        "batch": batch_size(settings),
        "method": "ABC-SMC (pyabc.ABCSMC), median epsilon schedule, multivariate normal transition; "
                  "sim.experiments.calibrate.batch_sampler.BatchSampler "
                  "(proposals in pyabc's order, simulations packed)",
        "distance": "Poisson deviance of the record's failures per life-table interval against the model's rate "
                    "times the record's years at risk, plus ((model - observed) / se)^2 for the violations, "
                    "se = empirical 95% interval width / (2 x 1.96)",
        "statistics": {key: {"observed": calibration.observed[key],
                             ("years_at_risk" if key in LIFE_TABLE_KEYS else "se"): calibration.scales[key],
                             "items": list(STATISTIC_ITEMS[key])} for key in calibration.observed},
        "fitted": {c.path: {"prior": c.prior.describe(), "sampled_in": "log10" if c.log else "linear"}
                   for c in calibration.coordinates},
        "populations": calibration.populations.to_dict(orient="records"),
        "wall_seconds": round(calibration.wall_seconds, 1),
        "pyabc_version": pyabc_version,
    }
