"""The ``ceasefire`` command: argument parsing, messages and exit codes over the library API.

Exit codes (:mod:`sim.core.exit_codes`): 0 success, 2 bad input (one line ``error: FILE: FIELD: what to fix``),
1 an environment failure (one line, e.g. a full disk) or unexpected failure, 130 interrupted (Ctrl-C,
SIGTERM, SIGHUP). Output folders are replaced only when empty or written by ``ceasefire``
(:func:`sim.outputs.artefacts.check_output_folder`), and this is checked before any simulation.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.cli.app import add_app_commands
from sim.cli.bet import add_bet_commands
from sim.cli.calibrate import add_calibrate_commands, add_posterior_option
from sim.cli.common import cap_workers, plot_errors, progress_bar
from sim.cli.ensemble import add_ensemble_commands
from sim.cli.report import add_report_commands
from sim.cli.screen import add_screen_commands
from sim.cli.structures import add_structure_commands, add_structure_option, structure_overrides
from sim.cli.sweep import add_sweep_commands, plot_any_dir
from sim.cli.tornado import add_tornado_commands
from sim.cli.validation import add_validation_commands
from sim.core.bundled import SCENARIOS_DIR, resolve_scenario, resolve_sweep, scenario_names, sweep_names
from sim.core.errors import InputError
from sim.core.exit_codes import EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK  # also importable from here
from sim.core.signals import interrupt_on_signals
from sim.engine.compiled import check_switch

SCENARIO_DIR = SCENARIOS_DIR
"""The bundled scenarios (package data; see :mod:`sim.core.bundled`)."""
WRITE_ERRNOS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EROFS", "EFBIG", "EACCES", "EPERM",
                                                           "EIO") if hasattr(errno, name))
"""Errors that mean results could not be written: reported as ``cannot write (...)``."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its usage message
        return EXIT_OK if exc.code in (0, None) else EXIT_BAD_INPUT
    try:
        check_switch()
        resolve_bundled_names(args)
        return args.handler(args, argv)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `ceasefire scenarios | head`: the reader has gone, nothing to report
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_OK
    except MemoryError:
        print("error: out of memory; lower --replications or --horizon", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"error: {environment_message(exc, getattr(args, 'out', None))}", file=sys.stderr)
        return EXIT_FAILURE


def resolve_bundled_names(args: argparse.Namespace) -> None:
    """Replace a bundled name given as the SCENARIO of ``run`` and ``tornado``, or the FILE of ``sweep``
    (a sweep; a scenario with ``--param``), by its file, so that messages and manifests name the file.
    ``validate`` takes names too, through :func:`sim.spec.scenario.load_scenario`."""
    if args.command in ("run", "tornado"):
        args.scenario = resolve_scenario(args.scenario)
    elif args.command == "sweep":
        args.file = resolve_scenario(args.file) if args.param else resolve_sweep(args.file)


def environment_message(exc: OSError, out: Path | None) -> str:
    """One line for a failure of the machine rather than of the input: a full disk, a read-only folder."""
    path = exc.filename if exc.filename is not None else (out if out is not None else "output")
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in WRITE_ERRNOS:
        return f"{path}: cannot write ({reason}); the previous results, if any, are unchanged"
    return f"{path}: {reason}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="ceasefire",
        description="Would a ceasefire in Ukraine, guaranteed by European troops and monitored by the US, hold?",
        epilog="Exit codes: 0 success, 1 environment (disk full, unwritable) or unexpected failure, 2 bad input, "
               "130 interrupted. An existing output folder is replaced only if it is empty or was written by "
               "ceasefire.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write CSV tables and plots",
                              description="Run a scenario file; write runs.csv, survival.csv, summary.csv, "
                                          "trajectories.csv, manifest.json and three plots.")
    run.add_argument("scenario", type=Path,
                     help="scenario YAML file, or a bundled scenario's name (see `ceasefire scenarios`)")
    run.add_argument("--replications", type=int, metavar="N", help="independent worlds (default: the file's)")
    run.add_argument("--seed", type=int, metavar="S", help="random seed (default: the file's)")
    run.add_argument("--horizon", type=int, metavar="DAYS", help="days simulated after the deal (default: the file's)")
    run.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: results/<scenario name>/)")
    run.add_argument("--workers", type=int, default=1, metavar="K", help="local processes (default: 1)")
    run.add_argument("--no-plots", action="store_true", help="write the tables only")
    run.add_argument("--quiet", action="store_true", help="no progress bar or closing summary")
    add_structure_option(run)
    add_posterior_option(run)
    run.set_defaults(handler=cmd_run)

    compare = commands.add_parser("compare", help="overlay the survival curves of several runs",
                                  description="Overlay survival curves, with 95% bands, of run folders.")
    compare.add_argument("dirs", type=Path, nargs="+", metavar="DIR", help="run folders written by `ceasefire run`")
    compare.add_argument("--out", type=Path, default=Path("results/compare.png"), metavar="FILE",
                         help="PNG file to write (default: results/compare.png)")
    compare.add_argument("--given-deal", action="store_true", help="plot P(holding | a deal was reached)")
    compare.set_defaults(handler=cmd_compare)

    plot = commands.add_parser("plot", help="redraw the plots of a run, sweep or tornado folder from its CSV files")
    plot.add_argument("dir", type=Path, metavar="DIR")
    plot.set_defaults(handler=cmd_plot)

    validate = commands.add_parser("validate", help="check scenario files; exit 0 if all are valid, else 2")
    validate.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                          help="scenario YAML files or bundled names")
    validate.set_defaults(handler=cmd_validate)

    add_validation_commands(commands)

    listing = commands.add_parser("scenarios", help="list the bundled scenarios and the question each answers")
    listing.set_defaults(handler=cmd_scenarios)

    add_structure_commands(commands)
    add_tornado_commands(commands)
    add_report_commands(commands)
    add_sweep_commands(commands)
    add_bet_commands(commands)
    add_ensemble_commands(commands)
    add_app_commands(commands)
    add_calibrate_commands(commands)
    add_screen_commands(commands)
    return parser


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire run``: the output folder is checked and the workers capped before any simulation."""
    from sim.api import default_out_dir, save_run
    from sim.engine.runner import BLOCK_WORLDS, run_scenario
    from sim.outputs.artefacts import check_output_folder
    from sim.spec.scenario import load_scenario
    from sim.stats.posterior import posterior_from_args, run_with_posterior, save_posterior_run

    overrides = {key: value for key, value in (
        ("replications", args.replications), ("seed", args.seed), ("horizon_days", args.horizon)
    ) if value is not None}
    overrides.update(structure_overrides(args.structure))
    scenario = load_scenario(args.scenario, overrides)
    posterior = posterior_from_args(args, scenario)  # refused in one line before any simulation
    units = args.draws if posterior is not None else math.ceil(scenario.replications / BLOCK_WORLDS)
    workers = cap_workers(args.workers, units, "draws" if posterior is not None else "blocks")
    out_dir = args.out if args.out is not None else default_out_dir(scenario.name)
    check_output_folder(out_dir, inputs=[args.scenario, *([args.posterior] if posterior is not None else [])])
    command_line = ["ceasefire", *argv]
    with interrupt_on_signals():
        with progress_bar(scenario.replications, "worlds", enabled=not args.quiet) as advance:
            if posterior is not None:
                drawn = run_with_posterior(scenario, posterior, args.draws, workers=workers, progress=advance)
                result = drawn.result
            else:
                result = run_scenario(scenario, workers=workers, progress=advance)
        if posterior is not None:
            save_posterior_run(drawn, out_dir, command_line=command_line, source=args.scenario)
        else:
            save_run(result, out_dir, command_line=command_line, plots=not args.no_plots, source=args.scenario)
    if not args.quiet:
        print(headline(result.summary.iloc[0].to_dict(), out_dir))
    return EXIT_OK


def cmd_compare(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire compare``."""
    from sim.outputs.artefacts import atomic_file, check_output_file
    from sim.outputs.plots.runs import PlotInputError, compare_dirs

    check_output_file(args.out, ".png")
    with plot_errors(PlotInputError), atomic_file(args.out) as tmp:
        compare_dirs(args.dirs, tmp, given_deal=args.given_deal)
    print(f"wrote {args.out}")
    return EXIT_OK


