"""Benchmark: the main job's three figures (survival, trajectories, causes), before and after, in one run.

Not a test: it runs the baseline scenario once, writes its tables, then draws and saves ``survival.png``,
``trajectories.png`` and ``causes.png`` from them with the current :mod:`sim.outputs.plots.runs` and with a reference
version of the module (by default the one before the figures were made cheaper, read from git), alternating
the two so that a drift in the machine's speed does not favour either. It prints the median seconds of each
figure (built and saved) over ``--repeats`` rounds. With ``--cli`` it also times the main job end to end,
``python -m sim run scenarios/baseline.yaml``, here and, with ``--cli-reference``, in another checkout.

Run with ``python benchmarks/bench_plots.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.api import save_run  # noqa: E402
from sim.experiments.run import run_scenario  # noqa: E402
from sim.outputs.plots import runs as plots  # noqa: E402
from sim.spec.scenario import load_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"
REFERENCE_COMMIT = "d449142"
"""The commit whose run figures module is the "before" (figures drawn with savefig and constrained layout)."""
FIGURES = ("survival", "trajectories", "causes")


def reference_module(commit: str) -> ModuleType | None:
    """The run figures module as of ``commit``, imported under another name; None (with a note) without git."""
    try:
        source = subprocess.run(["git", "show", f"{commit}:sim/outputs/plots/runs.py"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"no reference: cannot read the plots module at {commit} ({exc}); timing the current module only")
        return None
    with tempfile.NamedTemporaryFile("w", suffix="_plots_reference.py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("plots_reference", handle.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    Path(handle.name).unlink()
    return module


def figure_calls(module: ModuleType, run_dir: Path) -> dict[str, Callable[[Path], object]]:
    """The three main-job figures of ``module``, each a call that builds the figure, saves it and frees it."""
    survival, trajectories, summary = module.read_run_tables(run_dir)
    scenario = str(summary["scenario"].iloc[0])
    draw = {
        "survival": lambda path: module.plot_survival(survival, scenario, path),
        "trajectories": lambda path: module.plot_trajectories(trajectories, scenario, path),
        "causes": lambda path: module.plot_causes(summary, path),
    }
    return {name: (lambda path, d=d: d(path).clear()) for name, d in draw.items()}


def timed(call: Callable[[], object]) -> float:
    """Wall seconds of one ``call()``."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def time_cli(trees: dict[str, Path], repeats: int, worlds: int) -> dict[str, list[float]]:
    """Wall seconds of the main job in each source tree, runs alternating between trees."""
    walls: dict[str, list[float]] = {label: [] for label in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(repeats):
            for label, tree in trees.items():
                command = [sys.executable, "-m", "sim", "run", str(BASELINE), "--replications", str(worlds),
                           "--out", str(Path(tmp) / f"{label}{repeat}"), "--quiet"]
                start = time.perf_counter()
                subprocess.run(command, check=True, cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)})
                walls[label].append(time.perf_counter() - start)
    return walls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=10_000, help="worlds of the baseline run (default 10,000)")
    parser.add_argument("--horizon", type=int, default=730, help="days per world (default 730)")
    parser.add_argument("--repeats", type=int, default=7, help="rounds of the three figures (default 7; medians)")
    parser.add_argument("--reference", default=REFERENCE_COMMIT,
                        help=f"git commit of the reference plots module (default {REFERENCE_COMMIT}); 'none' to skip")
    parser.add_argument("--cli", type=int, default=0, metavar="N",
                        help="also time the main job end to end N times (default 0: not)")
    parser.add_argument("--cli-reference", type=Path, default=None, metavar="DIR",
                        help="another source tree (e.g. an exported older commit) to time the main job in too")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.worlds < 1 or args.horizon < 1 or args.cli < 0:
        parser.error("--repeats, --worlds and --horizon must be at least 1, --cli at least 0")

    modules = {"current": plots}
    if args.reference != "none" and (reference := reference_module(args.reference)) is not None:
        modules = {"reference": reference, **modules}
    scenario = load_scenario(BASELINE, {"replications": args.worlds, "horizon_days": args.horizon})
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = save_run(run_scenario(scenario), Path(tmp) / "run", plots=False)
        calls = {label: figure_calls(module, run_dir) for label, module in modules.items()}
        for label, figures in calls.items():  # warm-up: fonts, caches, first-call imports
            for name, call in figures.items():
                call(Path(tmp) / f"warm_{label}_{name}.png")
        seconds = {(label, name): [] for label in calls for name in FIGURES}
        for _ in range(args.repeats):
            for label, figures in calls.items():
                for name, call in figures.items():
                    path = Path(tmp) / f"{label}_{name}.png"
                    seconds[label, name].append(timed(lambda c=call, p=path: c(p)))
        sizes = {key: (Path(tmp) / f"{key[0]}_{key[1]}.png").stat().st_size for key in seconds}

    print(f"baseline, {args.worlds:,} worlds x {args.horizon} days; median seconds over {args.repeats} rounds "
          "(figure built and saved as PNG)")
    print(f"{'figure':<14}" + "".join(f"{label + ' s':>14}{'KB':>7}" for label in calls))
    totals = {label: [sum(seconds[label, name][r] for name in FIGURES) for r in range(args.repeats)]
              for label in calls}
    for name in FIGURES:
        print(f"{name:<14}" + "".join(f"{statistics.median(seconds[label, name]):>14.3f}"
                                      f"{sizes[label, name] / 1024:>7.0f}" for label in calls))
    print(f"{'all three':<14}" + "".join(f"{statistics.median(totals[label]):>14.3f}{'':>7}" for label in calls))
    if "reference" in calls:
        ratios = sorted(r / c for r, c in zip(totals["reference"], totals["current"], strict=True))
        print(f"reference / current, round by round: median {statistics.median(ratios):.2f}x "
              f"(min {ratios[0]:.2f}x, max {ratios[-1]:.2f}x)")

    if args.cli:
        trees = {"current": ROOT, **({"reference": args.cli_reference.resolve()} if args.cli_reference else {})}
        walls = time_cli(trees, args.cli, args.worlds)
        for label, values in walls.items():
            print(f"main job in {trees[label]} ({label}): median {statistics.median(values):.2f} s wall over "
                  f"{args.cli} runs (min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
