"""Check: how often the ensemble's bootstrap intervals of its variance shares cover the true shares.

Simulates the ensemble's layout as a two-way random-effects model, ``y[c, d] = s_c + t_d + e_cd`` with
``var(s) = structure``, ``var(t) = parameters`` and ``var(e) = monte_carlo`` (the binomial variance handed in),
computes ``sim.experiments.ensemble.share_intervals`` on each replicate and counts how often the 95 % intervals
contain the true shares. Prints the coverage of the structure and parameter shares with a binomial 95 % interval of
the coverage itself (Wilson). Coverage well under 0.95 means the intervals are too narrow for that layout.

    PYTHONPATH=. python benchmarks/check_share_intervals.py                       # 96 x 16, 200 replicates
    PYTHONPATH=. python benchmarks/check_share_intervals.py --combinations 96 --draws 1 --replicates 100
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sim.experiments.ensemble import share_intervals
from sim.stats.metrics import wilson_interval


def coverage(combinations: int, draws: int, replicates: int, resamples: int, variances: tuple[float, float, float],
             seed: int) -> dict[str, int]:
    """How many of ``replicates`` simulated grids have each true share inside its interval."""
    structure, parameters, noise = variances
    total = structure + (parameters if draws > 1 else 0.0) + noise
    true = {"share_structure": structure / total, "share_parameters": (parameters if draws > 1 else 0.0) / total}
    rng = np.random.default_rng(seed)
    covered = dict.fromkeys(true, 0)
    for replicate in range(replicates):
        y = (rng.normal(0.0, structure ** 0.5, (combinations, 1))
             + rng.normal(0.0, parameters ** 0.5, (1, draws)) * (draws > 1)
             + rng.normal(0.0, noise ** 0.5, (combinations, draws)))
        intervals = share_intervals(y, np.full(y.shape, noise), np.random.default_rng([seed, replicate]), resamples)
        for name, value in true.items():
            covered[name] += bool(intervals[f"{name}_low"] <= value <= intervals[f"{name}_high"])
    return covered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--combinations", type=int, default=96, help="combinations (default 96)")
    parser.add_argument("--draws", type=int, default=16, help="parameter draws (default 16; 1: fixed parameters)")
    parser.add_argument("--replicates", type=int, default=200, help="simulated ensembles (default 200)")
    parser.add_argument("--resamples", type=int, default=300, help="bootstrap resamples each (default 300)")
    parser.add_argument("--variances", type=float, nargs=3, default=(0.01, 0.01, 0.0025),
                        metavar=("STRUCTURE", "PARAMETERS", "MONTE_CARLO"),
                        help="the three variance components (default 0.01 0.01 0.0025)")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    args = parser.parse_args(argv)
    if min(args.combinations, args.draws, args.replicates, args.resamples) < 1 or args.combinations * args.draws < 2:
        parser.error("--combinations, --draws, --replicates and --resamples must be at least 1, and the grid 2 cells")
    covered = coverage(args.combinations, args.draws, args.replicates, args.resamples, tuple(args.variances),
                       args.seed)
    print(f"{args.combinations} combinations x {args.draws} draws, variances {tuple(args.variances)}, "
          f"{args.replicates} replicates x {args.resamples} resamples; nominal 95 % intervals")
    for name, count in covered.items():
        low, high = wilson_interval(count, args.replicates)
        print(f"  {name}: coverage {count / args.replicates:.3f} [{float(low):.3f}, {float(high):.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
