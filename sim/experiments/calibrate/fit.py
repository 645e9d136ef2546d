"""Calibration by inference: ABC-SMC (pyabc) of a few assumptions against the calibration anchors.

The model is the ``no_european_troops`` scenario (monitoring only, as under Minsk); its summary
statistics are those of the four *calibration* anchors of :mod:`sim.experiments.validation.anchors`, built with the
same builders (``failed_within``, ``detected_per_day``) and compared with the same empirical
figures. Every other anchor is held out and never seen here.

The distance is the sum over anchors of ((model - observed) / se)², where ``se`` is the empirical
95 % interval's half-width divided by 1.96. Only the parameters in ``FITTED`` are inferred; all
others stay at their defaults (docs/CALIBRATION.md says why). Loguniform priors are sampled in
log10 space so that the perturbation kernel moves them by ratios.

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
from sim.experiments.validation.anchors import ANCHORS, Estimate, detected_per_day, failed_within
from sim.mechanisms import DEFAULT_STRUCTURE
from sim.spec.evidence_plan import calibration_keys, plan_sha256
from sim.spec.scenario import Scenario, load_scenario
from sim.spec.sources import Prior, priors
from sim.stats.metrics import Z_95

COMMAND = "calibrate"
SCENARIO_FILE = scenario_path("no_european_troops")
"""The scenario the calibration anchors are compared with: monitoring only, no European troops."""
RUN_KEY = "calibration"
HORIZON_DAYS = 730
"""Days simulated per world: the longest calibration anchor (2 years)."""
FAILED_DIVERGENT = 1e6
"""Distance of a simulation whose statistics cannot be computed (no deal in any world)."""

CALIBRATION_ANCHORS: dict[str, Callable[[Mapping[str, RunResult]], Estimate]] = {
    "no_peacekeepers_fail_90d": failed_within(RUN_KEY, 90),
    "no_peacekeepers_fail_1y": failed_within(RUN_KEY, 365),
    "no_peacekeepers_fail_2y": failed_within(RUN_KEY, 730),
    "minsk_recorded_violations_per_day": detected_per_day(RUN_KEY),
}
"""The anchors fitting uses, with the statistic of a run that answers each. Calibration reads them only through
:func:`calibration_statistics`, which asks the pre-registered plan (``seeds/evidence_plan.yaml``): a key the plan
holds out is refused before anything is simulated."""

FITTED: tuple[str, ...] = (
    "agents.RU.offensive_value",
    "agents.RU.resumption_cost",
    "model.offensive_ceiling",
    "model.institution_effect",
    "model.institution_days",
    "model.incident_rate",
    "model.spiral_hazard",
)
"""The assumptions inferred (model version 3): the offensive choice's value, cost and ceiling, the duration
mechanism's effect and time constant, the incident rate and the spiral hazard, which set the calibration
statistics of a no-troops ceasefire; version 2's base hazard and intent variance act only in the retired
forms (``offensive: hazard``, ``types: gamma``). The rest stay at their defaults."""


@dataclass(frozen=True)
class Settings:
    """Size of an ABC-SMC run: particles per generation, generations, worlds per evaluation, seed."""

    particles: int
    generations: int
    worlds: int
    seed: int = 20261126
    workers: int = 1
    fitted: tuple[str, ...] = FITTED
    horizon_days: int = HORIZON_DAYS
    structure: tuple[tuple[str, str], ...] = ()  # (mechanism, form) pairs; () = the default structure
    batch: int = 0  # particles simulated together (batch_sampler); 0 = as many as fill a pack per worker


QUICK = Settings(particles=100, generations=4, worlds=3000)
FULL = Settings(particles=300, generations=8, worlds=6000)


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
        """Per fitted parameter: default, prior, weighted posterior median and 90 % interval."""
        return posterior_summary(self)

    def artefacts(self) -> Artefacts:
        """posterior.csv, posterior_summary.csv, populations.csv, the figure posterior.png and the manifest's
        fields (:mod:`sim.outputs.plots.calibrate` draws the figure from the first two)."""
        return Artefacts(COMMAND, tables={"posterior.csv": self.posterior, "posterior_summary.csv": self.summary(),
                                          "populations.csv": self.populations},
                         manifest=manifest_fields(self), figures=("posterior.png",))


# --------------------------------------------------------------------------- statistics and distance


def calibration_statistics() -> dict[str, Callable[[Mapping[str, RunResult]], Estimate]]:
    """:data:`CALIBRATION_ANCHORS`, once the evidence plan has confirmed every key is a calibration item.

    Raises:
        InputError: a key is held out in the plan, or not in it.
    """
    return {key: CALIBRATION_ANCHORS[key] for key in calibration_keys(CALIBRATION_ANCHORS)}


def observed_estimates() -> dict[str, Estimate]:
    """The empirical figure of each calibration anchor, as defined in :mod:`sim.experiments.validation.anchors`."""
    keys = list(calibration_statistics())
    by_key = {anchor.key: anchor for anchor in ANCHORS}
    missing = [key for key in keys if key not in by_key]
    if missing:
        raise InputError(f"sim/experiments/validation/anchors.py: ANCHORS: calibration anchor {missing[0]} "
                         "is not defined")
    return {key: by_key[key].empirical for key in keys}


def observed_values() -> dict[str, float]:
    """The observed summary statistics (the anchors' point values)."""
    return {key: float(e.value) for key, e in observed_estimates().items()}


def distance_scales() -> dict[str, float]:
    """Empirical standard error per anchor: half the 95 % interval's width / 1.96 (> 0)."""
    scales = {}
    for key, e in observed_estimates().items():
        se = (e.high - e.low) / (2 * Z_95)
        if not (math.isfinite(se) and se > 0):
            raise InputError(f"sim/experiments/validation/anchors.py: {key}: empirical interval must have low < high")
        scales[key] = float(se)
    return scales


def summary_statistics(result: RunResult) -> dict[str, float]:
    """The calibration statistics of a run of the calibration scenario (NaN where no deal was reached)."""
    results = {RUN_KEY: result}
    with np.errstate(invalid="ignore", divide="ignore"):  # no deal in any world: NaN, handled by distance()
        return {key: float(statistic(results).value) for key, statistic in calibration_statistics().items()}


def distance(simulated: Mapping[str, float], observed: Mapping[str, float], scales: Mapping[str, float]) -> float:
    """Σ ((simulated − observed) / scale)² over the anchors; FAILED_DIVERGENT if a statistic is NaN."""
    total = 0.0
    for key, scale in scales.items():
        value = simulated[key]
        if not math.isfinite(value):
            return FAILED_DIVERGENT
        total += ((value - observed[key]) / scale) ** 2
    return total


def evaluation_seed(seed: int, parameters: Mapping[str, float]) -> int:
    """A 63-bit seed from the run seed and the exact parameter values (order of keys irrelevant)."""
    digest = hashlib.sha256(struct.pack("<q", seed))
    for key in sorted(parameters):
        digest.update(key.encode() + struct.pack("<d", float(parameters[key])))
    return int.from_bytes(digest.digest()[:8], "little") >> 1


def evaluation_scenario(parameters: Mapping[str, float], worlds: int, seed: int,
                        horizon_days: int = HORIZON_DAYS, structure: Sequence[tuple[str, str]] = ()) -> Scenario:
    """The calibration scenario with ``parameters`` (dotted paths) in ``structure`` ((mechanism, form)
    pairs; the default forms otherwise), ``worlds`` worlds and the evaluation's own seed."""
    overrides = {"replications": worlds, "horizon_days": horizon_days,
                 "seed": evaluation_seed(seed, parameters), **parameters,
                 **{f"structure.{mechanism}": form for mechanism, form in structure}}
    return load_scenario(SCENARIO_FILE, overrides)


def simulate(parameters: Mapping[str, float], worlds: int, seed: int,
             horizon_days: int = HORIZON_DAYS, structure: Sequence[tuple[str, str]] = ()) -> dict[str, float]:
    """Run the calibration scenario with ``parameters`` (see :func:`evaluation_scenario`) and return its
    statistics."""
    scenario = evaluation_scenario(parameters, worlds, seed, horizon_days, structure)
    return summary_statistics(run_scenario(scenario, workers=1, record_trajectories=False))


def simulate_many(parameter_sets: Sequence[Mapping[str, float]], worlds: int, seed: int,
                  horizon_days: int = HORIZON_DAYS, structure: Sequence[tuple[str, str]] = (),
                  workers: int = 1, executor: Any = None) -> list[dict[str, float]]:
    """:func:`simulate` for many parameter sets at once, packed (``sim.engine.packing``): the same statistics."""
    from sim.engine.packing import run_packed

    scenarios = [evaluation_scenario(p, worlds, seed, horizon_days, structure) for p in parameter_sets]
    parts = run_packed(scenarios, [()] * len(scenarios), workers=workers, executor=executor)
    return [summary_statistics(RunResult(s, runs, pd.DataFrame(), pd.DataFrame(), None, pd.DataFrame(), 0.0, 1))
            for s, runs in zip(scenarios, parts, strict=True)]


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
        history = abc.run(max_nr_populations=settings.generations)
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
        return simulate(values, settings.worlds, settings.seed, settings.horizon_days, settings.structure)

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
        return simulate_many(values, settings.worlds, settings.seed, settings.horizon_days, settings.structure,
                             settings.workers, executor)

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
    """Per fitted parameter: its default, prior, and the weighted posterior median and 90 % interval."""
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
                     "posterior_q95": high})
    return pd.DataFrame(rows)


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
        "horizon_days": settings.horizon_days,
        "structure": {**DEFAULT_STRUCTURE, **dict(settings.structure)},
        "settings": asdict(settings),
        "seed": settings.seed,
        "reproducible": True,
        "batch": batch_size(settings),
        "method": "ABC-SMC (pyabc.ABCSMC), median epsilon schedule, multivariate normal transition; "
                  "sim.experiments.calibrate.batch_sampler.BatchSampler "
                  "(proposals in pyabc's order, simulations packed)",
        "distance": "sum over anchors of ((model - observed) / se)^2, se = empirical 95% interval width / (2 x 1.96)",
        "anchors": {key: {"observed": calibration.observed[key], "se": calibration.scales[key]}
                    for key in calibration.observed},
        "fitted": {c.path: {"prior": c.prior.describe(), "sampled_in": "log10" if c.log else "linear"}
                   for c in calibration.coordinates},
        "populations": calibration.populations.to_dict(orient="records"),
        "wall_seconds": round(calibration.wall_seconds, 1),
        "pyabc_version": pyabc_version,
    }
