"""The ``ceasefire bet`` command: the article's bet, P(deal) and P(holding) against coalition troops.

``sim.cli.main`` registers it with ``add_bet_commands(commands)``. The model, pandas and matplotlib are
imported only when the command runs: :func:`sim.experiments.bet.run_bet` computes,
:func:`sim.outputs.artefacts.save` writes the folder and draws its figure (``sim.outputs.plots.bet``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command, add_options, cap_workers, check_options, posterior_choice, progress_bar
from sim.core.errors import InputError

SUMMARY_TROOPS = (0.0, 20000.0, 60000.0)
"""Troop levels whose P(deal) the closing summary prints."""

EXAMPLES = """\
examples:
  ceasefire bet
  ceasefire bet --replications 500 --horizon 365 --out results/the_bet_quick
  ceasefire bet --variants default,deterrence_wins,provocation_wins --out results/the_bet_sides
  ceasefire bet --bootstrap 2000        # a finer bootstrap of where the optimum lies
  ceasefire bet --posterior --replications 4000   # parameters drawn from the committed posterior

Runs the troop grid of scenarios/sweeps/the_bet.yaml (UK + France, 0 to 60,000 troops, 13 points)
for each variant, every point with the same seed (common random numbers). Default variants: the
default structure, each non-default form alone, and legacy_v1 (the first version of the model).
Also available: deterrence_wins and provocation_wins (scenarios/bet_*_wins.yaml).
Writes the_bet.csv, intent.csv (P(hold 1 y | deal) by quartile of Russia's intent), optimum.csv
(per variant and outcome, the best troop level with a paired-bootstrap 95 % interval of where the
optimum lies), the_bet.png and manifest.json; see docs/THE_BET.md.
--posterior [FILE]: world r of every point runs posterior draw r % D (default FILE: the committed
seeds/posterior/posterior.csv); the intervals then include parameter uncertainty (docs/CALIBRATION.md).
"""

HELP = "the article's bet: P(deal) and P(holding) against coalition troops, per structural form"
DESCRIPTION = ("Does a European force deter Russia into a ceasefire, or provoke it out of one, and does the ceasefire "
               "last? P(deal), P(holding at 1 year | deal), P(holding at 1 and 5 years) against coalition troops, "
               "one line per structural form.")


def chosen_variants(text: str | None) -> tuple[Any, ...]:
    """The variants named in ``--variants`` (default: the structural set), each checked."""
    from sim.experiments.bet import CATALOGUE, STRUCTURE_VARIANTS

    if text is None:
        return STRUCTURE_VARIANTS
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InputError("--variants: give at least one name, e.g. default,objection=linear")
    unknown = [name for name in names if name not in CATALOGUE]
    if unknown:
        raise InputError(f"--variants: unknown variant {unknown[0]!r} (variants: {', '.join(CATALOGUE)})")
    return tuple(CATALOGUE[name] for name in dict.fromkeys(names))


def add_bet_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``bet`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    bet = add_command(subparsers, "bet", cmd_bet, HELP, DESCRIPTION, EXAMPLES)
    add_options(bet, replications={"default": 2000, "help": "worlds per point (default: 2000)"},
                seed={"help": "random seed, the same for every point (default: the sweep file's)"},
                horizon={"default": 1825, "help": "days simulated after the deal (default: 1825, five years)"})
    bet.add_argument("--variants", metavar="NAME[,NAME...]",
                     help="comma-separated variants (default: the structural forms and legacy_v1)")
    bet.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                     help="resamples of the paired bootstrap of the best troop level, written to optimum.csv "
                          "(worlds resampled jointly across troop levels, seeded by --seed; ties go to the "
                          "lowest level); 0 = no bootstrap, no optimum.csv (default: 1000)")
    add_options(bet, out={"default": Path("results/the_bet"), "help": "output folder (default: results/the_bet/)"},
                workers={"default": 1, "help": "local processes (default: 1); the results do not depend on it"},
                scheduler=True, posterior=True, draws=True, quiet=True)
    return bet


def cmd_bet(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire bet``: exit 0 done, 2 bad input (before any simulation), 130 interrupted."""
    from sim.cli.cluster import cluster_executor
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.experiments.bet import BET_SWEEP, run_bet
    from sim.experiments.sweep.design import load_sweep
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder

    check_options(args)
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap: must be >= 0 resamples (got {args.bootstrap}; 0 turns it off)")
    variants = chosen_variants(args.variants)
    settings = {"replications": args.replications, "horizon_days": args.horizon,
                **({"seed": args.seed} if args.seed is not None else {})}
    sweep = load_sweep(BET_SWEEP, settings)
    choice = posterior_choice(args, sweep.base, unit="troop level")
    check_output_folder(args.out, "bet", inputs=[BET_SWEEP, *([choice.posterior.source] if choice else [])])
    points = len(variants) * sweep.n_points
    workers = cap_workers(args.workers, points, "points")
    with claim(args.out), interrupt_on_signals(), cluster_executor(args.scheduler, workers) as (executor, slots), \
            progress_bar(points, "points", enabled=not args.quiet) as progress:
        result = run_bet(args.replications, args.seed, variants, args.horizon, BET_SWEEP, progress=progress,
                         bootstrap=args.bootstrap, workers=slots, posterior=choice,
                         executor=executor)
        save(result.artefacts(), args.out, command_line=["ceasefire", *argv])
    if not args.quiet:
        print(summary_lines(result, args.out))
    return EXIT_OK


def summary_lines(result: Any, out_dir: Path) -> str:
    """What a reader sees after the bet: per variant, P(deal) and P(hold 1 y) at the ends of the grid."""
    table = result.table
    first = table.iloc[0]
    lines = [f"the bet: {int(first['replications'])} worlds per point, seed {int(first['seed'])}, "
             f"{int(first['horizon_days'])} days, {len(result.variants)} variants x {result.sweep.n_points} points, "
             f"{result.wall_seconds:.0f} s"]
    if result.posterior is not None:
        lines.append(f"  intervals: parameters+monte_carlo ({result.posterior.draws} posterior draws from "
                     f"{result.posterior.posterior.source})")
    width = max(len(v.name) for v in result.variants)
    for name, rows in table.groupby("variant", sort=False):
        ends = rows[rows["troops"].isin(SUMMARY_TROOPS)]
        deals = "/".join(f"{p:.2f}" for p in ends["p_deal"])
        at = "/".join(f"{t / 1000:g}k" for t in ends["troops"])
        lines.append(f"  {name:<{width}}  P(deal) at {at}: {deals}   {_peak(rows, result.optimum, str(name))}")
    lines.append(f"results in {out_dir}/")
    return "\n".join(lines)


def _peak(rows: Any, optimum: Any, name: str) -> str:
    """Where one variant's P(hold 1 y) peaks, with the bootstrap interval of the optimum when there is one."""
    if rows["p_hold_1y"].isna().all():
        return "P(hold 1 y): beyond the horizon"
    best = rows.loc[rows["p_hold_1y"].idxmax()]
    where = ""
    found = optimum[(optimum["variant"] == name) & (optimum["outcome"] == "p_hold_1y")] if optimum is not None else []
    if len(found):
        low, high = found.iloc[0]["interval_low"] / 1000, found.iloc[0]["interval_high"] / 1000
        where = f" (optimum 95 %: {low:g}k)" if low == high else f" (optimum 95 %: {low:g}-{high:g}k)"
    return f"P(hold 1 y) peaks at {best['troops'] / 1000:g}k: {best['p_hold_1y']:.3f}{where}"
