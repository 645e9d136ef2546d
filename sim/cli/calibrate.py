"""The ``ceasefire calibrate`` command: ABC-SMC of the assumptions against the calibration anchors.

``sim.cli.main`` registers it with ``add_calibrate_commands(commands)``. pyabc, the model and matplotlib
are imported only when the command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.cli.common import add_command, add_options, cap_workers, check_options
from sim.cli.structures import structure_overrides
from sim.core.errors import InputError

DEFAULT_OUT = Path("results/calibrate")
"""Where ``ceasefire calibrate`` writes by default. The committed posterior (seeds/posterior/, read by
``--posterior`` without FILE) is project data that no command writes: a maintainer copies a reviewed
calibration there and commits it."""

HELP = "fit the assumptions to the calibration anchors by ABC-SMC (needs pyabc)"
DESCRIPTION = ("Approximate Bayesian computation (pyabc ABC-SMC) of the fitted assumptions against the calibration "
               "anchors of the no_european_troops scenario; writes a weighted posterior.")
EXAMPLES = """\
examples:
  ceasefire calibrate --quick --out results/posterior-quick
  ceasefire calibrate                      # the full calibration, into results/calibrate/
  ceasefire calibrate --workers 2          # faster; the same posterior as with one worker

--quick: 100 particles, 4 generations, 3,000 worlds per evaluation (4-8 minutes on one core).
Full: 300 particles, 8 generations, 6,000 worlds per evaluation (about 20-35 minutes on one core;
see docs/CALIBRATION.md).
Writes posterior.csv (one weighted particle per row), posterior_summary.csv, populations.csv,
posterior.png and manifest.json. Only the calibration anchors are used; held-out ones never are.
The committed posterior (seeds/posterior/, what --posterior reads without FILE) is never written by a
command: to adopt a new one, copy the folder's files there and commit them.
"""


def add_calibrate_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``calibrate`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    calibrate = add_command(subparsers, "calibrate", cmd_calibrate, HELP, DESCRIPTION, EXAMPLES)
    calibrate.add_argument("--quick", action="store_true", help="small run (under 10 minutes)")
    add_options(calibrate, out={"default": DEFAULT_OUT, "help": f"output folder (default: {DEFAULT_OUT}/)"},
                seed={"help": "random seed (default: 20261126)"})
    calibrate.add_argument("--particles", type=int, metavar="N", help="particles per generation")
    calibrate.add_argument("--generations", type=int, metavar="G", help="ABC-SMC generations")
    calibrate.add_argument("--worlds", type=int, metavar="W", help="worlds per model evaluation")
    add_options(calibrate, workers={"default": 1, "help": "local processes (default: 1); the posterior does not "
                                                          "depend on it"},
                scheduler=True, quiet={"help": "no closing summary"}, structure=True)
    return calibrate


def settings_from_args(args: argparse.Namespace) -> Any:
    """The run's Settings: --quick or full, then any explicit size, seed or workers."""
    from sim.experiments.calibrate.fit import FULL, QUICK

    settings = QUICK if args.quick else FULL
    changes = {name: getattr(args, name) for name in ("seed", "particles", "generations", "worlds")
               if getattr(args, name) is not None}
    for name in ("particles", "generations", "worlds"):
        if name in changes and changes[name] < 1:
            raise InputError(f"--{name}: must be >= 1 (got {changes[name]})")
    if "seed" in changes and not 0 <= changes["seed"] < 2**63:
        raise InputError(f"--seed: must be between 0 and 2^63 - 1 (got {changes['seed']})")
    structure = tuple((key.split(".", 1)[1], form) for key, form in structure_overrides(args.structure).items())
    return replace(settings, workers=args.workers, structure=structure, **changes)


def cmd_calibrate(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire calibrate``: the options, the folder and pyabc are checked before any simulation.

    SIGINT, SIGTERM and SIGHUP stop it from its first line (importing pyabc alone takes a second or more),
    whichever of its threads they reach (:func:`sim.core.signals.interrupt_on_signals`).
    """
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals

    with interrupt_on_signals():
        calibration = calibrate(args, argv)
    if not args.quiet:
        print(summary_lines(calibration.summary(), calibration.wall_seconds, args.out))
    return EXIT_OK


def calibrate(args: argparse.Namespace, argv: Sequence[str]) -> Any:
    """Check the options, the output folder and pyabc, then calibrate and save; returns the Calibration."""
    from sim.cli.cluster import cluster_executor
    from sim.experiments.calibrate.fit import COMMAND, SCENARIO_FILE, import_pyabc, run_calibration
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder

    check_options(args)
    settings = settings_from_args(args)
    settings = replace(settings, workers=cap_workers(args.workers, settings.particles, "particles"))
    check_output_folder(args.out, COMMAND, inputs=[SCENARIO_FILE])
    import_pyabc()
    with claim(args.out), cluster_executor(args.scheduler, settings.workers) as (executor, slots):
        calibration = run_calibration(replace(settings, workers=slots), executor=executor)
        save(calibration.artefacts(), args.out, command_line=["ceasefire", *argv])
    return calibration


def summary_lines(summary: Any, wall_seconds: float, out_dir: Path) -> str:
    """Posterior median and 90 % interval of each fitted parameter beside its default."""
    width = max(len(name) for name in summary["parameter"])
    lines = [f"posterior in {wall_seconds / 60:.1f} min: median [90 % interval] (default)"]
    for row in summary.itertuples():
        lines.append(f"  {row.parameter:<{width}}  {row.posterior_median:.4g} [{row.posterior_q05:.4g}, "
                     f"{row.posterior_q95:.4g}]  ({row.default:g})")
    lines.append(f"results in {out_dir}/")
    return "\n".join(lines)
