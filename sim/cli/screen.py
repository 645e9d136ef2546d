"""The ``ceasefire screen`` command: Morris screening over every assumption, Sobol on the top 8 and the structure.

``sim.cli.main`` registers it with ``add_screen_commands(commands)``. The model, SALib, pandas and
matplotlib are imported only when the command runs: :mod:`sim.experiments.screening` computes,
:func:`sim.outputs.artefacts.save` writes the folder and :mod:`sim.outputs.plots.screen` draws its figures.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command, add_options, check_options, progress_bar
from sim.core.errors import InputError

HELP = "global sensitivity: Morris over every assumption, Sobol on the top 8 and the structure"
DESCRIPTION = ("Which assumptions move P(the ceasefire holds at 365 days)? Morris screening over every assumed "
               "parameter by its prior, then Sobol indices on the 8 that matter most and on the structural switches.")
EXAMPLES = """\
examples:
  ceasefire screen --workers 2
  ceasefire screen --trajectories 10 --sobol-samples 64 --out results/screen_quick
  ceasefire screen --trajectories 4 --replications 200 --sobol-samples 0 --out results/screen_tiny
  ceasefire screen --inert --replications 4000 --horizon 730 --workers 2

Step 1, Morris: every inspired and assumption parameter of seeds/commitments.yaml (121) moves over its
prior (uniform, loguniform in log space, integer_uniform, bernoulli), R trajectories of k + 1 points.
Step 2, Sobol: the 8 parameters with the largest mu* on P(hold 365) and the twelve structural switches
(a form of each mechanism, equal weights), Saltelli's design of N x (20 + 2) points.
--inert: each assumed parameter alone at the low and the high end of its prior (2 x 121 + 1 points), and the
list of those that move no headline by 0.01, each with its documented reason.
Every point runs the same seed (common random numbers); the baseline point is also run with 5 seeds
to measure Monte Carlo noise. Outputs: P(hold 365), P(deal), P(hold 365 | deal).
Writes morris.csv, morris_points.csv, morris.png, sobol.csv, sobol_points.csv, variance_shares.csv,
sobol_top.png, sobol_structure.png and manifest.json; see docs/SENSITIVITY.md.
"""


def add_screen_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``screen`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    screen = add_command(subparsers, "screen", cmd_screen, HELP, DESCRIPTION, EXAMPLES)
    screen.add_argument("--scenario", type=Path, metavar="FILE",
                        help="scenario the priors vary around (default: scenarios/baseline.yaml)")
    screen.add_argument("--trajectories", type=int, default=20, metavar="R",
                        help="Morris trajectories (default: 20; points: R x (121 + 1))")
    add_options(screen, replications={"default": 500, "help": "worlds per point (default: 500)"},
                horizon={"default": 365, "help": "days simulated (default: 365; P(holding) is read at min(365, DAYS))"},
                seed={"default": 20261125, "help": "random seed, the same for every point (default: 20261125)"})
    screen.add_argument("--sobol-samples", type=int, default=128, metavar="N",
                        help="Saltelli base samples, a power of 2, or 0 to skip the Sobol step (default: 128)")
    screen.add_argument("--inert", action="store_true",
                        help="instead: move each assumed parameter alone to both ends of its prior and list those "
                             "that move no headline (P(deal), P(hold 365), P(hold 730)) by 0.01; writes inert.csv "
                             "(default folder results/inert/)")
    add_options(screen, workers={"default": 1}, scheduler=True,
                out={"default": Path("results/screen"), "help": "output folder (default: results/screen/)"},
                quiet=True)
    return screen


def cmd_screen(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire screen``: exit 0 done, 2 bad input (before any simulation)."""
    from sim.cli.cluster import cluster_executor
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.experiments.screening import BASELINE_FILE, check_sizes, planned_runs, run_screening
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder
    from sim.spec.sources import priors

    check_options(args)
    if args.inert:
        return _cmd_inert(args, argv)
    check_sizes(args.trajectories, args.replications, args.horizon, args.seed, args.sobol_samples)
    scenario = args.scenario or BASELINE_FILE
    if not Path(scenario).is_file():
        raise InputError(f"{scenario}: --scenario: no such file; give a scenario YAML such as scenarios/baseline.yaml")
    out = check_output_folder(args.out, "screen", inputs=[scenario])
    total = planned_runs(len(priors()), args.trajectories, args.sobol_samples)
    with claim(out), interrupt_on_signals(), cluster_executor(args.scheduler, args.workers) as (executor, slots), \
            progress_bar(total, "points", enabled=not args.quiet) as progress:
        result = run_screening(Path(scenario), args.trajectories, args.replications, args.horizon, args.seed,
                               args.sobol_samples, slots, progress=progress, executor=executor)
        save(result.artefacts(), out, command_line=["ceasefire", *argv])
    if not args.quiet:
        print(summary_lines(result, out))
    return EXIT_OK


def summary_lines(result: Any, out_dir: Path) -> str:
    """What a reader sees after the screening: the top parameters and, if run, structure's share."""
    from sim.experiments.screening import short_name

    settings = result.settings
    morris = result.morris[result.morris["output"] == "p_hold_365"].head(8)
    lines = [f"screening: {settings['factors']} parameters, {settings['trajectories']} trajectories, "
             f"{settings['replications']} worlds per point, seed {settings['seed']}, "
             f"{sum(result.timings.values()):.0f} s; noise SD of P(hold 365) {result.noise_sd[0]:.3f}",
             "  top by mu* on P(hold 365): " + ", ".join(
                 f"{short_name(p)} {m:.2f}" for p, m in zip(morris["parameter"], morris["mu_star"], strict=True))]
    if result.shares is not None:
        for _, row in result.shares.iterrows():
            lines.append(f"  {row['output']}: main effects structure {row['structure_S1']:.2f}, parameters "
                         f"{row['parameters_S1']:.2f}; interactions {row['interactions']:.2f}; "
                         f"noise {row['noise_share']:.3f}")
    lines.append(f"results in {out_dir}/")
    return "\n".join(lines)


def _cmd_inert(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire screen --inert``: exit 0 done (the list printed), 2 bad input."""
    from sim.cli.cluster import cluster_executor
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.experiments.inert import run_inert, summary_lines
    from sim.experiments.screening import BASELINE_FILE, check_sizes
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder
    from sim.spec.sources import priors

    check_sizes(2, args.replications, args.horizon, args.seed, 0)
    scenario = args.scenario or BASELINE_FILE
    if not Path(scenario).is_file():
        raise InputError(f"{scenario}: --scenario: no such file; give a scenario YAML such as scenarios/baseline.yaml")
    given_out = any(arg == "--out" or arg.startswith("--out=") for arg in argv)
    out = check_output_folder(args.out if given_out else Path("results/inert"), "screen", inputs=[scenario])
    total = 1 + 2 * len(priors())
    with claim(out), interrupt_on_signals(), cluster_executor(args.scheduler, args.workers) as (executor, slots), \
            progress_bar(total, "points", enabled=not args.quiet) as progress:
        result = run_inert(Path(scenario), args.replications, args.horizon, args.seed, slots,
                           progress=progress, executor=executor)
        save(result.artefacts(), out, command_line=["ceasefire", *argv])
    if not args.quiet:
        print(summary_lines(result))
        print(f"written: {out}/inert.csv")
    return EXIT_OK
