"""The batch random draws of ``sim.draws``: exact cases, and distributions checked statistically.

Statistical checks use a z (or chi-square quantile) derived from the number of checks in this file
(Bonferroni, family-wise error ``FAMILY_ALPHA``), never a hand-tuned margin; seeds are fixed.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats

from sim.draws import NORMAL_APPROXIMATION_FROM, bernoulli_indices, poisson_counts

FAMILY_ALPHA = 0.001
STATISTICAL_CHECKS = 7
"""z- and chi-square-based checks in this file; each test below says how many it makes."""
ALPHA = FAMILY_ALPHA / STATISTICAL_CHECKS
Z = NormalDist().inv_cdf(1.0 - ALPHA / 2)


def rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.SFC64(seed))


# --- bernoulli_indices ----------------------------------------------------------------------------


@pytest.mark.parametrize("trials, probability, expected", [
    (0, 0.5, []), (10, 0.0, []), (5, 1.0, [0, 1, 2, 3, 4]), (3, 1.5, [0, 1, 2]), (4, -0.1, []),
    # tiny probabilities: geometric gaps near the int64 maximum must not overflow their running sum
    (10_000, 1e-19, []), (10_000, 5e-324, []),
])
def test_bernoulli_indices_edge_cases(trials, probability, expected):
    assert bernoulli_indices(rng(0), trials, probability).tolist() == expected


class _GapsOfOne:
    """A stand-in generator whose geometric gaps are all 1: every trial succeeds."""

    @staticmethod
    def geometric(p: float, size: int) -> np.ndarray:
        return np.ones(size, dtype=np.int64)


def test_bernoulli_indices_draws_more_gaps_when_the_first_batch_falls_short():
    # with p = 0.01 the first batch covers ~100 expected gaps; gaps of 1 cover far fewer trials
    assert bernoulli_indices(_GapsOfOne(), 5000, 0.01).tolist() == list(range(5000))


def test_bernoulli_indices_are_sorted_distinct_and_in_range():
    generator = rng(1)
    for probability in (0.001, 0.05, 0.5, 0.97):
        indices = bernoulli_indices(generator, 2000, probability)
        assert (np.diff(indices) > 0).all()
        assert indices.size == 0 or (indices[0] >= 0 and indices[-1] < 2000)


@pytest.mark.parametrize("probability", [0.001, 0.3])
def test_bernoulli_indices_count_is_binomial(probability):
    """The number of successes over many calls matches Binomial(calls x trials, p). Two checks."""
    generator, trials, calls = rng(2), 5000, 400
    total = sum(bernoulli_indices(generator, trials, probability).size for _ in range(calls))
    n = trials * calls
    z = (total - n * probability) / math.sqrt(n * probability * (1 - probability))
    assert abs(z) < Z


def test_bernoulli_indices_hit_every_position_alike():
    """Successes are spread evenly over positions (chi-square over 20 bins). One check."""
    generator, trials, bins = rng(3), 1000, 20
    counts = np.zeros(bins)
    for _ in range(2000):
        counts += np.bincount(bernoulli_indices(generator, trials, 0.01) * bins // trials, minlength=bins)
    statistic = ((counts - counts.mean()) ** 2 / counts.mean()).sum()
    assert counts.sum() > 15_000  # the test has data: ~20,000 successes
    assert statistic < stats.chi2.ppf(1.0 - ALPHA, bins - 1)


# --- poisson_counts -------------------------------------------------------------------------------


def test_poisson_counts_zero_mean_gives_zero():
    assert (poisson_counts(rng(4), np.zeros((2, 50))) == 0).all()


@pytest.mark.parametrize("mean", [NORMAL_APPROXIMATION_FROM, 800.0])
def test_poisson_counts_normal_approximation_has_the_poisson_mean_and_variance(mean):
    """Sample mean and variance of N(mean, mean) rounded, against mean. Two checks per value."""
    counts = poisson_counts(rng(5), np.full(200_000, mean))
    assert counts.dtype == np.int64 and (counts >= 0).all()
    sample, n = counts.astype(float), counts.size
    assert abs((sample.mean() - mean) / math.sqrt(mean / n)) < Z
    # rounding adds 1/12 to the variance of the normal; the variance of a sample variance is ~2 var^2 / n
    variance = mean + 1.0 / 12.0
    assert abs((sample.var(ddof=1) - variance) / (variance * math.sqrt(2.0 / n))) < Z


def test_poisson_counts_below_the_threshold_are_exact_poisson():
    """Small means are drawn from numpy's exact Poisson: same stream, same counts."""
    means = np.array([0.0, 0.5, 3.0, 49.0, NORMAL_APPROXIMATION_FROM, 200.0])
    counts = poisson_counts(rng(6), means)
    assert counts.dtype == np.int64
    expected = rng(6)
    expected.standard_normal(means.shape)  # the normal draws come first
    assert counts[1:4].tolist() == expected.poisson(means[1:4]).tolist()
    assert counts[0] == 0
