"""Benchmark: wall time of the paired bootstrap of the bet's optimum (``sim.experiments.bet.optimum_interval``).

Not a test: it prints seconds per call at the bet's size (13 troop levels x 4,000 worlds) for 1,000 and
2,000 resamples, for an over-all-worlds outcome and for the ratio P(hold 1 y | deal), and the whole
``optimum.csv`` of nine variants x four outcomes at 1,000 resamples (one shared pass). Synthetic worlds:
the bootstrap's cost does not depend on the model. Run with ``python benchmarks/bench_bet_optimum.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.experiments.bet import PairedWorlds, optimum_interval, optimum_table  # noqa: E402


def synthetic_worlds(levels: int, worlds: int, seed: int = 1) -> PairedWorlds:
    """Worlds with P(deal) 0.8 and P(hold 1 y) rising then falling over ``levels`` troop levels."""
    rng = np.random.default_rng(seed)
    p_hold = 0.5 + 0.2 * np.sin(np.linspace(0.0, np.pi, levels))
    agreed = rng.random((levels, worlds)) < 0.8
    hold = agreed & (rng.random((levels, worlds)) < p_hold[:, None] / 0.8)
    return PairedWorlds(np.arange(levels) * 5000.0, agreed, hold, hold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=13)
    parser.add_argument("--worlds", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    worlds = synthetic_worlds(args.levels, args.worlds)
    optimum_interval(worlds, "p_hold_1y", 10, seed=0)  # warm up BLAS and the allocator
    for outcome in ("p_hold_1y", "p_hold_1y_given_deal"):
        for resamples in (1000, 2000):
            times = []
            for repeat in range(args.repeats):
                start = time.perf_counter()
                optimum_interval(worlds, outcome, resamples, seed=repeat)
                times.append(time.perf_counter() - start)
            print(f"{outcome:<22} {resamples:>5} resamples, {args.levels} levels x {args.worlds} worlds: "
                  f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})")
    variants = {str(v): synthetic_worlds(args.levels, args.worlds, seed=v) for v in range(9)}
    start = time.perf_counter()
    optimum_table(variants, 1000, seed=0)
    print(f"optimum.csv, 9 variants x 4 outcomes, 1000 resamples: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
