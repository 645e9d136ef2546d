"""Random numbers of the engine: one stream per world and per mechanism, addressed by a counter.

Every draw of a world is a function of that world's 64-bit key, of the mechanism (its *lane*) and of
an index (usually the day), and of nothing else: not of the other worlds in the batch, of the batch
size, of which worlds are still stepped, nor of the draws of other mechanisms. So

- a world gives the same result whether it is run alone, in a block of 10,000 or packed beside the
  worlds of forty other parameter points (``sim.engine.packing``);
- two runs that differ in one parameter share the draws of every other mechanism (common random
  numbers): a sweep point and its neighbour differ only through the parameter's effect.

The generator is SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
generators", OOPSLA): draw ``i`` of a world with key ``k`` is ``mix(k + (i + 1) * GOLDEN)``, where
``mix`` is SplitMix64's output function (which passes BigCrush over such a sequence). The counter
``i`` is ``index * LANES + lane``. World keys are themselves SplitMix64 outputs of a base drawn from
numpy's ``SeedSequence(seed, spawn_key=stream)``. Each 64-bit output gives two uniforms of 32 bits,
open at both ends: ``(h + 0.5) / 2**32``, resolution 2.3e-10 (a daily probability below about 1e-9
is drawn as if it were 1e-9 or 0; none of the model's hazards is that small where it matters).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

import numpy as np
from scipy import special

from sim.engine.compiled import kernels

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_LOW_32 = np.uint64(0xFFFFFFFF)
_SHIFTS = tuple(np.uint64(s) for s in (30, 27, 31, 32))
_UNIT_32 = 2.0**-32

CORNISH_FISHER_FROM = 5.0
"""Poisson means from which counts come from the Cornish-Fisher quantile (see :func:`poisson_quantile`)."""


class Lane(IntEnum):
    """The mechanisms with a stream of their own. Each 64-bit draw of a lane gives two uniforms."""

    INTENT_AND_DEPLOYMENT = 0  # day 0: Russia's intent, whether Germany would deploy
    NEGOTIATION = 1  # index: round; Ukraine's and Russia's acceptance
    PROBE_AND_BREAKDOWN = 2  # index: day; whether Russia probes, offensive / spiral
    INCIDENTS = 3  # index: day; detected and undetected incident counts
    PROBE_VERIFICATION = 4  # index: day; detection and attribution of a probe
    SANCTION_AND_RETALIATION = 5  # index: day; US sanctions, Ukraine's retaliation
    ANSWER_UK_FR = 6  # index: day; whether the UK and France answer a probe
    ANSWER_DE = 7  # index: day; whether Germany answers a probe (second uniform unused)
    SPOILER_GAP = 8  # index: spoiler event; days to the next spoiler attack
    SPOILER_VERIFICATION = 9  # index: day; detection and attribution of a spoiler attack
    WITHDRAWAL_GAP = 10  # index: event; days to the next day Ukraine weighs leaving
    ELECTION = 11  # index: 8 x day + the election's place that day; whether it brings turnover


LANES = len(Lane)


class StreamKey(IntEnum):
    """Every ``spawn_key`` of a generator apart from the worlds' streams, in one place.

    A run's worlds draw from ``SeedSequence(seed, spawn_key=(*stream, ...))`` with small stream numbers
    (a sweep point's index, a block's index); these keys are far from any of them. The values are fixed:
    changing one changes the outputs that use it.
    """

    POSTERIOR_DRAW = 0x9057  # which posterior particles a run draws (sim.stats.posterior)
    ENSEMBLE_PARAMETERS = 1_000_001  # the ensemble's parameter draws from the priors or a posterior
    ENSEMBLE_COMBINATIONS = 1_000_002  # the ensemble's sample of structural combinations
    ENSEMBLE_BOOTSTRAP = 1_000_003  # the ensemble's bootstrap of its variance shares
    OPTIMUM_BOOTSTRAP = 2**32 - 3  # the bet's paired bootstrap of the best troop level
    SWEEP_ANALYSIS = 2**32 - 2  # SALib's analysis of a sweep (its bootstrap)
    SWEEP_DESIGN = 2**32 - 1  # a sweep's Latin hypercube or Sobol design


def generator(seed: int, key: StreamKey) -> np.random.Generator:
    """The numpy generator of stream ``key`` of ``seed``: ``default_rng(SeedSequence(seed, spawn_key=(key,)))``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(key),)))


_KERNEL_CONSTANTS = (np.uint64(LANES), GOLDEN, _MIX_1, _MIX_2, *_SHIFTS, _LOW_32, _UNIT_32)
"""What the compiled kernel of :func:`uniforms` needs of the generator (``sim.engine.compiled``)."""


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's output function, in place on a uint64 array; returns it."""
    s30, s27, s31, _ = _SHIFTS
    y = x >> s30
    x ^= y
    x *= _MIX_1
    np.right_shift(x, s27, out=y)
    x ^= y
    x *= _MIX_2
    np.right_shift(x, s31, out=y)
    x ^= y
    return x


