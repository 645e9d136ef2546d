"""The ``ceasefire sweep`` command, and ``ceasefire plot`` for sweep folders.

``sim.cli.main`` registers the command with ``add_sweep_commands(commands)``; ``cmd_plot`` calls
:func:`plot_any_dir`. Heavy modules (pandas, the model, matplotlib, Dask) are imported only when
a command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.common import add_command, add_options, cap_workers, check_options, posterior_choice, progress_bar
from sim.core.errors import InputError

if TYPE_CHECKING:
    from sim.experiments.sweep.design import Sweep
    from sim.experiments.sweep.result import SweepResult

HELP = "run a parameter sweep (grid, Latin hypercube or Sobol) and plot where the ceasefire holds"
DESCRIPTION = ("Run every point of a sweep file, or a quick grid over a scenario with --param; write sweep.csv, "
               "survival.csv, manifest.json, plots (and sobol.csv for Sobol designs).")
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


def add_sweep_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``sweep`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    sweep = add_command(subparsers, "sweep", cmd_sweep, HELP, DESCRIPTION, EXAMPLES)
    sweep.add_argument("file", type=Path, metavar="FILE", help="sweep YAML, or a scenario YAML with --param")
    sweep.add_argument("--param", action="append", default=[], metavar="PATHS=VALUES",
                       help="quick form: an axis over a parameter of FILE (a scenario); repeat for more axes")
    add_options(sweep, replications={"help": "worlds per point (default: the file's)"}, seed=True,
                horizon={"help": "days simulated (default: the file's)"},
                out={"help": "output folder (default: results/<sweep name>/)"},
                workers={"help": "local processes (default: all cores)"}, scheduler=True)
    sweep.add_argument("--resume", action="store_true", help="continue an interrupted sweep from its saved points")
    sweep.add_argument("--restart", action="store_true", help="discard the saved points of an interrupted sweep")
    sweep.add_argument("--independent-streams", action="store_true",
                       help="give every point random streams of its own (default: common random numbers, the "
                            "same worlds at every point, so neighbouring points are paired comparisons)")
    add_options(sweep, posterior=True, draws=True, no_plots=True, quiet=True)
    return sweep


def cmd_sweep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire sweep``: exit 0 done, 2 bad input, 1 a worker died or a point failed, 130 interrupted.

    Every input, the output folder and the memory the points need are checked before any point runs.
    """
    from sim.core.exit_codes import EXIT_FAILURE, EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.engine.runner import default_workers
    from sim.experiments.sweep.design import load_sweep, quick_sweep, with_posterior
    from sim.experiments.sweep.execute import SweepAborted, check_resources
    from sim.outputs.ownership import check_output_folder

    check_options(args)
    if args.resume and args.restart:
        raise InputError("--resume, --restart: choose one")
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
    out = args.out if args.out is not None else Path("results") / sweep.name
    inputs = [args.file, sweep.scenario_file, *([choice.posterior.source] if choice is not None else [])]
    check_output_folder(out, "sweep", inputs=inputs)
    check_resources(sweep, workers, args.scheduler)
    try:
        with interrupt_on_signals():
            result = sweep_into(sweep, out, workers=workers, scheduler=args.scheduler, resume=args.resume,
                                restart=args.restart, plots=not args.no_plots, command_line=["ceasefire", *argv],
                                quiet=args.quiet)
    except SweepAborted as exc:  # an interrupt (SweepInterrupted, saying what is saved) goes on to main()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        print(closing_summary(result, out))
    return EXIT_OK


