"""Benchmark: a SALib Sobol design through ``sim.evaluate`` against a plain loop of ``load_scenario`` +
``run_scenario``, in this process, one after the other.

Not a test: it prints both wall times, their ratio (target >= 4x) and whether every headline of every point
is identical, for docs/performance.md. The design is Sobol (Saltelli) with ``--n`` base samples over three
parameters with priors (``--n 64``: 64 x (2 x 3 + 2) = 512 points), ``--worlds`` worlds a point, the
baseline's horizon.

Run: ``python benchmarks/bench_evaluate.py`` (a few minutes on 2 cores); ``--n 2 --worlds 20 --horizon 30``
for a smoke run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from SALib.sample import sobol as sobol_sample  # noqa: E402

import sim  # noqa: E402
from benchmarks.machine import describe  # noqa: E402
from sim.stats.metrics import summary_row  # noqa: E402

PARAMETERS = ("agents.UK.resolve", "model.deterrence_weight", "agents.US.detection_probability")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="Sobol base samples (points: n x 8)")
    parser.add_argument("--worlds", type=int, default=300, help="worlds per point")
    parser.add_argument("--horizon", type=int, default=None, help="days (default: the baseline's)")
    parser.add_argument("--workers", type=int, default=1, help="processes for sim.evaluate")
    args = parser.parse_args(argv)
    problem = sim.parameter_space().to_salib_problem(list(PARAMETERS))
    samples = sobol_sample.sample(problem, args.n, calc_second_order=True, seed=1)
    points = [dict(zip(problem["names"], map(float, row), strict=True)) for row in samples]
    settings = {"replications": args.worlds, **({"horizon_days": args.horizon} if args.horizon else {})}
    print(describe())
    print(f"Sobol N={args.n} over {len(PARAMETERS)} parameters: {len(points)} points x {args.worlds} worlds")

    start = time.perf_counter()
    table = sim.evaluate(points, replications=args.worlds, horizon_days=args.horizon, workers=args.workers,
                         outputs=["p_agreed", "p_hold_365", "p_hold_horizon", "share_held"])
    packed = time.perf_counter() - start
    print(f"sim.evaluate (workers={args.workers}): {packed:.2f} s")

    start = time.perf_counter()
    rows = []
    for point in points:
        scenario = sim.load_scenario("baseline", {**point, **settings})
        result = sim.run_scenario(scenario, record_trajectories=False)
        rows.append(summary_row(result.runs, scenario.horizon_days, scenario.name, scenario.seed))
    loop = time.perf_counter() - start
    print(f"plain loop of load_scenario + run_scenario: {loop:.2f} s")

    columns = [c for c in table.columns if c not in PARAMETERS]
    expected = np.array([[row.get(c, np.nan) for c in columns] for row in rows], dtype=float)
    identical = np.array_equal(table[columns].to_numpy(dtype=float), expected, equal_nan=True)
    print(f"speed-up: {loop / packed:.1f}x (target >= 4x); results identical: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
