"""The ``ceasefire sweep`` command, and ``ceasefire plot`` for sweep folders.

``sim.cli.main`` registers the command with ``add_sweep_commands(commands)``; ``cmd_plot`` calls
:func:`plot_any_dir`. Heavy modules (pandas, the model, matplotlib, Dask) are imported only when
a command runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.core.errors import InputError

EXAMPLES = """\
examples:
  ceasefire sweep scenarios/sweeps/troops_vs_monitoring.yaml --workers 2
  ceasefire sweep scenarios/sweeps/troops_vs_monitoring.yaml --resume      # after Ctrl-C
  ceasefire sweep scenarios/sweeps/deterrence_sobol.yaml --scheduler tcp://10.0.0.5:8786
  ceasefire sweep scenarios/baseline.yaml --param agents.UK.troops=0:20000:5 \\
      --param agents.US.detection_probability=0.2,0.5,0.9 --replications 500
  ceasefire sweep scenarios/baseline.yaml --param agents.UK.troops,agents.FR.troops=0:30000:7
  ceasefire sweep scenarios/sweeps/coalition_troops.yaml --posterior --draws 20   # the committed posterior

--param PATHS=VALUES: VALUES is start:stop:steps (steps values, both ends included) or a,b,c;
several comma-separated PATHS move together. See docs/SWEEPS.md.
--posterior [FILE]: draw the fitted parameters per world from a posterior (default FILE: the committed
seeds/posterior/posterior.csv); sweep.csv's intervals then include parameter uncertainty.
"""

DEFAULT_DRAWS = 20
"""Posterior draws of ``sweep --posterior`` and ``bet --posterior`` unless ``--draws`` says otherwise."""

COMMITTED = "committed"
"""``args.posterior`` when ``--posterior`` is given without a file: the committed posterior."""


def add_posterior_arguments(parser: argparse.ArgumentParser, unit: str = "point") -> None:
    """Add ``--posterior [FILE]`` and ``--draws D`` (``sweep`` and ``bet``); read by :func:`posterior_choice`."""
    parser.add_argument("--posterior", nargs="?", const=COMMITTED, metavar="FILE",
                        help="draw the fitted parameters of every world from a posterior CSV (ceasefire calibrate's "
                             "posterior.csv; without FILE: the committed seeds/posterior/posterior.csv); world r "
                             f"runs draw r %% D at every {unit}, and the intervals include parameter uncertainty")
    parser.add_argument("--draws", type=int, metavar="D",
                        help=f"posterior draws with --posterior, each run by every D-th world of a {unit} "
                             f"(default: {DEFAULT_DRAWS}; at most half the worlds per {unit})")


def posterior_choice(args: argparse.Namespace, template: Any, unit: str = "point") -> Any:
    """``--posterior [FILE] --draws D`` read and checked against ``template`` (a scenario with the worlds per
    point), before any simulation; None without ``--posterior``.

    Raises:
        InputError: ``--draws`` without ``--posterior`` or outside 1..worlds/2; a bad posterior file; a
            parameter that cannot be drawn per world.
    """
    from sim.engine.world_params import PACKABLE
    from sim.stats.posterior import DEFAULT_POSTERIOR, PosteriorChoice, load_posterior

    if args.posterior is None:
        if args.draws is not None:
            raise InputError("--draws: only with --posterior")
        return None
    draws = DEFAULT_DRAWS if args.draws is None else args.draws
    most = template.replications // 2
    if most < 1:
        raise InputError(f"--posterior: needs at least 2 worlds per {unit} (got {template.replications})")
    if not 1 <= draws <= most:
        raise InputError(f"--draws: must be between 1 and {most}, half the worlds per {unit}, so that every draw "
                         f"has 2 worlds or more (got {draws})")
    path = DEFAULT_POSTERIOR if args.posterior == COMMITTED else Path(args.posterior)
    posterior = load_posterior(path, template=template)
    fixed = [c for c in posterior.parameters.columns if c not in PACKABLE]
    if fixed:
        raise InputError(f"{path}: {fixed[0]}: cannot be drawn per world (see sim.engine.world_params.PACKABLE); "
                         "`ceasefire run --posterior` can draw it")
    return PosteriorChoice(posterior, draws)


def add_sweep_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``sweep`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    sweep = subparsers.add_parser(
        "sweep", help="run a parameter sweep (grid, Latin hypercube or Sobol) and plot where the ceasefire holds",
        description="Run every point of a sweep file, or a quick grid over a scenario with --param; write "
                    "sweep.csv, survival.csv, manifest.json, plots (and sobol.csv for Sobol designs).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_argument("file", type=Path, metavar="FILE", help="sweep YAML, or a scenario YAML with --param")
    sweep.add_argument("--param", action="append", default=[], metavar="PATHS=VALUES",
                       help="quick form: an axis over a parameter of FILE (a scenario); repeat for more axes")
    sweep.add_argument("--replications", type=int, metavar="N", help="worlds per point (default: the file's)")
    sweep.add_argument("--seed", type=int, metavar="S", help="random seed (default: the file's)")
    sweep.add_argument("--horizon", type=int, metavar="DAYS", help="days simulated (default: the file's)")
    sweep.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: results/<sweep name>/)")
    sweep.add_argument("--workers", type=int, metavar="K", help="local processes (default: all cores)")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask distributed cluster, e.g. tcp://host:8786 (needs 'distributed')")
    sweep.add_argument("--resume", action="store_true", help="continue an interrupted sweep from its saved points")
    sweep.add_argument("--restart", action="store_true", help="discard the saved points of an interrupted sweep")
    sweep.add_argument("--independent-streams", action="store_true",
                       help="give every point random streams of its own (default: common random numbers, the "
                            "same worlds at every point, so neighbouring points are paired comparisons)")
    add_posterior_arguments(sweep)
    sweep.add_argument("--no-plots", action="store_true", help="write the tables only")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar or closing summary")
    sweep.set_defaults(handler=cmd_sweep)
    return sweep


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire sweep``: exit 0 done, 2 bad input, 1 a worker died or a point failed, 130 interrupted.

    The output folder is checked (:func:`sim.outputs.artefacts.check_output_folder`) and the workers capped at the
    CPU count and the number of points before any point runs.
    """
    from sim.cli.common import cap_workers
    from sim.core.exit_codes import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.engine.runner import default_workers
    from sim.experiments.sweep.design import load_sweep, quick_sweep, with_posterior
    from sim.experiments.sweep.execute import SweepAborted, SweepInterrupted, run_sweep
    from sim.outputs.artefacts import check_output_folder

    if args.resume and args.restart:
        raise InputError("--resume, --restart: choose one")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {args.workers})")
    settings = {key: value for key, value in (
        ("replications", args.replications), ("seed", args.seed), ("horizon_days", args.horizon)
    ) if value is not None}
    sweep = quick_sweep(args.file, args.param, settings) if args.param else load_sweep(args.file, settings)
    if args.independent_streams:
        sweep = dataclasses.replace(sweep, common_random_numbers=False)
    choice = posterior_choice(args, sweep.base)
    if choice is not None:
        sweep = with_posterior(sweep, choice)
    workers = default_workers() if args.workers is None else args.workers
    if args.scheduler is None:
        workers = cap_workers(workers, sweep.n_points, "points", explicit=args.workers is not None)
    out_dir = args.out if args.out is not None else Path("results") / sweep.name
    inputs = [args.file, sweep.scenario_file, *([choice.posterior.source] if choice is not None else [])]
    check_output_folder(out_dir, inputs=inputs)
    progress = TqdmProgress(enabled=not args.quiet)
    try:
        with interrupt_on_signals():
            outcome = run_sweep(sweep, out_dir, workers=workers, scheduler=args.scheduler, resume=args.resume,
                                restart=args.restart, progress=progress, plots=not args.no_plots,
                                command_line=["ceasefire", *argv])
    except SweepInterrupted as exc:
        progress.close()
        print(f"interrupted: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepAborted as exc:
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    progress.close()
    if not args.quiet:
        print(closing_summary(sweep, outcome))
    return EXIT_OK


def closing_summary(sweep: Any, outcome: Any) -> str:
    """A few lines after a sweep: size, speed, the range of P(holding) and where results are."""
    import pandas as pd

    from sim.outputs.plots.sweep import hold_metric

    table = pd.read_csv(outcome.out_dir / "sweep.csv")
    column, label = hold_metric(table)
    worlds = outcome.points_run * sweep.base.replications
    rate = worlds / outcome.wall_seconds if outcome.wall_seconds > 0 else float("nan")
    resumed = f", {outcome.points_resumed} resumed" if outcome.points_resumed else ""
    return "\n".join([
        f"{sweep.name}: {sweep.design} design, {sweep.n_points} points x {sweep.base.replications} worlds, "
        f"{sweep.base.horizon_days} days",
        f"  ran {outcome.points_run} points in {outcome.wall_seconds:.1f} s on {outcome.executor} "
        f"({rate:,.0f} worlds/s){resumed}",
        f"  {label}: {table[column].min():.3f} to {table[column].max():.3f} across points",
        *([f"  intervals: parameters+monte_carlo ({posterior.draws} draws from {posterior.posterior.source})"]
          if (posterior := sweep.posterior) is not None else []),
        f"results in {outcome.out_dir}/",
    ])


class TqdmProgress:
    """A tqdm bar on stderr (points done, worlds/s, ETA), only when stderr is a terminal and ``enabled``."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None
        self.worlds = 0
        self.started = time.perf_counter()

    def start(self, total: int, done: int) -> None:
        """Open the bar at ``done`` of ``total`` points."""
        if not self.enabled:
            return
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=done, unit="point", file=sys.stderr, dynamic_ncols=True)
        self.started = time.perf_counter()

    def advance(self, worlds: int) -> None:
        """One more point of ``worlds`` worlds is done."""
        if self.bar is None:
            return
        self.worlds += worlds
        elapsed = time.perf_counter() - self.started
        self.bar.set_postfix_str(f"{self.worlds / max(elapsed, 1e-9):,.0f} worlds/s", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def is_sweep_dir(directory: Path) -> bool:
    """Whether a folder holds sweep results (``sweep.csv``, ``sobol.csv`` or a sweep manifest)."""
    import json

    directory = Path(directory)
    if (directory / "sweep.csv").exists() or (directory / "sobol.csv").exists():
        return True
    try:
        return "sweep_hash" in json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return False


def plot_any_dir(directory: str | Path) -> list[Path]:
    """Redraw the figures of a run folder or a sweep folder from its CSV tables.

    Raises:
        sim.outputs.plots.runs.PlotInputError: a table is missing or damaged; the message says which.
    """
    directory = Path(directory)
    if is_sweep_dir(directory):
        from sim.outputs.plots.sweep import plot_sweep_dir

        return plot_sweep_dir(directory)
    from sim.outputs.plots.runs import plot_run_dir

    return plot_run_dir(directory)