def cmd_plot(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire plot``: the folder's kind is told by its tables."""
    from sim.experiments.tornado import plot_tornado_dir
    from sim.outputs.plots.runs import PlotInputError

    if not args.dir.is_dir():
        raise InputError(f"{args.dir}: not a folder")
    with plot_errors(PlotInputError):
        paths = [plot_tornado_dir(args.dir)] if (args.dir / "tornado.csv").exists() else plot_any_dir(args.dir)
    print("wrote " + ", ".join(str(p) for p in paths))
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire validate``: every file is checked; one line per file."""
    from sim.spec.scenario import load_scenario

    status = EXIT_OK
    for path in args.scenarios:
        try:
            scenario = load_scenario(path)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = EXIT_BAD_INPUT
        else:
            print(f"ok: {path} ({scenario.name})")
    return status


def cmd_scenarios(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire scenarios``: the bundled scenarios (run one by name) with their descriptions, then the
    bundled sweeps; an installation without them is an environment failure, not an empty list."""
    from sim.spec.scenario import load_scenario

    names = scenario_names()
    if not names:
        print(f"error: {SCENARIO_DIR}: no bundled scenarios found; the installation is incomplete "
              "(reinstall ceasefire)", file=sys.stderr)
        return EXIT_FAILURE
    for name in names:
        description = " ".join(load_scenario(SCENARIO_DIR / f"{name}.yaml").description.split())
        print(f"{name}\n    {description}\n")
    print("Run one with `ceasefire run NAME`, or copy its file from " + str(SCENARIO_DIR) + " to change it.")
    sweeps = sweep_names()
    if sweeps:
        print(f"Bundled sweeps (`ceasefire sweep NAME`): {', '.join(sweeps)}")
    return EXIT_OK


def headline(summary: dict[str, object], out_dir: Path) -> str:
    """A few lines a reader sees after a run: the headline probabilities with their intervals."""

    def fmt(key: str) -> str:
        value = summary[key]
        if value != value:  # NaN: beyond the horizon
            return "n/a (beyond horizon)"
        return f"{value:.3f} [{summary[key + '_ci_low']:.3f}, {summary[key + '_ci_high']:.3f}]"

    return "\n".join([
        f"{summary['scenario']}: {summary['replications']} worlds, {summary['horizon_days']} days, "
        f"seed {summary['seed']}",
        f"  P(deal)                  {fmt('p_agreed')}",
        f"  P(holding at 90 days)    {fmt('p_hold_90')}",
        f"  P(holding at 365 days)   {fmt('p_hold_365')}",
        f"  ... given a deal         {fmt('p_hold_365_given_deal')}",
        f"  P(holding at horizon)    {fmt('p_hold_horizon')}",
        *([f"intervals: {summary['interval']} (parameters drawn from the posterior)"]
          if isinstance(summary.get("interval"), str) else ["intervals: Monte Carlo only (95 %, Wilson)"]),
        f"results in {out_dir}/",
    ])