def sweep_into(sweep: Sweep, out: Path, *, workers: int = 1, scheduler: str | None = None, resume: bool = False,
               restart: bool = False, plots: bool = True, command_line: Sequence[str] | None = None,
               quiet: bool = True, progress: Callable[[int], None] | None = None) -> SweepResult:
    """Run ``sweep`` into the folder ``out`` (checked by the caller), all or nothing; finished points are kept
    in ``<out>.partial`` (:mod:`sim.outputs.partial`) until the folder is written, then that is deleted.

    Args:
        resume: continue from the points saved in ``<out>.partial`` (same sweep only).
        restart: discard them first.
        plots: draw the figures too.
        command_line: recorded in the manifest.
        quiet: no progress bar; ``progress`` replaces it (called with 1 per point).

    Raises:
        InputError: ``<out>`` or ``<out>.partial`` is in use, holds what a sweep did not write, or does not
            match (before any point runs); a saved record is damaged (names its line).
        SweepInterrupted: Ctrl-C or SIGTERM; says what is saved and how to resume.
        SweepAborted: a worker died or a point failed; likewise.
    """
    from sim.experiments.sweep import execute
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.partial import RecordStore, partial_dir

    store: RecordStore | None = None
    with claim(out):
        try:
            with RecordStore.open(partial_dir(out), sweep, resume, restart) as store, \
                    progress_bar(sweep.n_points, "point", enabled=not quiet, done=len(store.done)) as bar:
                result = execute.run_sweep(sweep, store, workers=workers, scheduler=scheduler,
                                           progress=progress or bar)
                save(result.artefacts(), out, command_line, plots=plots)
        except BaseException as exc:
            saved = _forget_if_empty(store)
            if isinstance(exc, execute.SweepAborted):
                raise execute.SweepAborted(f"{exc}; {saved}") from exc
            if isinstance(exc, KeyboardInterrupt):
                raise execute.SweepInterrupted(saved) from None
            raise
        try:
            store.discard()
        except InputError as exc:
            raise InputError(f"{exc}; the sweep's results are complete in {out}") from None
    return result


def _forget_if_empty(store: Any) -> str:
    """Delete a partial folder this session created if no point finished (nothing to resume); say what is kept."""
    if store is None:
        return "no point had finished, so nothing is saved"
    if store.created and not store.done:
        with contextlib.suppress(InputError):  # something foreign in it: keep it
            store.discard()
    return store.saved()


def closing_summary(result: SweepResult, out: Path) -> str:
    """A few lines after a sweep: size, speed, the range of P(holding) and where results are."""
    from sim.outputs.plots.sweep import hold_metric

    sweep, table = result.sweep, result.table
    column, label = hold_metric(table)
    worlds = result.points_run * sweep.base.replications
    rate = worlds / result.wall_seconds if result.wall_seconds > 0 else float("nan")
    resumed = f", {result.points_resumed} resumed" if result.points_resumed else ""
    return "\n".join([
        f"{sweep.name}: {sweep.design} design, {sweep.n_points} points x {sweep.base.replications} worlds, "
        f"{sweep.base.horizon_days} days",
        f"  ran {result.points_run} points in {result.wall_seconds:.1f} s on {result.executor} "
        f"({rate:,.0f} worlds/s){resumed}",
        f"  {label}: {table[column].min():.3f} to {table[column].max():.3f} across points",
        *([f"  intervals: parameters+monte_carlo ({posterior.draws} draws from {posterior.posterior.source})"]
          if (posterior := sweep.posterior) is not None else []),
        f"results in {out}/",
    ])


def is_sweep_dir(directory: Path) -> bool:
    """Whether a folder holds sweep results (``sweep.csv``, ``sobol.csv`` or a sweep's manifest)."""
    import json

    directory = Path(directory)
    if (directory / "sweep.csv").exists() or (directory / "sobol.csv").exists():
        return True
    try:
        return json.loads((directory / "manifest.json").read_text(encoding="utf-8")).get("command") == "sweep"
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def plot_any_dir(directory: str | Path) -> list[Path]:
    """Redraw the figures of a run folder or a sweep folder from its CSV tables (``ceasefire plot`` until it
    redraws every folder through :func:`sim.outputs.artefacts.redraw`).

    Raises:
        sim.outputs.plots.runs.PlotInputError: a table is missing or damaged; the message says which.
    """
    directory = Path(directory)
    if is_sweep_dir(directory):
        from sim.outputs.plots.sweep import plot_sweep_dir

        return plot_sweep_dir(directory)
    from sim.outputs.plots.runs import plot_run_dir

    return plot_run_dir(directory)
