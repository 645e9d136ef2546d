"""The engine's random streams (sim/engine/streams.py): exact cases, independence from the batch, and the
distributions they give, with tolerances derived from the sampling distributions (Bonferroni over
the checks of a test, family-wise alpha 0.001)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from sim.engine.streams import (
    CORNISH_FISHER_FROM,
    Lane,
    events_due,
    first_events,
    gamma_quantile,
    geometric_gap,
    normal_pairs,
    poisson_quantile,
    uniforms,
    world_keys,
)

ALPHA = 0.001
N = 200_000
KEYS = world_keys(7, (), np.arange(N))


def _z(checks: int) -> float:
    """Two-sided normal quantile for ``checks`` Bonferroni-corrected tests at family-wise ``ALPHA``."""
    return float(stats.norm.ppf(1 - ALPHA / (2 * checks)))


def test_a_world_draws_the_same_numbers_whatever_its_batch() -> None:
    full = uniforms(KEYS, (Lane.INCIDENTS, Lane.PROBE_AND_BREAKDOWN), 17)
    picked = np.array([5, 99_999, 3, 123_456])
    alone = uniforms(KEYS[picked], (Lane.INCIDENTS, Lane.PROBE_AND_BREAKDOWN), 17)
    np.testing.assert_array_equal(full[:, picked], alone)
    np.testing.assert_array_equal(uniforms(KEYS[:10], (Lane.INCIDENTS,), 17), full[:2, :10])
    # a per-key index equal to a scalar index gives the same draws
    np.testing.assert_array_equal(uniforms(KEYS[:10], (Lane.INCIDENTS,), np.full(10, 17)), full[:2, :10])


def test_keys_depend_on_seed_stream_and_replication_only() -> None:
    np.testing.assert_array_equal(world_keys(7, (), np.arange(5, 9)), KEYS[5:9])
    assert not np.array_equal(world_keys(8, (), np.arange(4)), KEYS[:4])
    assert not np.array_equal(world_keys(7, (3,), np.arange(4)), KEYS[:4])
    assert len(set(KEYS.tolist())) == N  # 2**64 keys: a collision among 2e5 has probability ~1e-9
    sequence = np.random.SeedSequence(7)
    np.testing.assert_array_equal(world_keys(sequence, (), np.arange(4)), KEYS[:4])


def test_uniforms_are_open_unit_and_uniform() -> None:
    u = uniforms(KEYS, (Lane.INCIDENTS,), 3)
    assert u.shape == (2, N) and u.min() > 0.0 and u.max() < 1.0
    # Kolmogorov-Smirnov for each row, Bonferroni over 2
    for row in u:
        assert stats.kstest(row, "uniform").pvalue > ALPHA / 2


def test_lanes_days_and_halves_are_uncorrelated() -> None:
    a = uniforms(KEYS, (Lane.INCIDENTS, Lane.PROBE_AND_BREAKDOWN), 3)
    b = uniforms(KEYS, (Lane.INCIDENTS,), 4)
    rows = [a[0], a[1], a[2], a[3], b[0]]
    pairs = [(i, j) for i in range(len(rows)) for j in range(i + 1, len(rows))]
    bound = _z(len(pairs)) / np.sqrt(N)  # Pearson r of independent uniforms ~ N(0, 1/n)
    for i, j in pairs:
        assert abs(np.corrcoef(rows[i], rows[j])[0, 1]) < bound, (i, j)


def test_neighbouring_worlds_are_uncorrelated() -> None:
    u = uniforms(KEYS, (Lane.PROBE_AND_BREAKDOWN,), 1)[0]
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < _z(1) / np.sqrt(N - 1)


def test_geometric_gap_exact_cases_and_mean() -> None:
    u = np.array([1e-9, 0.5, 1 - 1e-9])
    np.testing.assert_array_equal(geometric_gap(u, 1.0), [1, 1, 1])
    assert np.all(geometric_gap(u, 0.0) > 2**60)
    # inversion: P(gap <= k) = 1 - (1 - p)**k, so u = 0.5, p = 0.5 gives floor(1) + 1 = 2
    assert geometric_gap(np.array([0.5]), 0.5)[0] == 2
    p = 0.02
    gaps = geometric_gap(uniforms(KEYS, (Lane.SPOILER_GAP,), 0)[0], p)
    mean, sd = 1 / p, np.sqrt(1 - p) / p
    assert abs(gaps.mean() - mean) < _z(1) * sd / np.sqrt(N)
    assert gaps.min() >= 1
    # monotone in the probability for a given uniform (common random numbers pair well)
    assert np.all(geometric_gap(u, 0.3) >= geometric_gap(u, 0.4))


def test_an_event_schedule_advances_only_the_worlds_due_each_by_its_own_next_draw() -> None:
    """A daily Bernoulli event drawn as gaps: on each day exactly the worlds whose event falls then are advanced,
    and a world's next event comes after the sum of the gaps of its own draws 0, 1, ... of the lane."""
    worlds, lane = 500, Lane.SPOILER_GAP
    keys, probability = KEYS[:worlds], np.linspace(0.05, 0.5, worlds)
    next_day, draws = first_events(keys, lane, probability)
    events = np.zeros(worlds, dtype=np.int64)
    for day in range(1, 60):
        before = next_day.copy()
        due = events_due(day, next_day, draws, keys, lane, probability)
        np.testing.assert_array_equal(due, np.flatnonzero(before == day))
        others = np.setdiff1d(np.arange(worlds), due)
        np.testing.assert_array_equal(next_day[others], before[others])
        events[due] += 1
    assert (next_day >= 60).all() and events.sum() > worlds
    np.testing.assert_array_equal(draws, events + 1)
    for world in (0, 250, 499):
        gaps = [geometric_gap(uniforms(keys[[world]], (lane,), k)[0], probability[[world]])[0]
                for k in range(draws[world])]
        assert next_day[world] == sum(gaps)


