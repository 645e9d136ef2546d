"""The ``ceasefire decide`` command: which guarantee package to offer when nobody knows which model of Russia is
right (decision making under deep uncertainty; docs/DECIDE.md).

``sim.cli.main`` registers it with ``add_decide_commands(commands)``. :func:`sim.experiments.decide.run_decide`
computes; :func:`sim.outputs.artefacts.save` writes the folder and draws its figures (``sim.outputs.plots.decide``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sim.cli.common import COMMITTED_POSTERIOR, add_command, add_options, cap_workers, check_options, progress_bar
from sim.core.errors import InputError

EXAMPLES = """\
examples:
  ceasefire decide --quick
  ceasefire decide --workers 2 --out results/decide
  ceasefire decide --options my_packages.yaml --threshold p_hold_1y=0.7 --option 20k+bases+roles
  ceasefire decide --priors --combinations sample:64 --draws 8
  ceasefire decide --quick --scheduler tcp://host:8786

Runs every option of an options file (default: the bundled scenarios/options/guarantee_packages.yaml: none,
US monitoring only, 5k-40k coalitions with and without bases, roles and Germany) in the same futures: C
combinations of the contested mechanisms' forms x K parameter draws from the committed calibrated posterior
(--priors: from the priors), with common random numbers. Writes options.csv, futures.csv, outcomes.csv
(option x future), regret.csv (per outcome and option: expected value, worst decile, regrets and the
satisficing share, with bootstrap intervals; the criteria that pick it), picks.csv, boxes.csv and peeling.csv
(PRIM boxes: where the chosen option fails, and where provocation beats deterrence), evppi.csv (what learning each
mechanism or parameter is worth), regret.png, boxes.png, evppi.png and manifest.json. Default: 48 combinations
x 6 draws x 200 worlds x 1,825 days; --quick: 16 x 2 x 100 (under 3 minutes on 2 cores).
"""

HELP = "which guarantee package is robust across models of Russia: criteria, regret, PRIM boxes, EVPPI"
DESCRIPTION = ("Evaluate candidate guarantee packages in the same futures (structures x parameter draws), pick by "
               "several criteria with bootstrap intervals, find where an option fails and where provocation beats "
               "deterrence, and rank what is worth learning (EVPPI).")


def add_decide_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``decide`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    decide = add_command(subparsers, "decide", cmd_decide, HELP, DESCRIPTION, EXAMPLES)
    decide.add_argument("--options", metavar="FILE", default=None,
                        help="options YAML, or a bundled options file's name (default: guarantee_packages)")
    decide.add_argument("--scenario", metavar="FILE", default=None,
                        help="base scenario the options modify (default: the options file's)")
    decide.add_argument("--quick", action="store_true",
                        help="small run: 16 combinations x 2 draws x 100 worlds, 200 bootstrap resamples")
    decide.add_argument("--combinations", default=None, metavar="all|sample:N",
                        help="combinations of forms (default: sample:48; --quick sample:16)")
    decide.add_argument("--priors", action="store_true",
                        help="draw parameters from the priors (the wide ensemble) instead of the posterior")
    add_options(decide, posterior={"help": "draw parameters from a posterior CSV (default, and without FILE: the "
                                           "committed seeds/posterior/posterior.csv)"},
                draws={"default": None, "metavar": "K", "help": "parameter draws, >= 2 (default: 6; --quick 2)"},
                replications={"default": None, "help": "worlds per run (default: 200; --quick 100)"},
                horizon={"default": None, "help": "days after the deal (default: 1825, which P(hold 5 y) needs)"},
                seed={"help": "base seed; draw d uses S + d (default: the scenario's)"})
    decide.add_argument("--threshold", action="append", default=[], metavar="OUTCOME=LEVEL",
                        help="satisficing level, e.g. p_hold_1y=0.6 (repeatable; default: the options file's)")
    decide.add_argument("--outcome", default="p_hold_1y", metavar="OUTCOME",
                        help="outcome whose failures scenario discovery explains: p_deal, p_hold_1y (default) or "
                             "p_hold_5y")
    decide.add_argument("--option", default=None, metavar="NAME",
                        help="option whose failures are explained (default: the file's 'discover', else the best "
                             "in expectation)")
    decide.add_argument("--bootstrap", type=int, default=None, metavar="B",
                        help="bootstrap resamples of futures (default: 1000; --quick 200)")
    add_options(decide, workers={"default": 1}, scheduler=True, no_plots=True,
                out={"help": "output folder (default: results/decide/)"}, quiet=True)
    return decide


def _settings(args: argparse.Namespace) -> Any:
    from sim.experiments.decide import FULL, QUICK

    settings = QUICK if args.quick else FULL
    for name in ("combinations", "draws", "replications", "bootstrap", "seed"):
        value = getattr(args, name)
        if value is not None:
            settings = replace(settings, **{name: value})
    if args.horizon is not None:
        settings = replace(settings, horizon_days=args.horizon)
    return settings


def _thresholds(items: Sequence[str]) -> dict[str, float]:
    from sim.spec.options import OUTCOMES

    out = {}
    for item in items:
        name, sep, level = item.partition("=")
        if not sep or name.strip() not in OUTCOMES:
            raise InputError(f"--threshold: expected OUTCOME=LEVEL with OUTCOME one of {', '.join(OUTCOMES)}, "
                             f"e.g. p_hold_1y=0.6 (got {item!r})")
        try:
            value = float(level)
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= 1.0:
            raise InputError(f"--threshold: {name.strip()}: LEVEL must be a probability in [0, 1] (got {level!r})")
        out[name.strip()] = value
    return out


def cmd_decide(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire decide``: exit 0 done, 2 bad input (before any simulation), 1 the workers stopped,
    130 interrupted."""
    from sim.cli.cluster import cluster_executor
    from sim.core.exit_codes import EXIT_FAILURE, EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.engine.runner import WorkersStoppedError
    from sim.experiments.decide import check_choice, make_decide_design, run_decide
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder
    from sim.spec.options import load_options
    from sim.stats.posterior import DEFAULT_POSTERIOR

    check_options(args)
    if args.priors and args.posterior is not None:
        raise InputError("--priors: draws from the priors; leave out --posterior (or leave out --priors)")
    thresholds = _thresholds(args.threshold)
    options = load_options(args.options, args.scenario)
    if thresholds:
        options = replace(options, thresholds={**options.thresholds, **thresholds})
    posterior = None
    if not args.priors:
        posterior = DEFAULT_POSTERIOR if args.posterior in (None, COMMITTED_POSTERIOR) else Path(args.posterior)
    design = make_decide_design(options, _settings(args), posterior)
    check_choice(design, args.outcome, args.option)
    out_dir = args.out if args.out is not None else Path("results") / "decide"
    check_output_folder(out_dir, "decide", inputs=[options.source, options.base_file, *([posterior] if posterior
                                                                                          else [])])
    workers = cap_workers(args.workers, design.n_runs, "runs")
    with claim(out_dir), interrupt_on_signals(), cluster_executor(args.scheduler, workers) as (executor, slots), \
            progress_bar(design.n_runs, "runs", enabled=not args.quiet) as progress:
        try:
            result = run_decide(design, args.outcome, args.option, workers=slots, progress=progress,
                                executor=executor)
        except WorkersStoppedError:
            print(f"error: --workers {workers}: the worker processes stopped before finishing (out of memory or "
                  "killed); nothing was written; try --workers 1", file=sys.stderr)
            return EXIT_FAILURE
        save(result.artefacts(), out_dir, command_line=["ceasefire", *argv], plots=not args.no_plots)
    if not args.quiet:
        print(summary_lines(result, out_dir))
    return EXIT_OK


