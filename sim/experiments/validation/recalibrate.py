"""Fair discrimination: every model recalibrated on the same calibration evidence before its held-out fit.

A wrong variant compared at the default's fitted values is handicapped twice: by being wrong, and by wearing
parameters fitted for another model. So ``ceasefire validation --discriminate`` first fits each model (the
default and every variant of :mod:`sim.experiments.validation.variants`) by the same ABC-SMC as
``ceasefire calibrate`` (:mod:`sim.experiments.calibrate.fit`: the calibration spells' life table and the OSCE
violations, nothing held out), at the size :data:`SETTINGS`:

- the variant's own overrides are held fixed (e.g. ``troops_dont_deter`` keeps ``deterrence_weight`` at 0, so
  that parameter is not fitted for it); every other parameter of ``calibrate``'s ``FITTED`` is inferred;
- the held-out spells are scored against the model's **posterior predictive** hazards: every world of its mapped
  scenarios runs a particle drawn by weight from its refitted posterior (:func:`sim.experiments.validation.
  power.simulate_model`), so what the calibration leaves unidentified is averaged over, not fixed at an arbitrary
  point; the held-out anchors, a side column, run at the posterior's weighted medians (a plug-in point).

Each recalibrated model is a :class:`~sim.experiments.validation.variants.Variant` whose ``set`` holds its fixed
overrides and its fitted values, so the held-out comparison (:mod:`sim.experiments.validation.power`) runs it as
any variant. The fit to the calibration evidence is reported too (the posterior's median distance): a variant
that cannot fit the calibration data is already in trouble before any held-out item is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.calibrate import fit
from sim.experiments.validation.variants import DEFAULT, Variant

SETTINGS = fit.Settings(particles=60, generations=3, worlds=600, violation_worlds=200, seed=20261209)
"""The ABC-SMC size of each model's recalibration (far smaller than ``calibrate --quick``: eight models are
fitted). Its seed is fixed, so every model meets the same proposals' random numbers where it can."""


@dataclass(frozen=True)
class Recalibrated:
    """A model fitted on the calibration evidence: the variant to run, its fitted values and its fit."""

    model: Variant
    fitted: dict[str, float]
    summary: pd.DataFrame  # calibrate's posterior summary of this model
    median_distance: float  # weighted median of the last generation's distances
    wall_seconds: float
    posterior: pd.DataFrame | None = None  # its weighted particles: the held-out hazards are drawn over them


def calibration_overrides(model: Variant) -> dict[str, Any]:
    """The model's overrides on the calibration scenario (``calibrate``'s ``SCENARIO_FILE``)."""
    return model.overrides(fit.SCENARIO_FILE)


def fitted_for(model: Variant, fitted: Sequence[str] = fit.FITTED) -> tuple[str, ...]:
    """The parameters fitted for ``model``: calibrate's, less those the model fixes."""
    fixed = set(model.set) | set(model.scale)
    return tuple(path for path in fitted if path not in fixed)


def recalibrate(model: Variant, settings: fit.Settings = SETTINGS, executor: Any = None) -> Recalibrated:
    """Fit ``model`` on the calibration evidence (ABC-SMC, ``settings``) and return it with its fitted values.

    Raises:
        ValueError: the variant cannot be built under the current defaults (e.g. the power shift).
        sim.core.errors.InputError: pyabc is not installed.
    """
    overrides = calibration_overrides(model)
    chosen = replace(settings, fitted=fitted_for(model, settings.fitted),
                     overrides=tuple(sorted(overrides.items())))
    calibration = fit.run_calibration(chosen, executor=executor)
    summary = calibration.summary()
    fitted = {row.parameter: float(row.posterior_median) for row in summary.itertuples()}
    weights = calibration.posterior["weight"].to_numpy(float)
    distances = calibration.posterior.get("distance")
    median_distance = float("nan") if distances is None else \
        fit.weighted_quantiles(distances.to_numpy(float), weights, (0.5,))[0]
    scale = {path: factor for path, factor in model.scale.items() if path not in fitted}
    refitted = Variant(model.key, model.description, set={**model.set, **fitted}, scale=scale,
                       power_shift_per_year=model.power_shift_per_year)
    return Recalibrated(refitted, fitted, summary, median_distance, calibration.wall_seconds, calibration.posterior)


def recalibrate_all(models: Sequence[Variant], settings: fit.Settings = SETTINGS, workers: int = 1,
                    executor: Any = None, progress: Callable[[str], None] | None = None
                    ) -> tuple[dict[str, Recalibrated], dict[str, str]]:
    """:func:`recalibrate` for the default and every model in ``models`` (the default first).

    Returns the recalibrated models by key, and the models that could not be built with the reason.
    """
    done: dict[str, Recalibrated] = {}
    skipped: dict[str, str] = {}
    for model in (DEFAULT, *models):
        if progress is not None:
            progress(model.key)
        try:
            model.overrides(fit.SCENARIO_FILE)
        except ValueError as exc:
            skipped[model.key] = str(exc)
            continue
        done[model.key] = recalibrate(model, replace(settings, workers=workers), executor)
    return done, skipped


def recalibration_table(models: dict[str, Recalibrated]) -> pd.DataFrame:
    """One row per model and fitted parameter: the posterior median and 90 % interval, and the model's fit to
    the calibration evidence (median distance)."""
    rows = []
    for key, refit in models.items():
        for row in refit.summary.itertuples():
            rows.append({"variant": key, "parameter": row.parameter, "posterior_median": row.posterior_median,
                         "posterior_q05": row.posterior_q05, "posterior_q95": row.posterior_q95,
                         "width_ratio": row.width_ratio, "calibration_distance": round(refit.median_distance, 4)})
    table = pd.DataFrame(rows)
    for column in ("posterior_median", "posterior_q05", "posterior_q95"):
        if column in table:
            table[column] = np.asarray(table[column], dtype=float).round(6)
    return table
