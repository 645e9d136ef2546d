"""Experiment: can a compiled kernel reproduce the engine's numbers bit for bit, and what does it win?

One segment of the day, compiled with numba: the stream hashing of the day's probe, breakdown and
incident uniforms (``sim.streams.uniforms``) and the Cornish-Fisher incident counts
(``sim.streams.poisson_quantile``); the Box-Muller normals between them stay numpy's, since numpy's
vectorised ``log``, ``cos`` and ``sin`` are its own. Checks that both paths give identical bytes and
times them side by side. numba is not a dependency of the project: ``pip install numba`` to run this.
Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.streams import GOLDEN, LANES, Lane, normal_pairs, poisson_quantile, uniforms, world_keys  # noqa: E402

DAY_LANES = (Lane.PROBE_AND_BREAKDOWN, Lane.INCIDENTS)


def compile_kernels():
    """The two kernels, compiled on first call; ``None`` if numba is not installed."""
    try:
        from numba import njit
    except ImportError:
        return None
    mix_1, mix_2, golden = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(GOLDEN)
    low_32, unit = np.uint64(0xFFFFFFFF), 2.0**-32

    @njit
    def day_uniforms(keys, lane_ids, index, lanes_total):
        # the same SplitMix64 output and the same conversion to (0, 1) as sim.streams.uniforms
        out = np.empty((2 * lane_ids.size, keys.size))
        for j in range(lane_ids.size):
            offset = (np.uint64(index) * np.uint64(lanes_total) + np.uint64(lane_ids[j] + 1)) * golden
            for i in range(keys.size):
                x = keys[i] + offset
                x ^= x >> np.uint64(30)
                x *= mix_1
                x ^= x >> np.uint64(27)
                x *= mix_2
                x ^= x >> np.uint64(31)
                out[2 * j, i] = (np.float64(x >> np.uint64(32)) + 0.5) * unit
                out[2 * j + 1, i] = (np.float64(x & low_32) + 0.5) * unit
        return out

    @njit
    def cornish_fisher_counts(normal, mean):
        # single precision throughout, as numpy keeps it in sim.streams.poisson_quantile (means of 0 or >= 5 only)
        one, sixth, seventy_second = np.float32(1.0), np.float32(1.0 / 6.0), np.float32(1.0 / 72.0)
        counts = np.empty(mean.shape, dtype=np.int64)
        for r in range(mean.shape[0]):
            for i in range(mean.shape[1]):
                m, z = np.float32(mean[r, i]), normal[r, i]
                root = max(np.float32(np.sqrt(m)), np.float32(1e-3))
                z2 = z * z
                correction = (one - z2) * z / root * seventy_second
                value = z * root + m + (z2 - one) * sixth + correction
                counts[r, i] = np.int64(max(np.float32(np.rint(value)), np.float32(0.0))) if m > 0 else 0
        return counts

    return day_uniforms, cornish_fisher_counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=7_500, help="worlds (default 7,500: a 10,000-world "
                                                                   "batch after its first breakdowns)")
    parser.add_argument("--days", type=int, default=200, help="days compared bit for bit (default 200)")
    parser.add_argument("--repeats", type=int, default=300, help="days per timing (default 300)")
    args = parser.parse_args(argv)
    for option in ("worlds", "days", "repeats"):
        if getattr(args, option) < 1:
            parser.error(f"--{option}: must be 1 or more (got {getattr(args, option)})")

    start = time.perf_counter()
    kernels = compile_kernels()
    if kernels is None:
        print("numba is not installed (it is not a dependency of the project): pip install numba")
        return 0
    import numba
    day_uniforms, cornish_fisher_counts = kernels
    imported = time.perf_counter() - start

    keys = world_keys(1, (), np.arange(args.worlds))
    rng = np.random.default_rng(0)
    means = np.stack([rng.uniform(5.0, 900.0, args.worlds), rng.uniform(5.0, 900.0, args.worlds)])
    means[:, ::16] = 0.0  # ended worlds, still stepped until the next compaction
    lane_ids = np.array([int(lane) for lane in DAY_LANES], dtype=np.int64)

    def numpy_day(day: int) -> tuple[np.ndarray, np.ndarray]:
        u = uniforms(keys, DAY_LANES, day)
        return u, poisson_quantile(normal_pairs(u[2:]), means)

    def compiled_day(day: int) -> tuple[np.ndarray, np.ndarray]:
        u = day_uniforms(keys, lane_ids, day, LANES)
        return u, cornish_fisher_counts(normal_pairs(u[2:]), means)

    start = time.perf_counter()
    compiled_day(0)
    compiled = time.perf_counter() - start
    identical = all(np.array_equal(a, b) for day in range(1, args.days + 1)
                    for a, b in zip(numpy_day(day), compiled_day(day), strict=True))

    def seconds_a_day(step) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for day in range(args.repeats):
                step(day)
            best = min(best, (time.perf_counter() - start) / args.repeats)
        return best

    numpy_time, compiled_time = seconds_a_day(numpy_day), seconds_a_day(compiled_day)
    print(f"numba {numba.__version__}: import {imported:.2f} s, first call (compiling both kernels) {compiled:.2f} s")
    print(f"bit-identical over {args.days} days x {args.worlds:,} worlds: {identical}")
    print(f"the day's uniforms, normals and incident counts: numpy {1e6 * numpy_time:.0f} us, numba kernels "
          f"(numpy's normals between them) {1e6 * compiled_time:.0f} us: {numpy_time / compiled_time:.1f}x")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
