"""Benchmark of sweeps: wall time on 1 and 2 workers, peak memory against the number of points, Dask overhead.

Runs the grid of ``scenarios/sweeps/troops_vs_monitoring.yaml`` (21 × 21 points, 1,000 worlds ×
730 days each) and smaller grids of the same sweep. Each measurement runs in a fresh Python
process, so its peak memory (``resource.getrusage`` of that process and of its children: worker
processes or Dask workers) is its own. Prints a table; not a test. Wall times are only meaningful
on an otherwise idle machine: the table shows the 1-minute load average before and after each case
(on 2 cores, a load above about 2 after a case means other processes competed for the CPU).

    PYTHONPATH=. python benchmarks/bench_sweep.py            # full: about 6 minutes on 2 cores
    PYTHONPATH=. python benchmarks/bench_sweep.py --quick    # smaller grids and worlds: about 1 minute
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO))
SWEEP_FILE = REPO / "scenarios" / "sweeps" / "troops_vs_monitoring.yaml"


@dataclass(frozen=True)
class Case:
    """One measurement: a ``grid × grid`` version of the sweep on an executor."""

    label: str
    grid: int
    replications: int
    horizon: int
    workers: int = 1
    dask: bool = False


def sweep_file(case: Case, folder: Path) -> Path:
    """The bundled sweep with ``grid`` values per axis (same ranges), written into ``folder``."""
    document = yaml.safe_load(SWEEP_FILE.read_text(encoding="utf-8"))
    document["scenario"] = str(SWEEP_FILE.parent / document["scenario"])
    document.update(replications=case.replications, horizon_days=case.horizon)
    for axis in document["axes"]:
        start, stop, _ = axis["values"].split(":")
        axis["values"] = f"{start}:{stop}:{case.grid}"
    path = folder / f"grid{case.grid}.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def measure(case: Case) -> dict[str, float]:
    """Run one case in this process; return wall time, startup time and peak memory (MiB)."""
    from sim.cli.sweep import sweep_into
    from sim.experiments.sweep.design import load_sweep

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        sweep = load_sweep(sweep_file(case, Path(tmp)))
        started = time.perf_counter()
        if case.dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=case.workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                ready = time.perf_counter()
                outcome = sweep_into(sweep, Path(tmp) / "out", scheduler=cluster.scheduler_address, plots=False)
        else:
            ready = started
            outcome = sweep_into(sweep, Path(tmp) / "out", workers=case.workers, plots=False)
        done = time.perf_counter()
    mib = 1024.0  # ru_maxrss is in KiB on Linux
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return {
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "cpu_s": sum(u.ru_utime + u.ru_stime for u in usage),
        "points": sweep.n_points,
        "startup_s": ready - started,
        "wall_s": done - ready,
        "worlds_per_s": sweep.n_points * case.replications / (done - ready),
        "sweep_wall_s": outcome.wall_seconds,
        "rss_self_mib": usage[0].ru_maxrss / mib,
        "rss_child_mib": usage[1].ru_maxrss / mib,
    }


def run_case(case: Case) -> dict[str, float]:
    """``measure(case)`` in a fresh interpreter (so peak memory is the case's own)."""
    done = subprocess.run([sys.executable, __file__, "--measure", json.dumps(asdict(case))],
                          capture_output=True, text=True, cwd=REPO, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case.label} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cases(quick: bool, dask: bool) -> list[Case]:
    """The measurements: full grid on 1 and 2 workers, small grids for memory, a medium grid for Dask."""
    reps, horizon = (200, 365) if quick else (1000, 730)
    big, small, medium = (11, 3, 5) if quick else (21, 5, 11)
    out = [
        Case(f"{big}x{big}, 1 worker", big, reps, horizon, 1),
        Case(f"{big}x{big}, 2 workers", big, reps, horizon, 2),
        Case(f"{small}x{small}, 1 worker", small, reps, horizon, 1),
        Case(f"{small}x{small}, 2 workers", small, reps, horizon, 2),
    ]
    if dask:
        out += [Case(f"{medium}x{medium}, 2 local processes", medium, reps, horizon, 2),
                Case(f"{medium}x{medium}, Dask LocalCluster 2x1", medium, reps, horizon, 2, dask=True)]
    return out


def table(results: list[tuple[Case, dict[str, float]]]) -> str:
    """A Markdown table of the measurements."""
    lines = ["| case | points | worlds x days | startup s | wall s | worlds/s | CPU s | peak RSS self MiB | "
             "peak RSS largest child MiB | load before/after |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for case, r in results:
        lines.append(f"| {case.label} | {r['points']:.0f} | {case.replications} x {case.horizon} | "
                     f"{r['startup_s']:.1f} | {r['wall_s']:.1f} | {r['worlds_per_s']:,.0f} | {r['cpu_s']:.0f} | "
                     f"{r['rss_self_mib']:.0f} | {r['rss_child_mib']:.0f} | "
                     f"{r['load_before']:.1f}/{r['load_after']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="11x11 grid of 200 worlds x 365 days (about 1 min)")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask comparison")
    parser.add_argument("--only", metavar="TEXT", help="run only the cases whose label contains TEXT")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Case(**json.loads(args.measure)))))
        return 0
    results = []
    selected = [c for c in cases(args.quick, dask=not args.no_dask) if not args.only or args.only in c.label]
    for case in selected:
        print(f"running {case.label} ...", file=sys.stderr, flush=True)
        results.append((case, run_case(case)))
    print(table(results))
    if args.only:
        return 0
    one, two, small_one, small_two = (r for _, r in results[:4])
    print(f"\nspeed-up 2 workers vs 1: {one['wall_s'] / two['wall_s']:.2f}x")
    print(f"peak memory, {results[2][0].grid ** 2} vs {results[0][0].grid ** 2} points: "
          f"self {small_one['rss_self_mib']:.0f} vs {one['rss_self_mib']:.0f} MiB (1 worker), "
          f"self {small_two['rss_self_mib']:.0f} vs {two['rss_self_mib']:.0f} MiB and largest worker "
          f"{small_two['rss_child_mib']:.0f} vs {two['rss_child_mib']:.0f} MiB (2 workers)")
    if not args.no_dask:
        local, dask = (r for _, r in results[4:6])
        print(f"Dask vs local processes: cluster start {dask['startup_s']:.1f} s, sweep "
              f"{dask['wall_s']:.1f} s vs {local['wall_s']:.1f} s ({dask['wall_s'] / local['wall_s'] - 1:+.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
