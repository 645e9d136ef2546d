"""Random draws over a batch of worlds, cheaper than the plain numpy draw they stand for.

``poisson_counts`` is a documented approximation (docs/ODD.md, eq. 6); ``bernoulli_indices`` is exact
(eq. 17). Each takes the model's generator, so a seed still determines every result.
"""

from __future__ import annotations

import numpy as np

NORMAL_APPROXIMATION_FROM = 50.0
"""Poisson means from which counts are drawn from the normal approximation (see ``poisson_counts``)."""


def poisson_counts(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    """Poisson(``mean``) counts, elementwise; for means >= 50 from the normal approximation N(mean, mean).

    Exact Poisson draws cost about five times as much as normal ones, and violations run to hundreds a
    day per world. For a mean of 50 or more the rounded normal differs from the Poisson by less than
    0.01 in every cumulative probability (0.0094 at 50, 0.0066 at 100, 0.0017 at 1,500, checked against
    the exact Poisson). The mean is exact and the variance is the Poisson's plus 1/12 from the rounding;
    the standard deviation is computed in single precision, whose square root is about twice as fast.
    """
    draws = rng.standard_normal(mean.shape)
    draws *= np.sqrt(mean.astype(np.float32))
    draws += mean
    counts = np.maximum(np.rint(draws, out=draws), 0.0, out=draws).astype(np.int64)
    small = (mean > 0.0) & (mean < NORMAL_APPROXIMATION_FROM)  # a zero mean already gives a zero count
    if small.any():
        counts[small] = rng.poisson(mean[small])
    return counts


def bernoulli_indices(rng: np.random.Generator, trials: int, probability: float) -> np.ndarray:
    """Sorted indices of the successes among ``trials`` independent Bernoulli(``probability``) trials.

    Exact: the gaps between successes of a Bernoulli sequence are Geometric(``probability``), so a rare
    event costs a few draws per success instead of one uniform per trial.
    """
    if trials <= 0 or probability <= 0.0:
        return np.empty(0, dtype=np.int64)
    if probability >= 1.0:
        return np.arange(trials)
    expected = trials * probability
    batch = int(expected + 4.0 * np.sqrt(expected)) + 8  # enough in one go nearly always

    def gaps() -> np.ndarray:
        # a gap beyond the last trial ends the sequence whatever its length: capping it keeps the
        # cumulative sum from overflowing when the probability is tiny
        return np.minimum(rng.geometric(probability, batch), trials + 1)

    positions = np.cumsum(gaps()) - 1
    while positions[-1] < trials:
        positions = np.concatenate((positions, positions[-1] + np.cumsum(gaps())))
    return positions[: np.searchsorted(positions, trials)]