def world_keys(seed: int | np.random.SeedSequence, stream: Sequence[int], worlds: np.ndarray) -> np.ndarray:
    """The 64-bit keys of ``worlds`` (replication numbers >= 0) of the stream ``stream`` of ``seed``.

    World ``r`` has the same key in every run with the same ``seed`` and ``stream``, whatever the batch.
    """
    if isinstance(seed, np.random.SeedSequence):
        sequence = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, *stream))
    else:
        sequence = np.random.SeedSequence(seed, spawn_key=tuple(stream))
    base = sequence.generate_state(1, np.uint64)[0]
    counters = np.asarray(worlds, dtype=np.uint64) + np.uint64(1)
    counters *= GOLDEN  # uint64 arrays wrap around silently: arithmetic modulo 2**64, as SplitMix64 wants
    counters += base
    return _mix(counters)


_LANE_IDS: dict[tuple[Lane, ...], np.ndarray] = {}


def _lane_ids(lanes: Sequence[Lane]) -> np.ndarray:
    """``lane + 1`` for each of ``lanes``, uint64 (cached per tuple of lanes)."""
    lanes = tuple(lanes)
    ids = _LANE_IDS.get(lanes)
    if ids is None:
        ids = _LANE_IDS.setdefault(lanes, np.array([int(lane) + 1 for lane in lanes], dtype=np.uint64))
    return ids


def _offsets(lanes: Sequence[Lane], index: int | np.ndarray) -> np.ndarray:
    """``(index * LANES + lane + 1) * GOLDEN`` modulo 2**64: one row per lane; one column per key if
    ``index`` is an array, else one."""
    ids = _lane_ids(lanes)[:, None]
    if isinstance(index, np.ndarray):
        counter = index.astype(np.uint64)[None, :] * np.uint64(LANES) + ids
    else:
        counter = ids + np.uint64(int(index) * LANES)
    counter *= GOLDEN  # uint64 arrays wrap around silently: arithmetic modulo 2**64, as SplitMix64 wants
    return counter


def uniforms(keys: np.ndarray, lanes: Sequence[Lane], index: int | np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1), shape ``(2 * len(lanes), len(keys))``: draw ``index`` of each lane, for each key.

    Rows ``2j`` and ``2j + 1`` are the two uniforms of ``lanes[j]``. ``index`` is one number or one per key.
    """
    compiled = kernels()
    if compiled is not None and not isinstance(index, np.ndarray):
        return compiled[0](keys, _lane_ids(lanes), int(index), _KERNEL_CONSTANTS)
    x = _mix(keys[None, :] + _offsets(lanes, index))
    out = np.empty((2 * len(lanes), keys.size))
    out[0::2] = x >> _SHIFTS[3]
    x &= _LOW_32
    out[1::2] = x
    out += 0.5
    out *= _UNIT_32
    return out


def geometric_gap(uniform: np.ndarray, probability: np.ndarray | float) -> np.ndarray:
    """Trials up to and including the next success of Bernoulli(``probability``) trials, by inversion.

    ``floor(log u / log(1 - p)) + 1`` (>= 1): 1 where ``probability`` is 1, and beyond 2**61 (never, in
    practice) where it is 0. Inversion keeps the draw monotone in ``probability`` for a given ``uniform``.
    """
    # log1p(-p) finite and < 0: no division by zero. A number is clipped without numpy's ufunc machinery,
    # which costs more than the rest of a call on a few worlds (the same value either way)
    if isinstance(probability, np.ndarray):
        p = np.clip(probability, 1e-300, 1.0 - 2.0**-53)
    else:
        p = np.float64(min(max(float(probability), 1e-300), 1.0 - 2.0**-53))
    gap = np.log(uniform)
    gap /= np.log1p(-p)
    np.floor(gap, out=gap)
    gap += 1.0
    return np.minimum(gap, 2.0**62).astype(np.int64)


def first_events(keys: np.ndarray, lane: Lane, probability: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Each world's first day of a daily Bernoulli(``probability``) event, drawn as a :func:`geometric_gap`
    from draw 0 of ``lane``; and each world's count of draws made (1). The state :func:`events_due` advances."""
    return geometric_gap(uniforms(keys, (lane,), 0)[0], probability), np.ones(keys.size, dtype=np.int64)


