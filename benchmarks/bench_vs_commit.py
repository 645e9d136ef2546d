"""Benchmark: the engine of this checkout against that of another checkout (say a commit's worktree), side by side.

Not a test: it prints figures. Each checkout runs in a worker process of its own (the same Python, with
``PYTHONPATH`` set to the checkout), warmed up once; the workers then time, in process and one after the other,
``CeasefireModel(baseline, worlds, rng=seed, record_trajectories=False).run()`` (``--trajectories``: recording them,
as the main job and the dashboard do) for the same seeds, so that a
change in the machine's load hits both alike. Optionally the one-world-per-model oracle (``tests/oracle.py`` of
this checkout) is timed between them, for the throughput ratio engine / oracle of each checkout, pair by pair.

    git worktree add /tmp/base-cc4c470 cc4c470
    python benchmarks/bench_vs_commit.py /tmp/base-cc4c470 --worlds 2000 --pairs 9
    python benchmarks/bench_vs_commit.py /tmp/base-cc4c470 --worlds 10000 --oracle-worlds 50 --pairs 15

The numpy path is timed unless ``--numba`` is given (then both workers run with ``CEASEFIRE_NUMBA=1``; a checkout
without a compiled path just runs numpy).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import json, sys, time
from sim.engine.model import CeasefireModel
from sim.spec.scenario import load_scenario
scenario = load_scenario(sys.argv[1]).model_copy(update={"horizon_days": int(sys.argv[2])})
record = sys.argv[3] == "1"
def engine(worlds, seed):
    start, cpu = time.perf_counter(), time.process_time()
    CeasefireModel(scenario, worlds, rng=seed, record_trajectories=record).run()
    return time.perf_counter() - start, time.process_time() - cpu
def oracle(worlds, seed):
    from tests.oracle import run_oracle
    small = scenario.model_copy(update={"replications": worlds})
    start, cpu = time.perf_counter(), time.process_time()
    run_oracle(small, worlds, seed=seed)
    return time.perf_counter() - start, time.process_time() - cpu
engine(200, 0)  # warm-up: imports, caches
print("ready", flush=True)
for line in sys.stdin:
    what, worlds, seed = line.split()
    print(json.dumps((engine if what == "engine" else oracle)(int(worlds), int(seed))), flush=True)
"""


class Worker:
    """A Python process with one checkout on its path, timing runs on request."""

    def __init__(self, checkout: Path, horizon: int, numba: bool, extra_path: list[str], trajectories: bool) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(checkout), *extra_path]),
                   CEASEFIRE_NUMBA="1" if numba else "0")
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(ROOT / "scenarios" / "baseline.yaml"), str(horizon),
             "1" if trajectories else "0"],
            cwd=checkout, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"

    def time(self, what: str, worlds: int, seed: int) -> tuple[float, float]:
        """(wall, CPU) seconds of one run."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{what} {worlds} {seed}\n")
        self.process.stdin.flush()
        wall, cpu = json.loads(self.process.stdout.readline())
        return float(wall), float(cpu)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path, help="the other checkout (a git worktree of the baseline commit)")
    parser.add_argument("--worlds", type=int, default=2000, help="worlds of each engine run (default 2000)")
    parser.add_argument("--horizon", type=int, default=730, help="days (default 730)")
    parser.add_argument("--pairs", type=int, default=9, help="alternating pairs (default 9; medians reported)")
    parser.add_argument("--oracle-worlds", type=int, default=0,
                        help="also time this checkout's oracle with this many worlds between the engines' runs")
    parser.add_argument("--trajectories", action="store_true",
                        help="record the trajectories in the engine's runs (the main job and the dashboard do)")
    parser.add_argument("--numba", action="store_true",
                        help="both workers with CEASEFIRE_NUMBA=1 (numba must import: see --path)")
    parser.add_argument("--path", action="append", default=[],
                        help="a folder put on both workers' PYTHONPATH after the checkout (say numba installed with "
                             "pip install --target); repeatable")
    args = parser.parse_args(argv)
    if args.pairs < 1 or args.worlds < 1:
        parser.error("--pairs and --worlds must be at least 1")

    print(f"load average before: {load()}")
    workers = {name: Worker(checkout, args.horizon, args.numba, args.path, args.trajectories)
               for name, checkout in (("this", ROOT), ("baseline", args.baseline))}
    measured: dict[str, list[tuple[float, float]]] = {"this": [], "baseline": [], "oracle": []}
    try:
        for pair in range(args.pairs):
            order = ("this", "baseline") if pair % 2 == 0 else ("baseline", "this")
            for name in order:
                measured[name].append(workers[name].time("engine", args.worlds, pair))
            if args.oracle_worlds:
                measured["oracle"].append(workers["this"].time("oracle", args.oracle_worlds, pair))
    finally:
        for worker in workers.values():
            worker.close()
    print(f"load average after: {load()}")
    for clock, column in (("wall", 0), ("CPU", 1)):
        report({name: [m[column] for m in runs] for name, runs in measured.items()}, clock, args)
    return 0


def report(times: dict[str, list[float]], clock: str, args: argparse.Namespace) -> None:
    """Medians and pair-by-pair ratios of one clock's times."""
    print(f"{clock} time: baseline {args.worlds} worlds x {args.horizon} days, in process, "
          f"{args.pairs} alternating pairs{', trajectories recorded' if args.trajectories else ''}"
          f"{', CEASEFIRE_NUMBA=1 (numba where the checkout has kernels)' if args.numba else ', numpy'}")
    for name in ("this", "baseline"):
        t = times[name]
        print(f"  {name:<9} median {statistics.median(t):.3f} s (min {min(t):.3f}, max {max(t):.3f})")
    speedups = sorted(b / t for b, t in zip(times["baseline"], times["this"], strict=True))
    print(f"  speed-up baseline / this, pair by pair: median {statistics.median(speedups):.2f}x "
          f"(min {speedups[0]:.2f}x, max {speedups[-1]:.2f}x); of the medians "
          f"{statistics.median(times['baseline']) / statistics.median(times['this']):.2f}x")
    if args.oracle_worlds:
        for name in ("this", "baseline"):
            ratios = sorted((args.worlds / e) / (args.oracle_worlds / o)
                            for e, o in zip(times[name], times["oracle"], strict=True))
            print(f"  engine / oracle ({args.oracle_worlds} worlds), {name}: median {statistics.median(ratios):.0f}x "
                  f"(min {ratios[0]:.0f}x, max {ratios[-1]:.0f}x)")


if __name__ == "__main__":
    sys.exit(main())
