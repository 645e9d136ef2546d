"""Global sensitivity analysis: the one wrapper of SALib, with sampling and analysis kept apart.

As SALib lays it out, a study has three steps, and only the first and the last are here:

1. **sample** a design (:func:`latin_hypercube`, :func:`morris_sample`, :func:`saltelli_sample`): a pure
   function of its sizes, its bounds and an explicit random source;
2. **evaluate** it elsewhere (a sweep's points, the screening's scenarios), giving one value per row;
3. **analyse** the values against the design (:func:`morris_analyse`, :func:`sobol_analyse`,
   :func:`sobol_table`), the bootstrap again seeded explicitly.

Nothing here knows the model. SALib is imported only when a design or an analysis needs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError
from sim.engine.streams import StreamKey, generator

Bounds = Sequence[tuple[float, float]]
"""(low, high) of each factor, in the order of the design's columns."""

SOBOL_RESAMPLES = 1000
"""Bootstrap resamples behind the 95 % confidence intervals of the Sobol indices."""

SOBOL_KEYS: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf")
"""What :func:`sobol_analyse` returns per factor: first-order and total indices, each with its 95 % half-width."""

SOBOL_TABLE_COLUMNS: tuple[str, ...] = ("output", "parameter", *SOBOL_KEYS)
"""Columns of :func:`sobol_table`."""

MORRIS_KEYS: tuple[str, ...] = ("mu", "mu_star", "mu_star_conf", "sigma")
"""What :func:`morris_analyse` returns per factor: mean and mean absolute elementary effect, the 95 %
half-width of the latter, and the spread of the effects."""

CONFIDENCE = 0.95
"""Level of every bootstrap interval."""


def problem(names: Sequence[str], bounds: Bounds) -> dict[str, Any]:
    """SALib's description of the factors: their number, names and bounds."""
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def unit_bounds(count: int) -> list[tuple[float, float]]:
    """``count`` factors on the unit interval (a design in quantiles, mapped to values by the caller)."""
    return [(0.0, 1.0)] * count


def _names(count: int) -> list[str]:
    """Placeholder names: SALib's samplers need a name per factor but do not use it."""
    return [f"x{i}" for i in range(count)]


# --------------------------------------------------------------------------- sample


def latin_hypercube(samples: int, bounds: Bounds, rng: np.random.Generator) -> np.ndarray:
    """A Latin hypercube: on each axis, exactly one point in each of ``samples`` equal strata.

    Args:
        samples: number of points (>= 1).
        bounds: (low, high) per axis.
        rng: the only source of randomness.

    Returns:
        ``samples × len(bounds)`` values.
    """
    n, d = samples, len(bounds)
    strata = np.column_stack([rng.permutation(n) for _ in range(d)]) if d else np.empty((n, 0))
    unit = (strata + rng.random((n, d))) / n
    low = np.array([b[0] for b in bounds], dtype=float)
    high = np.array([b[1] for b in bounds], dtype=float)
    return low + unit * (high - low)


def saltelli_sample(samples: int, bounds: Bounds, rng: np.random.Generator) -> np.ndarray:
    """Saltelli's design for first-order and total indices (SALib, scrambled Sobol' sequence), without
    second-order terms.

    Args:
        samples: base samples N, a power of 2.
        bounds: (low, high) per factor.
        rng: scrambles the sequence.

    Returns:
        ``samples × (len(bounds) + 2)`` rows, in the order :func:`sobol_analyse` expects.
    """
    from SALib.sample import sobol

    return sobol.sample(problem(_names(len(bounds)), bounds), samples, calc_second_order=False, scramble=True,
                        seed=rng)


def morris_sample(trajectories: int, bounds: Bounds, levels: int, seed: int) -> np.ndarray:
    """Morris's design (SALib): ``trajectories × (len(bounds) + 1)`` rows on a grid of ``levels`` levels, each
    trajectory moving one factor at a time by ``levels / (2 (levels - 1))`` of its range."""
    from SALib.sample import morris

    return morris.sample(problem(_names(len(bounds)), bounds), trajectories, num_levels=levels, seed=seed)


# --------------------------------------------------------------------------- analyse


