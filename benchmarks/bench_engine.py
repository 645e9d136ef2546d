"""Benchmark: throughput of the batch engine against the one-world-per-model oracle, in one run.

Not a test: it prints figures (world-days per second and their ratio) and the wall time of the
README's main job at 10,000 worlds. Where numba is installed (``pip install -e '.[fast]'``), the engine
with the compiled kernels of ``sim.engine.compiled`` is timed too, beside the numpy engine in the same run.
Run with ``make bench`` or ``python benchmarks/bench_engine.py``. To time this checkout's engine against another
commit's side by side (say the speed-up of issue 25), see ``benchmarks/bench_vs_commit.py``.
Figures are recorded in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from sim.engine.compiled import SWITCH, engine, kernels, numpy_only, wanted  # noqa: E402
from sim.engine.model import CeasefireModel  # noqa: E402
from sim.experiments.run import run_scenario  # noqa: E402
from sim.spec.scenario import load_scenario  # noqa: E402
from tests.oracle import run_oracle  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"


def timed(run, *args, **kwargs) -> float:
    """Wall seconds of one call of ``run(*args, **kwargs)``."""
    start = time.perf_counter()
    run(*args, **kwargs)
    return time.perf_counter() - start


def report_scaling(scenario, sizes: list[int], horizon: int, oracle_rate: float, repeats: int = 3) -> None:
    """Time one model of each size (fastest of ``repeats``) and fit seconds a day = fixed + per_world x worlds
    by least squares: what a day costs whatever the batch, what each world adds, and the throughput ratio
    against the oracle that this implies for any batch size (its limit: 1 / per_world over the oracle's).

    The model is stepped directly: ``run_scenario`` would split more than ``BLOCK_WORLDS`` worlds into
    several models and add the tables' cost."""
    def step_model(config, worlds: int, seed: int) -> None:
        CeasefireModel(config, worlds, rng=seed, record_trajectories=False).run()

    days = []
    for worlds in sizes:
        best = min(timed(step_model, scenario(worlds), worlds, repeat) for repeat in range(repeats))
        days.append(best / horizon)
        print(f"batch of {worlds:>6} worlds: {best:.3f} s, {1e6 * best / horizon:,.0f} us a day, "
              f"{1e9 * best / horizon / worlds:,.0f} ns a world-day, {worlds * horizon / best / oracle_rate:,.0f}x "
              "the oracle")
    per_world, fixed = statistics.linear_regression(sizes, days)
    print(f"fit: {1e6 * fixed:,.0f} us a day whatever the batch + {1e9 * per_world:,.0f} ns a world-day; "
          f"ratio against the oracle at most {1.0 / per_world / oracle_rate:,.0f}x however large the batch")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=int, default=730, help="days per world (default 730)")
    parser.add_argument("--batch-worlds", type=int, default=10_000, help="worlds for the batch engine")
    parser.add_argument("--oracle-worlds", type=int, default=200, help="worlds for the oracle")
    parser.add_argument("--repeats", type=int, default=15,
                        help="timed batch-oracle pairs, and runs of the command (default 15; medians reported)")
    parser.add_argument("--skip-cli", action="store_true", help="do not time the end-to-end command")
    parser.add_argument("--scaling", type=int, nargs="*", metavar="WORLDS",
                        help="also time batches of these sizes (default 1000 5000 10000 20000 40000 if the flag "
                             "is given bare) and fit the cost of a day: fixed part plus a part per world")
    args = parser.parse_args(argv)
    if args.scaling is not None and (0 < len(set(args.scaling)) < 2 or any(size < 1 for size in args.scaling)):
        parser.error("--scaling: give at least two different batch sizes of 1 world or more "
                     "(or none, for the default five)")

    def scenario(worlds: int):
        return load_scenario(BASELINE, {"replications": worlds, "horizon_days": args.horizon})

    batch = scenario(args.batch_worlds)
    oracle = scenario(args.oracle_worlds)
    with wanted():
        compiled = kernels() is not None  # numba installed (ceasefire[fast]) and not switched off
        run_scenario(scenario(200))  # warm-up: imports, caches, the compiled kernels loaded
    with numpy_only():
        run_scenario(scenario(200))

    # batch and oracle runs alternate, and the ratio is taken pair by pair, so that a drift in the
    # machine's speed during the benchmark does not bias it; the numpy engine and, where numba is
    # installed, the engine with the compiled kernels each meet the same oracle run
    batch_times, compiled_times, oracle_times = [], [], []
    for repeat in range(args.repeats):
        seeded = batch.model_copy(update={"seed": repeat})
        with numpy_only():
            batch_times.append(timed(run_scenario, seeded, record_trajectories=False))
        if compiled:
            with wanted():  # the kernels, as a long job would load them
                compiled_times.append(timed(run_scenario, seeded, record_trajectories=False))
        oracle_times.append(timed(run_oracle, oracle, args.oracle_worlds, seed=repeat))
    oracle_time = statistics.median(oracle_times)
    oracle_rate = args.oracle_worlds * args.horizon / oracle_time
    print(describe())
    print(f"horizon {args.horizon} days, baseline scenario, median of {args.repeats} runs "
          "(world-days = worlds x horizon)")
    print(f"{'engine':<40}{'worlds':>8}{'wall s':>10}{'world-days/s':>16}")
    rows = [("batch (CeasefireModel), numpy", batch_times)]
    if compiled:
        with wanted():
            rows.append((f"batch, compiled kernels ({engine()})", compiled_times))
    for label, times in rows:
        rate = args.batch_worlds * args.horizon / statistics.median(times)
        print(f"{label:<40}{args.batch_worlds:>8}{statistics.median(times):>10.3f}{rate:>16,.0f}")
    print(f"{'oracle (one world a model)':<40}{args.oracle_worlds:>8}{oracle_time:>10.3f}{oracle_rate:>16,.0f}")
    for label, times in rows:
        ratios = sorted((args.batch_worlds / b) / (args.oracle_worlds / o)
                        for b, o in zip(times, oracle_times, strict=True))
        name = "batch" if label.endswith("numpy") else "compiled batch"
        print(f"throughput ratio {name} / oracle, pair by pair: median {statistics.median(ratios):,.0f}x "
              f"(min {ratios[0]:,.0f}x, max {ratios[-1]:,.0f}x; target >= 150x)")
    if not compiled:
        switched_off = os.environ.get(SWITCH, "").strip() == "0"
        why = f"{SWITCH}=0" if switched_off else "numba not installed: pip install -e '.[fast]'"
        print(f"compiled kernels: not measured ({why})")

    if args.scaling is not None:
        with numpy_only():
            report_scaling(scenario, args.scaling or [1_000, 5_000, 10_000, 20_000, 40_000], args.horizon,
                           oracle_rate)

    if not args.skip_cli:
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "sim", "run", str(BASELINE), "--replications", "10000",
                       "--out", str(Path(tmp) / "baseline"), "--quiet"]
            walls = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                subprocess.run(command, check=True, cwd=ROOT)
                walls.append(time.perf_counter() - start)
        path = "numba" if os.environ.get(SWITCH, "").strip() == "1" else "numpy: too short to repay loading numba"
        print(f"`ceasefire run scenarios/baseline.yaml --replications 10000` (730 days, plots included, "
              f"{path}): median {statistics.median(walls):.2f} s wall over {args.repeats} runs (target < 3 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