def events_due(day: int, next_day: np.ndarray, draws: np.ndarray, keys: np.ndarray, lane: Lane,
               probability: np.ndarray | float) -> np.ndarray:
    """Indices of the worlds whose next event falls on ``day``; for each of them the gap to the one after is
    drawn (their next draw of ``lane``) and added, in place, to ``next_day``, and ``draws`` counts it.

    ``probability``: the event's daily probability, a number or one per world of ``keys``.
    """
    due = (next_day == day).nonzero()[0]
    if due.size:
        u_gap = uniforms(keys[due], (lane,), draws[due])[0]
        next_day[due] += geometric_gap(u_gap, probability[due] if isinstance(probability, np.ndarray) else probability)
        draws[due] += 1
    return due


def gamma_quantile(uniform: np.ndarray, variance: np.ndarray | float) -> np.ndarray:
    """Gamma draws with mean 1 and ``variance`` (shape 1/variance, scale variance), by inversion; 1 where
    the variance is 0."""
    variance = np.broadcast_to(np.asarray(variance, dtype=float), uniform.shape)
    positive = variance > 0.0
    out = np.ones(uniform.shape)
    if positive.any():
        v = variance[positive]
        out[positive] = special.gammaincinv(1.0 / v, uniform[positive]) * v
    return out


def normal_pairs(uniform: np.ndarray) -> np.ndarray:
    """Standard normal draws from pairs of uniforms (rows 0 and 1), by Box and Muller (1958), in single
    precision: ``sqrt(-2 ln u0) (cos 2 pi u1, sin 2 pi u1)``, shape ``(2, n)``."""
    u = uniform.astype(np.float32)
    radius = np.log(u[0])
    radius *= -2.0
    np.sqrt(radius, out=radius)
    angle = u[1]
    angle *= np.float32(2.0 * np.pi)
    z = np.empty_like(u)
    np.cos(angle, out=z[0])
    np.sin(angle, out=z[1])
    z *= radius
    return z


def poisson_quantile(normal: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson(``mean``) counts from standard normal draws ``normal``, elementwise (int64).

    For means of ``CORNISH_FISHER_FROM`` (5) or more, the Cornish-Fisher expansion of the quantile
    with its skewness and kurtosis terms, rounded:
    ``mu + sqrt(mu) z + (z**2 - 1) / 6 + (z - z**3) / (72 sqrt(mu))``. Its distribution differs from the
    Poisson by at most 0.0023 in any cumulative probability (0.00222 at a mean of 5; 0.0002 at 50, 0.00001 at
    2,000; ``tests/test_streams.py`` measures it). Below 5 the inversion of ``Phi(z)`` is exact (a search
    over the cumulative probabilities). Zero means give zero counts. Monotone in the mean for a given z.
    Computed in single precision (counts stay exact below 2**24).
    """
    mean32 = np.asarray(mean, dtype=np.float32)
    compiled = kernels()
    if compiled is not None and mean32.ndim > 0 and np.shape(normal) == mean32.shape:
        counts = compiled[1](np.ascontiguousarray(normal, dtype=np.float32), np.ascontiguousarray(mean32))
        positive = mean32 > 0.0
    else:
        counts, positive = _cornish_fisher_counts(normal, mean32)
    small = positive & (mean32 < CORNISH_FISHER_FROM)
    if small.any():
        counts[small] = _poisson_search(special.ndtr(np.asarray(normal, dtype=float)[small]),
                                        np.asarray(mean, dtype=float)[small])
    return counts


def _cornish_fisher_counts(normal: np.ndarray, mean32: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rounded Cornish-Fisher quantile (0 where the mean is 0), and where the mean is positive."""
    z = np.array(normal, dtype=np.float32)
    root = np.sqrt(mean32)
    np.maximum(root, np.float32(1e-3), out=root)  # means under 5 are recomputed below
    z2 = z * z
    correction = 1.0 - z2
    correction *= z
    correction /= root
    correction *= np.float32(1.0 / 72.0)
    z2 -= 1.0
    z2 *= np.float32(1.0 / 6.0)
    z *= root
    z += mean32
    z += z2
    z += correction
    np.maximum(np.rint(z, out=z), 0.0, out=z)
    # zero means (worlds whose ceasefire has ended but are still stepped) give zero counts without a search
    positive = mean32 > 0.0
    z *= positive
    return z.astype(np.int64), positive


def _poisson_search(uniform: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Exact Poisson inversion, the least k with P(K <= k) >= u, for small means (< 5)."""
    count = np.zeros(uniform.size)
    probability = np.exp(-mean)
    cumulative = probability.copy()
    searching = (uniform > cumulative).nonzero()[0]
    k = 0
    while searching.size and k < 200:  # P(K > 200) is below 1e-200 for a mean under 5
        k += 1
        probability[searching] *= mean[searching] / k
        cumulative[searching] += probability[searching]
        count[searching] = k
        searching = searching[uniform[searching] > cumulative[searching]]
    return count
