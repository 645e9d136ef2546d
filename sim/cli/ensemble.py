"""The ``ceasefire ensemble`` command: a scenario's headline numbers across every structural combination
and parameter draw, with the variance split into structure, parameters and Monte Carlo noise.

``sim.cli.main`` registers it with ``add_ensemble_commands(commands)``. The model, pandas and matplotlib are
imported only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ENSEMBLE_FILES = ("ensemble.csv", "variance.csv", "runs.csv", "draws.csv", "ensemble.png", "manifest.json")
"""What ``ceasefire ensemble`` writes into its folder."""

EXAMPLES = """\
examples:
  ceasefire ensemble scenarios/baseline.yaml
  ceasefire ensemble baseline --combinations sample:12 --draws 4 --replications 200 --out results/ens_quick
  ceasefire ensemble baseline --posterior results/calibrate/posterior.csv

Runs the scenario under every combination of the five contested mechanisms' forms (72; or a seeded
uniform sample with sample:N) crossed with K parameter draws (the same K for every combination) from the
priors of seeds/commitments.yaml, or from a posterior file with --posterior. Draw d runs with seed S + d
in every combination (common random numbers). Default: 72 x 16 runs of 500 worlds over the scenario's
horizon, a few minutes on one core. Writes ensemble.csv (one row per combination plus the pooled row),
variance.csv (shares of structure, parameters and Monte Carlo noise), runs.csv, draws.csv, ensemble.png
and manifest.json; see docs/ENSEMBLE.md.
"""


def add_ensemble_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``ensemble`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    ensemble = subparsers.add_parser(
        "ensemble", help="headline numbers across structural forms and parameter draws, with variance shares",
        description="Run a scenario under every combination of structural forms crossed with parameter draws; "
                    "report the headline numbers per combination and pooled, and how much of their variance "
                    "comes from structure, from parameters and from Monte Carlo noise.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ensemble.add_argument("scenario", type=Path, help="scenario YAML file, or a bundled scenario's name")
    ensemble.add_argument("--combinations", default="all", metavar="all|sample:N",
                          help="every combination of forms (default) or N of them at random")
    ensemble.add_argument("--draws", type=int, default=16, metavar="K", help="parameter draws (default: 16)")
    ensemble.add_argument("--replications", type=int, default=500, metavar="N",
                          help="worlds per run (default: 500)")
    ensemble.add_argument("--horizon", type=int, metavar="DAYS", help="days after the deal (default: the file's)")
    ensemble.add_argument("--seed", type=int, metavar="S", help="base seed; draw d uses S + d (default: the file's)")
    ensemble.add_argument("--posterior", type=Path, metavar="FILE",
                          help="draw parameters from this posterior CSV (default: the priors)")
    ensemble.add_argument("--workers", type=int, default=1, metavar="K", help="local processes (default: 1)")
    ensemble.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: results/ensemble_<name>/)")
    ensemble.add_argument("--quiet", action="store_true", help="no progress bar or closing summary")
    ensemble.set_defaults(handler=cmd_ensemble)
    return ensemble


def cmd_ensemble(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire ensemble``: exit 0 done, 2 bad input (before any simulation), 1 the workers stopped."""
    from sim.cli.common import cap_workers, progress_bar
    from sim.core.bundled import resolve_scenario
    from sim.core.exit_codes import EXIT_FAILURE, EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.experiments.ensemble import make_design, run_ensemble
    from sim.outputs.artefacts import check_output_folder

    scenario_file = resolve_scenario(args.scenario)
    design = make_design(scenario_file, args.combinations, args.draws, args.replications, args.horizon,
                         args.seed, args.posterior)
    out_dir = args.out if args.out is not None else Path("results") / f"ensemble_{design.base.name}"
    inputs = [scenario_file] + ([args.posterior] if args.posterior is not None else [])
    check_output_folder(out_dir, inputs=inputs)
    workers = cap_workers(args.workers, len(design.cells), "runs")
    from sim.engine.runner import WorkersStoppedError

    with interrupt_on_signals(), progress_bar(len(design.cells), "runs", enabled=not args.quiet) as advance:
        try:
            result = run_ensemble(design, workers=workers, progress=advance)
        except WorkersStoppedError:
            print(f"error: --workers {workers}: the worker processes stopped before finishing (out of memory or "
                  "killed); nothing was written; try --workers 1", file=sys.stderr)
            return EXIT_FAILURE
        tables = save_ensemble(result, out_dir, command_line=["ceasefire", *argv])
    if not args.quiet:
        print(summary_lines(result, *tables, out_dir))
    return EXIT_OK


def save_ensemble(result: Any, out_dir: Path, command_line: Sequence[str] | None = None) -> tuple[Any, Any]:
    """Write every file of :data:`ENSEMBLE_FILES`, all or nothing; returns (ensemble table, variance table)."""
    from sim.experiments.ensemble import draws_table, ensemble_table, plot_ensemble, variance_table
    from sim.outputs.artefacts import atomic_folder, write_csv, write_json

    table, variance = ensemble_table(result), variance_table(result)
    with atomic_folder(out_dir) as tmp:
        write_csv(table, tmp / "ensemble.csv")
        write_csv(variance, tmp / "variance.csv")
        write_csv(result.runs, tmp / "runs.csv")
        write_csv(draws_table(result.design), tmp / "draws.csv")
        plot_ensemble(table, tmp / "ensemble.png").clear()
        write_json(ensemble_manifest(result, command_line), tmp / "manifest.json")
    return table, variance


def ensemble_manifest(result: Any, command_line: Sequence[str] | None = None) -> dict[str, Any]:
    """What a reader needs to reproduce the ensemble: design, seeds, parameter source, versions, timing."""
    from sim.experiments.ensemble import OUTPUTS
    from sim.outputs.artefacts import manifest_base

    design = result.design
    return {
        "kind": "ensemble",
        **manifest_base(design.base, command_line, design.scenario_file),
        "combinations": design.combination_rule,
        "n_combinations": len(design.combinations),
        "draws": len(design.seeds),
        "run_seeds": list(design.seeds),
        "worlds_per_run": design.replications,
        "run_horizon_days": design.horizon_days,
        "parameter_source": design.draws.source,
        "parameters_drawn": sorted(design.draws.values[0]),
        "design": "full factorial: every combination x every draw; the same draws and the same seed per draw "
                  "in every combination (common parameter draws and common random numbers)",
        "outputs": OUTPUTS,
        "variance": "two-way layout, draws as random blocks: structure = (MS_combination - MS_residual) / K; "
                    "parameters = mean within-combination variance between draws - Monte Carlo; "
                    "Monte Carlo = mean binomial variance p(1-p)/(n-1) of one run",
        "workers": result.workers,
        "wall_seconds": round(result.wall_seconds, 3),
    }


def summary_lines(result: Any, table: Any, variance: Any, out_dir: Path) -> str:
    """Per headline: the default combination, the range across structures, the pooled interval, the shares."""
    from sim.experiments.ensemble import OUTPUTS

    design = result.design
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

