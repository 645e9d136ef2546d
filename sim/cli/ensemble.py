"""The ``ceasefire ensemble`` command: a scenario's headline numbers across every structural combination
and parameter draw, with the variance split into structure, parameters and Monte Carlo noise.

``sim.cli.main`` registers it with ``add_ensemble_commands(commands)``. The model, pandas and matplotlib are
imported only when the command runs: :func:`sim.experiments.ensemble.run_ensemble` computes,
:func:`sim.outputs.artefacts.save` writes the folder and draws its figure (``sim.outputs.plots.ensemble``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import COMMITTED_POSTERIOR, add_command, add_options, cap_workers, check_options, progress_bar

EXAMPLES = """\
examples:
  ceasefire ensemble scenarios/baseline.yaml
  ceasefire ensemble baseline --combinations sample:12 --draws 4 --replications 200 --out results/ens_quick
  ceasefire ensemble baseline --posterior results/calibrate/posterior.csv
  ceasefire ensemble baseline --posterior          # the committed seeds/posterior/posterior.csv

Runs the scenario under a seeded uniform sample of 96 combinations of the twelve contested mechanisms'
forms (--combinations all: every one of the 20,736; sample:N: N of them) crossed with K parameter draws
(the same K for every combination) from the priors of seeds/commitments.yaml, or from a posterior file
with --posterior [FILE] (without FILE: the committed posterior). Draw d runs with seed S + d in every
combination (common random numbers). Default: 96 x 16 runs of 500 worlds over the scenario's horizon, a
few minutes on one core. Writes ensemble.csv (one row per combination plus the pooled row), variance.csv
(shares of structure, parameters and Monte Carlo noise), form_effects.csv (each form's main effect on each
headline against its mechanism's default form, fitted to the combinations' means, with 95 % intervals), runs.csv,
draws.csv, ensemble.png and manifest.json; see docs/ENSEMBLE.md.
"""

HELP = "headline numbers across structural forms and parameter draws, with variance shares"
DESCRIPTION = ("Run a scenario under every combination of structural forms crossed with parameter draws; report the "
               "headline numbers per combination and pooled, and how much of their variance comes from structure, "
               "from parameters and from Monte Carlo noise.")


def posterior_file(choice: str | None) -> Path | None:
    """The posterior CSV ``--posterior [FILE]`` names: FILE, the committed posterior without FILE, None without
    the option (the priors)."""
    from sim.stats.posterior import DEFAULT_POSTERIOR

    if choice is None:
        return None
    return DEFAULT_POSTERIOR if choice == COMMITTED_POSTERIOR else Path(choice)


def add_ensemble_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``ensemble`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    ensemble = add_command(subparsers, "ensemble", cmd_ensemble, HELP, DESCRIPTION, EXAMPLES)
    ensemble.add_argument("scenario", type=Path, help="scenario YAML file, or a bundled scenario's name")
    ensemble.add_argument("--combinations", default="sample:96", metavar="all|sample:N",
                          help="N combinations of forms at random (default: sample:96) or every one (all: 20,736)")
    add_options(ensemble, draws={"default": 16, "metavar": "K",
                                 "help": "parameter draws, >= 2, or 0 for the scenario's own values (default: 16)"},
                replications={"default": 500, "help": "worlds per run (default: 500)"},
                horizon={"help": "days after the deal (default: the file's)"},
                seed={"help": "base seed; draw d uses S + d (default: the file's)"},
                posterior={"help": "draw parameters from a posterior CSV (without FILE: the committed "
                                   "seeds/posterior/posterior.csv; default: the priors)"},
                workers={"default": 1}, scheduler=True,
                out={"help": "output folder (default: results/ensemble_<name>/)"}, quiet=True)
    return ensemble


def cmd_ensemble(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire ensemble``: exit 0 done, 2 bad input (before any simulation), 1 the workers stopped,
    130 interrupted."""
    from sim.cli.cluster import cluster_executor
    from sim.core.bundled import resolve_scenario
    from sim.core.exit_codes import EXIT_FAILURE, EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.engine.runner import WorkersStoppedError
    from sim.experiments.ensemble import make_design, run_ensemble
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder

    check_options(args, draws=0)  # --draws 0: the structure alone
    scenario_file = resolve_scenario(args.scenario)
    posterior = posterior_file(args.posterior)
    design = make_design(scenario_file, args.combinations, args.draws, args.replications, args.horizon,
                         args.seed, posterior)
    out_dir = args.out if args.out is not None else Path("results") / f"ensemble_{design.base.name}"
    check_output_folder(out_dir, "ensemble", inputs=[scenario_file, *([posterior] if posterior else [])])
    workers = cap_workers(args.workers, len(design.cells), "runs")
    with claim(out_dir), interrupt_on_signals(), cluster_executor(args.scheduler, workers) as (executor, slots), \
            progress_bar(len(design.cells), "runs", enabled=not args.quiet) as progress:
        try:
            result = run_ensemble(design, workers=slots, progress=progress, executor=executor)
        except WorkersStoppedError:
            print(f"error: --workers {workers}: the worker processes stopped before finishing (out of memory or "
                  "killed); nothing was written; try --workers 1", file=sys.stderr)
            return EXIT_FAILURE
        save(result.artefacts(), out_dir, command_line=["ceasefire", *argv])
    if not args.quiet:
        print(summary_lines(result, out_dir))
    return EXIT_OK


def summary_lines(result: Any, out_dir: Path) -> str:
    """Per headline: the default combination, the range across structures, the pooled interval, the shares."""
    from sim.experiments.ensemble import OUTPUTS

    design, table, variance = result.design, result.table, result.variance
    pooled = table[table["row"] == "pooled"].iloc[0]
    default = table[table["is_default"]]
    lines = [f"ensemble of {design.base.name}: {len(design.combinations)} combinations ({design.combination_rule}) "
             f"x {len(design.seeds)} draws ({design.draws.source}), {design.replications} worlds, "
             f"{design.horizon_days} days, {result.wall_seconds:.0f} s"]
    width = max(len(label) for label in OUTPUTS.values())
    for output, label in OUTPUTS.items():
        shares = variance[variance["output"] == output].iloc[0]
        if pooled[f"{output}_mean"] != pooled[f"{output}_mean"]:
            lines.append(f"  {label:<{width}}  n/a (beyond the horizon)")
            continue
        at_default = f"default {default.iloc[0][f'{output}_mean']:.2f}; " if len(default) else ""
        lines.append(
            f"  {label:<{width}}  {at_default}structures {pooled[f'{output}_min_structure']:.2f}-"
            f"{pooled[f'{output}_max_structure']:.2f}; pooled {pooled[f'{output}_mean']:.2f} "
            f"[{pooled[f'{output}_low']:.2f}, {pooled[f'{output}_high']:.2f}]; variance: structure "
            f"{shares['share_structure']:.0%}, parameters {shares['share_parameters']:.0%}, "
            f"Monte Carlo {shares['share_monte_carlo']:.0%}")
    lines.append(f"results in {out_dir}/")
    return "\n".join(lines)

