"""Benchmark: the main job, ``ceasefire run scenarios/baseline.yaml``, end to end, here against another checkout.

Not a test. Each run is the whole command as a user starts it (a new ``python -m sim run SCENARIO --out DIR``
process: imports, simulation, tables, the three figures, the manifest), timed from its start to its exit. The
two checkouts are run alternately, in pairs (the order swapped every pair), so that a drift in the machine's
load does not favour either: on a shared machine the ratio of the medians says more than either time.

Both sides run with the same Python (this one) and the same bytecode cache: a fresh ``PYTHONPYCACHEPREFIX``,
filled by one untimed run of each side, so that a checkout without ``__pycache__`` (a new git worktree) is not
timed compiling its modules. After the runs, the CSV files of the two sides' last runs are compared byte for byte
(``--no-compare`` skips it), and so are the PNG files (a difference there is reported, not an error).

Besides the wall time it reports the CPU seconds of each run (the command and the processes it waited for): on a
machine shared with long jobs, where the scheduler gives each session its share, the wall time follows the CPU time.

Usage::

    git worktree add /tmp/base-cc4c470 cc4c470     # the checkout to compare with
    python benchmarks/bench_main_job.py --baseline /tmp/base-cc4c470 [--pairs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402

SCENARIO = "scenarios/baseline.yaml"
TARGET_SECONDS = 2.0
TARGET_RATIO = 1.5
"""Issue 25: the main job under 2 s, or at least 1.5x faster than before on the same machine."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True,
                        help="the checkout to compare with (a git worktree of the earlier commit)")
    parser.add_argument("--current", type=Path, default=ROOT, help="the checkout timed against it (default: this one)")
    parser.add_argument("--pairs", type=int, default=5, help="alternating pairs of runs (default: 5)")
    parser.add_argument("--scenario", default=SCENARIO,
                        help=f"scenario, relative to each checkout (default: {SCENARIO})")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="further arguments of `ceasefire run` (e.g. --replications 500), given to both sides")
    parser.add_argument("--no-compare", action="store_true", help="do not compare the two sides' output files")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    for side in (args.baseline, args.current):
        if not (side / "sim" / "__main__.py").is_file():
            parser.error(f"{side}: not a checkout of this project (no sim/__main__.py)")
    return args


def environment(cache: Path) -> dict[str, str]:
    """The environment of every run: a shared bytecode cache, written (PYTHONDONTWRITEBYTECODE unset)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def run_once(checkout: Path, out: Path, args: argparse.Namespace, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from the start of ``python -m sim run`` in ``checkout`` to its exit (it must succeed), and the CPU
    seconds (user and system) of it and of the processes it waited for."""
    command = [sys.executable, "-m", "sim", "run", args.scenario, "--out", str(out), *args.extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=checkout, env={**env, "PYTHONPATH": str(checkout)}, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compare(baseline: Path, current: Path) -> list[str]:
    """One line per file of either output folder that is not the same bytes in both (manifest.json aside)."""
    names = sorted({p.name for p in baseline.iterdir()} | {p.name for p in current.iterdir()})
    lines = []
    for name in names:
        if name == "manifest.json":  # holds the commit, the command line and the wall time: always differs
            continue
        a, b = baseline / name, current / name
        if not (a.is_file() and b.is_file()):
            lines.append(f"  {name}: only in {'current' if b.is_file() else 'baseline'}")
        elif a.read_bytes() != b.read_bytes():
            lines.append(f"  {name}: different bytes{' (CSV: an error)' if name.endswith('.csv') else ''}")
    return lines


def summary(label: str, times: list[float]) -> str:
    return (f"{label:<9} min {min(times):6.2f} s   median {statistics.median(times):6.2f} s   "
            f"max {max(times):6.2f} s   ({len(times)} runs)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sides = {"baseline": args.baseline.resolve(), "current": args.current.resolve()}
    print(describe())
    print(f"command: python -m sim run {args.scenario} --out DIR {' '.join(args.extra)}".rstrip())
    print(f"baseline: {sides['baseline']}\ncurrent:  {sides['current']}")
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {side: [] for side in sides}
    cpu: dict[str, list[float]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="bench-main-job-") as scratch:
        env = environment(Path(scratch) / "pycache")
        outs = {side: Path(scratch) / side for side in sides}
        for side, checkout in sides.items():  # untimed: fills the bytecode cache
            run_once(checkout, outs[side], args, env)
        for pair in range(args.pairs):
            order = list(sides) if pair % 2 == 0 else list(reversed(sides))
            for side in order:
                wall, used = run_once(sides[side], outs[side], args, env)
                times[side].append(wall)
                cpu[side].append(used)
            print(f"pair {pair + 1}: " + ", ".join(f"{side} {times[side][-1]:.2f} s (CPU {cpu[side][-1]:.2f} s)"
                                                   for side in sides), flush=True)
        differences = None if args.no_compare else compare(outs["baseline"], outs["current"])
    load_after = os.getloadavg()
    print()
    for side in sides:
        print(summary(side, times[side]) + f"   CPU median {statistics.median(cpu[side]):5.2f} s")
    base, current = statistics.median(times["baseline"]), statistics.median(times["current"])
    ratio = base / current
    print(f"ratio of medians baseline / current: {ratio:.2f}x (target: current under {TARGET_SECONDS:.0f} s or "
          f">= {TARGET_RATIO}x) -> {'met' if current < TARGET_SECONDS or ratio >= TARGET_RATIO else 'not met'}")
    print("load average (1, 5, 15 min): before " + ", ".join(f"{x:.2f}" for x in load_before)
          + "; after " + ", ".join(f"{x:.2f}" for x in load_after))
    if differences is not None:
        print("outputs: every CSV and PNG the same bytes" if not differences
              else "outputs differ:\n" + "\n".join(differences))
    return 1 if differences and any("CSV" in line for line in differences) else 0


if __name__ == "__main__":
    sys.exit(main())