def test_gamma_quantile_has_mean_one_and_the_variance() -> None:
    u = uniforms(KEYS, (Lane.INTENT_AND_DEPLOYMENT,), 0)[0]
    np.testing.assert_array_equal(gamma_quantile(u[:5], 0.0), np.ones(5))
    variance = 0.5
    draws = gamma_quantile(u, variance)
    z = _z(2)
    assert abs(draws.mean() - 1.0) < z * np.sqrt(variance / N)
    # variance of the sample variance of a Gamma(k, theta): (mu4 - sigma^4) / n, mu4 = 3 s^4 (1 + 2/k)
    shape = 1 / variance
    mu4 = 3 * variance**2 * (1 + 2 / shape)
    assert abs(draws.var() - variance) < z * np.sqrt((mu4 - variance**2) / N)
    assert stats.kstest(draws, stats.gamma(shape, scale=variance).cdf).pvalue > ALPHA


def test_normal_pairs_are_standard_normal_and_independent() -> None:
    z = normal_pairs(uniforms(KEYS, (Lane.INCIDENTS,), 9))
    for row in z:
        assert stats.kstest(row, "norm").pvalue > ALPHA / 3
    assert abs(np.corrcoef(z[0], z[1])[0, 1]) < _z(3) / np.sqrt(N)


@pytest.mark.parametrize("mean", [0.3, 1.0, 4.9, 5.0, 8.0, 20.0, 50.0, 500.0, 20_000.0])
def test_poisson_counts_are_within_the_stated_distance_of_the_poisson(mean: float) -> None:
    """On a deterministic grid of 400,000 normal quantiles the counts' distribution function is known to
    within 1/400,000: below 5 it must be exact, from 5 within the documented 0.0023 (plus the grid)."""
    grid = 400_000
    z = special.ndtri((np.arange(grid) + 0.5) / grid)
    counts = poisson_quantile(z, np.full(grid, mean))
    assert np.all(np.diff(counts) >= 0)  # monotone in z
    k = np.arange(int(mean + 12 * np.sqrt(mean) + 20))
    distance = np.max(np.abs(np.searchsorted(counts, k, side="right") / grid - stats.poisson.cdf(k, mean)))
    bound = 2 / grid if mean < CORNISH_FISHER_FROM else 0.0023 + 2 / grid
    assert distance <= bound


def test_poisson_counts_of_a_zero_mean_are_zero_and_grow_with_the_mean() -> None:
    z = normal_pairs(uniforms(KEYS[:1000], (Lane.INCIDENTS,), 1))[0]
    np.testing.assert_array_equal(poisson_quantile(z, np.zeros(1000)), np.zeros(1000))
    low, high = poisson_quantile(z, np.full(1000, 40.0)), poisson_quantile(z, np.full(1000, 41.0))
    assert np.all(high >= low)
