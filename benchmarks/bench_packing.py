"""Benchmark: many parameter points in one batch (sim/engine/packing.py), measured in one run.

Not a test: it prints wall times and ratios measured side by side in this process, for
docs/performance.md:

- the bundled ``troops_vs_monitoring`` sweep (21 x 21 points x 1,000 worlds x 730 days) with
  ``ceasefire sweep``'s ``sweep_into`` (points kept on disk, tables written) on ``--workers`` processes
  (default 2);
- ``deterrence_sobol`` (500 worlds a point): its first ``--sobol-points`` points run packed and one
  point per batch, alternately, ``--repeats`` times; the ratio of medians;
- one ABC-SMC generation's worth of simulation: ``--particles`` parameter sets of the calibration's
  fitted parameters x 500 worlds x 730 days, packed (``sim.engine.packing.run_packed``) on ``--workers``;
- ``ceasefire calibrate`` itself (pyabc ABC-SMC with its packed ``BatchSampler``) run to one
  generation of ``--particles`` particles x 500 worlds x 730 days on ``--workers``.

Run: ``python benchmarks/bench_packing.py`` (a few minutes on 2 cores); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from sim.cli.sweep import sweep_into  # noqa: E402
from sim.engine.packing import PACK_WORLDS, run_packed  # noqa: E402
from sim.experiments.sweep.design import load_sweep  # noqa: E402
from sim.spec.scenario import load_scenario  # noqa: E402
from sim.stats.posterior import DEFAULT_POSTERIOR, draw_indices, draw_scenario, load_posterior  # noqa: E402

SWEEPS = ROOT / "scenarios" / "sweeps"


def bench_grid(workers: int, replications: int | None) -> float:
    """Wall seconds of the whole troops_vs_monitoring sweep (tables only)."""
    settings = {"replications": replications} if replications else None
    sweep = load_sweep(SWEEPS / "troops_vs_monitoring.yaml", settings)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        sweep_into(sweep, Path(tmp) / "out", workers=workers, plots=False)
        return time.perf_counter() - start


def bench_sobol(points: int, repeats: int) -> tuple[float, float]:
    """Median wall seconds of the first ``points`` Sobol points: (packed, one point per batch)."""
    sweep = load_sweep(SWEEPS / "deterrence_sobol.yaml")
    scenarios = [sweep.scenario_at(i) for i in range(points)]
    streams = [()] * points
    packed, alone = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        run_packed(scenarios, streams, pack_worlds=PACK_WORLDS)
        packed.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_packed(scenarios, streams, pack_worlds=sweep.base.replications)  # one point per batch
        alone.append(time.perf_counter() - start)
    return statistics.median(packed), statistics.median(alone)


def bench_generation(particles: int, worlds: int, workers: int) -> float:
    """Wall seconds to simulate ``particles`` posterior parameter sets x ``worlds`` worlds x 730 days."""
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    posterior = load_posterior(DEFAULT_POSTERIOR, base)
    picked = draw_indices(posterior, particles, 1)
    columns = posterior.parameters.columns
    scenarios = [draw_scenario(base, {c: float(posterior.parameters.at[int(i), c]) for c in columns}, worlds, 1)
                 for i in picked]
    start = time.perf_counter()
    run_packed(scenarios, [(p,) for p in range(particles)], workers=workers)
    return time.perf_counter() - start


def bench_abc(particles: int, worlds: int, workers: int) -> tuple[float, int, int]:
    """Wall seconds, pyabc evaluations and generations of ``ceasefire calibrate`` run to one generation of
    ``particles`` particles x ``worlds`` worlds x 730 days (pyabc first samples the prior to set the first
    epsilon; that sample is counted too)."""
    from sim.experiments.calibrate.fit import Settings, run_calibration

    start = time.perf_counter()
    calibration = run_calibration(Settings(particles=particles, generations=1, worlds=worlds, horizon_days=730,
                                           workers=workers))
    wall = time.perf_counter() - start
    populations = calibration.populations
    evaluations = int(populations["evaluations"].sum())
    return wall, evaluations, len(populations)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="local processes (default 2)")
    parser.add_argument("--sobol-points", type=int, default=64, help="Sobol points timed each way (default 64)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats of the Sobol pair (default 3)")
    parser.add_argument("--particles", type=int, default=1000, help="parameter sets of the ABC generation")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not a measurement")
    args = parser.parse_args(argv)
    grid_replications = 50 if args.quick else None
    sobol_points, repeats = (8, 1) if args.quick else (args.sobol_points, args.repeats)
    particles = 20 if args.quick else args.particles

    grid = bench_grid(args.workers, grid_replications)
    print(f"troops_vs_monitoring (21 x 21 x {grid_replications or 1000} worlds x 730 days), "
          f"{args.workers} workers: {grid:.1f} s")
    packed, alone = bench_sobol(sobol_points, repeats)
    print(f"deterrence_sobol, first {sobol_points} points x 500 worlds, 1 process, median of {repeats}: "
          f"packed {packed:.2f} s, one point per batch {alone:.2f} s, ratio {alone / packed:.1f}x")
    generation = bench_generation(particles, 500, args.workers)
    print(f"one ABC generation's simulations ({particles} parameter sets x 500 worlds x 730 days), "
          f"{args.workers} workers: {generation:.1f} s")
    abc, evaluations, generations = bench_abc(particles, 500, args.workers)
    print(f"ceasefire calibrate, one ABC-SMC generation of {particles} particles x 500 worlds x 730 days, "
          f"{args.workers} workers: {abc:.1f} s ({evaluations} evaluations over {generations} population(s), "
          "the prior sample for the first epsilon included)")
    print(describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