def summary_lines(result: Any, out_dir: Path) -> str:
    """Per outcome, the option each criterion picks; the first box of each discovery question."""
    from sim.spec.options import OUTCOMES

    design = result.design
    futures = design.futures
    lines = [f"decide: {len(design.options.names)} options x {len(design.cells)} futures ({len(futures.combinations)} "
             f"combinations x {len(futures.seeds)} draws, {futures.draws.source}), {futures.replications} worlds, "
             f"{futures.horizon_days} days, {result.wall_seconds:.0f} s"]
    for outcome, group in result.picks.groupby("outcome", sort=False):
        verdict = "criteria disagree" if group["disagree"].iloc[0] else "criteria agree"
        picks = "; ".join(f"{row.criterion}: {row.pick}" for row in group.itertuples())
        lines.append(f"  {OUTCOMES[outcome]} ({verdict}): {picks}")
    for question in result.questions:
        box = result.boxes[(result.boxes["question"] == question.name) & (result.boxes["box"] == 1)]
        if box.empty:
            lines.append(f"  {question.label}: in {question.fails.mean():.0%} of futures; no box")
            continue
        first = box.iloc[0]
        lines.append(f"  {question.label}: in {question.fails.mean():.0%} of futures; box 1 "
                     f"({first['restricted'] or 'nothing'}): coverage {first['coverage']:.2f}, density "
                     f"{first['density']:.2f}")
    lines.append(f"results in {out_dir}/")
    return "\n".join(lines)
