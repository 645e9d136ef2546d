"""``ceasefire run``: run one scenario (optionally with its fitted parameters drawn from a posterior) and write
its run folder."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command, add_options
from sim.core.exit_codes import EXIT_OK

RUN_DRAWS = 50
"""Posterior draws of ``run --posterior`` unless ``--draws`` says otherwise."""


def add_run_command(commands: Any) -> None:
    """Register ``run SCENARIO`` with its options."""
    run = add_command(commands, "run", cmd_run, help="run a scenario and write CSV tables and plots",
                      description="Run a scenario file; write runs.csv, survival.csv, summary.csv, trajectories.csv, "
                                  "intent.csv, manifest.json and three plots (and draws.csv with --posterior).")
    run.add_argument("scenario", type=Path,
                     help="scenario YAML file, or a bundled scenario's name (see `ceasefire scenarios`)")
    add_options(run, replications=True, seed=True, horizon=True,
                out={"help": "output folder (default: results/<scenario name>/)"}, workers={"default": 1},
                no_plots=True, quiet=True, structure=True, posterior=True,
                draws={"default": RUN_DRAWS, "metavar": "N",
                       "help": f"posterior draws with --posterior, each run by every N-th world (default: "
                               f"{RUN_DRAWS})"})


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire run``: every input and the output folder are checked, and the workers capped, before any
    simulation."""
    from sim.api import default_out_dir
    from sim.cli.common import cap_workers, check_options, posterior_choice, progress_bar
    from sim.cli.structures import structure_overrides
    from sim.core.signals import interrupt_on_signals
    from sim.engine.blocks import plan_blocks
    from sim.experiments import posterior_run, run
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder
    from sim.spec.scenario import load_scenario

    check_options(args)
    overrides = {key: value for key, value in (
        ("replications", args.replications), ("seed", args.seed), ("horizon_days", args.horizon)
    ) if value is not None}
    scenario = load_scenario(args.scenario, {**overrides, **structure_overrides(args.structure)})
    choice = posterior_choice(args, scenario, unit="run", default_draws=RUN_DRAWS)
    out = args.out if args.out is not None else default_out_dir(scenario.name)
    check_output_folder(out, "run", inputs=[args.scenario, *([choice.posterior.source] if choice else [])])
    workers = cap_workers(args.workers, len(plan_blocks(scenario.replications)), "blocks")
    with claim(out), interrupt_on_signals():
        with progress_bar(scenario.replications, "worlds", enabled=not args.quiet) as progress:
            if choice is None:
                outcome: Any = run.run_scenario(scenario, workers=workers, progress=progress)
            else:
                outcome = posterior_run.run_with_posterior(scenario, choice.posterior, choice.draws, workers=workers,
                                                           progress=progress)
        save(outcome.artefacts(source=args.scenario), out, command_line=["ceasefire", *argv],
             plots=not args.no_plots)
    if not args.quiet:
        result = outcome if choice is None else outcome.result
        print(headline(result.summary.iloc[0].to_dict(), out))
    return EXIT_OK


def headline(summary: dict[str, object], out_dir: Path) -> str:
    """A few lines a reader sees after a run: the headline probabilities with their intervals."""
    from sim.stats.metrics import HORIZON, P_DEAL, p_hold

    def fmt(key: str) -> str:
        value = summary[key]
        if value != value:  # NaN: beyond the horizon
            return "n/a (beyond horizon)"
        return f"{value:.3f} [{summary[key + '_ci_low']:.3f}, {summary[key + '_ci_high']:.3f}]"

    return "\n".join([
        f"{summary['scenario']}: {summary['replications']} worlds, {summary['horizon_days']} days, "
        f"seed {summary['seed']}",
        f"  P(deal)                  {fmt(P_DEAL)}",
        f"  P(holding at 90 days)    {fmt(p_hold(90))}",
        f"  P(holding at 365 days)   {fmt(p_hold(365))}",
        f"  ... given a deal         {fmt(p_hold(365) + '_given_deal')}",
        f"  P(holding at horizon)    {fmt(p_hold(HORIZON))}",
        *([f"intervals: {summary['interval']} ({summary['posterior_draws']} posterior draws; world r ran draw "
           "r mod the draws)"]
          if isinstance(summary.get("interval"), str) else ["intervals: Monte Carlo only (95 %, Wilson)"]),
        f"results in {out_dir}/",
    ])