def morris_analyse(names: Sequence[str], bounds: Bounds, design: np.ndarray, values: np.ndarray, levels: int,
                   resamples: int, seed: int) -> dict[str, np.ndarray]:
    """Elementary effects of one output over a Morris design (SALib): :data:`MORRIS_KEYS` per factor.

    Args:
        names, bounds: the factors, in the order of the design's columns.
        design: the rows of :func:`morris_sample` (whole trajectories).
        values: the output at each row.
        levels: the design's grid levels.
        resamples: bootstrap resamples of the interval of mu*.
        seed: seeds that bootstrap.
    """
    from SALib.analyze import morris

    result = morris.analyze(problem(names, bounds), design, values, num_resamples=resamples,
                            conf_level=CONFIDENCE, num_levels=levels, seed=seed)
    return {key: result[key] for key in MORRIS_KEYS}  # as SALib gives them (masked arrays), read with float()


def sobol_analyse(names: Sequence[str], bounds: Bounds, values: np.ndarray, rng: np.random.Generator,
                  resamples: int = SOBOL_RESAMPLES) -> dict[str, np.ndarray]:
    """First-order and total Sobol indices of one output over a Saltelli design (SALib, Jansen's estimator):
    :data:`SOBOL_KEYS` per factor, the ``*_conf`` half-widths from ``resamples`` bootstrap resamples drawn
    from ``rng``."""
    from SALib.analyze import sobol

    result = sobol.analyze(problem(names, bounds), values, calc_second_order=False, num_resamples=resamples,
                           conf_level=CONFIDENCE, seed=rng)
    return {key: result[key] for key in SOBOL_KEYS}


def sobol_table(names: Sequence[str], bounds: Bounds, outputs: Mapping[str, np.ndarray], seed: int,
                resamples: int = SOBOL_RESAMPLES) -> pd.DataFrame:
    """:func:`sobol_analyse` of several outputs of one Saltelli design, as a table.

    Args:
        names, bounds: the factors, in the order of the design's columns.
        outputs: output name -> values at the design's rows; an output that is NaN everywhere (e.g.
            P(hold at 365) when the horizon is shorter) is skipped.
        seed: each output's bootstrap draws from the stream ``StreamKey.SWEEP_ANALYSIS`` of ``seed``, afresh.

    Returns:
        Rows (output, parameter, S1, S1_conf, ST, ST_conf); ``*_conf`` is the 95 % half-width. The
        indices of an output that does not vary are NaN.

    Raises:
        InputError: an output is NaN at some rows but not all.
    """
    rows = []
    for output, raw in outputs.items():
        values = np.asarray(raw, dtype=float)
        if np.isnan(values).all():
            continue
        if np.isnan(values).any():
            raise InputError(f"sobol: {output}: NaN at some points")
        if np.ptp(values) == 0:
            result = {key: np.full(len(names), np.nan) for key in SOBOL_KEYS}
        else:
            result = sobol_analyse(names, bounds, values, generator(seed, StreamKey.SWEEP_ANALYSIS), resamples)
        for j, name in enumerate(names):
            rows.append({"output": output, "parameter": name, **{key: float(result[key][j]) for key in SOBOL_KEYS}})
    return pd.DataFrame(rows, columns=list(SOBOL_TABLE_COLUMNS))


def binomial_noise_share(p: np.ndarray, worlds: np.ndarray) -> float:
    """Share of the variance of estimated probabilities across points that is binomial noise.

    Each point's estimate ``p`` from ``worlds`` worlds has sampling variance ``p(1-p)/(worlds-1)``
    (unbiased); its mean over points divided by the variance of ``p`` across points is the share
    of the output's variance no factor explains. Jansen's ST estimator adds it to every ST;
    S1 stays unbiased but noisier. NaN if ``p`` does not vary.
    """
    p = np.asarray(p, dtype=float)
    spread = float(np.var(p, ddof=1)) if len(p) > 1 else 0.0
    if spread == 0:
        return float("nan")
    return float(np.mean(p * (1 - p) / np.maximum(np.asarray(worlds, dtype=float) - 1, 1)) / spread)
