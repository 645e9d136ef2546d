"""The ``ceasefire bet`` command: the article's bet, P(deal) and P(holding) against coalition troops.

``sim.cli.main`` registers it with ``add_bet_commands(commands)``. The model, pandas and matplotlib are
imported only when the command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.sweep import add_posterior_arguments, posterior_choice
from sim.core.errors import InputError

BET_FILES = ("the_bet.csv", "intent.csv", "optimum.csv", "the_bet.png", "manifest.json")
"""What ``ceasefire bet`` writes into its folder (``optimum.csv`` unless ``--bootstrap 0``)."""

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


def add_bet_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``bet`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    bet = subparsers.add_parser(
        "bet", help="the article's bet: P(deal) and P(holding) against coalition troops, per structural form",
        description="Does a European force deter Russia into a ceasefire, or provoke it out of one, and does "
                    "the ceasefire last? P(deal), P(holding at 1 year | deal), P(holding at 1 and 5 years) "
                    "against coalition troops, one line per structural form.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bet.add_argument("--replications", type=int, default=2000, metavar="N", help="worlds per point (default: 2000)")
    bet.add_argument("--seed", type=int, metavar="S", help="random seed, the same for every point "
                                                           "(default: the sweep file's)")
    bet.add_argument("--horizon", type=int, default=1825, metavar="DAYS",
                     help="days simulated after the deal (default: 1825, five years)")
    bet.add_argument("--variants", metavar="NAME[,NAME...]",
                     help="comma-separated variants (default: the structural forms and legacy_v1)")
    bet.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                     help="resamples of the paired bootstrap of the best troop level, written to optimum.csv "
                          "(worlds resampled jointly across troop levels, seeded by --seed; ties go to the "
                          "lowest level); 0 = no bootstrap, no optimum.csv (default: 1000)")
    bet.add_argument("--out", type=Path, default=Path("results/the_bet"), metavar="DIR",
                     help="output folder (default: results/the_bet/)")
    bet.add_argument("--workers", type=int, default=1, metavar="K",
                     help="local processes (default: 1); the results do not depend on it")
    add_posterior_arguments(bet, unit="troop level")
    bet.add_argument("--quiet", action="store_true", help="no progress bar or closing summary")
    bet.set_defaults(handler=cmd_bet)
    return bet


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


def cmd_bet(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire bet``: exit 0 done, 2 bad input (before any simulation)."""
    from sim.cli.common import cap_workers, progress_bar
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.outputs.artefacts import check_output_folder

    if args.replications < 1:
        raise InputError(f"--replications: must be >= 1 (got {args.replications})")
    if args.horizon < 1:
        raise InputError(f"--horizon: must be >= 1 day (got {args.horizon})")
    if args.bootstrap < 0:
        raise InputError(f"--bootstrap: must be >= 0 resamples (got {args.bootstrap}; 0 turns it off)")
    variants = chosen_variants(args.variants)
    from sim.experiments.bet import BET_SWEEP, run_bet
    from sim.experiments.sweep.design import load_sweep

    settings = {"replications": args.replications, "horizon_days": args.horizon,
                **({"seed": args.seed} if args.seed is not None else {})}
    sweep = load_sweep(BET_SWEEP, settings)
    choice = posterior_choice(args, sweep.base, unit="troop level")
    check_output_folder(args.out, inputs=[BET_SWEEP, *([choice.posterior.source] if choice is not None else [])])
    points = len(variants) * sweep.n_points
    workers = cap_workers(args.workers, points, "points")
    with interrupt_on_signals(), progress_bar(points, "points", enabled=not args.quiet) as advance:
        result = run_bet(args.replications, args.seed, variants, args.horizon, BET_SWEEP, progress=advance,
                         bootstrap=args.bootstrap, workers=workers, posterior=choice)
        save_bet(result, args.out, command_line=["ceasefire", *argv])
    if not args.quiet:
        print(summary_lines(result, args.out))
    return EXIT_OK


def save_bet(result: Any, out_dir: Path, command_line: Sequence[str] | None = None) -> Path:
    """Write ``the_bet.csv``, ``intent.csv``, ``optimum.csv`` (if bootstrapped), ``the_bet.png`` and
    ``manifest.json``, all or nothing."""
    from sim.experiments.bet import plot_bet
    from sim.outputs.artefacts import atomic_folder, write_csv, write_json

    with atomic_folder(out_dir) as tmp:
        write_csv(result.table, tmp / "the_bet.csv")
        write_csv(result.intent, tmp / "intent.csv")
        if result.optimum is not None:
            write_csv(result.optimum, tmp / "optimum.csv")
        plot_bet(result.table, tmp / "the_bet.png").clear()
        write_json(bet_manifest(result, command_line), tmp / "manifest.json")
    return out_dir


def bet_manifest(result: Any, command_line: Sequence[str] | None = None) -> dict[str, Any]:
    """What a reader needs to reproduce the bet: sweep, variants, seed, worlds, versions, commit, timing."""
    from sim.engine.runner import BLOCK_WORLDS
    from sim.experiments.bet import BOOTSTRAP_BATCH, BOOTSTRAP_LEVEL, OPTIMUM_KEY
    from sim.outputs.artefacts import manifest_base

    sweep = result.sweep
    posterior = result.posterior
    return {
        "kind": "bet",
        **manifest_base(sweep.base, command_line, sweep.source),
        "sweep": sweep.definition(),
        "troops": [float(v) for v in sweep.points[:, 0]],
        "variants": [{"name": v.name, "scenario": str(v.scenario) if v.scenario else sweep.source,
                      "overrides": v.overrides} for v in result.variants],
        "random_numbers": "common: every point of every variant runs the same blocks with the same seed",
        "outcomes": "P(deal); P(holding at 365 days | deal); P(holding at 365 and 1825 days) over all worlds "
                    "(no deal = not holding); " + ("95% intervals pooled over the posterior draws (parameters and "
                                                   "Monte Carlo); *_mc_ci_* Wilson, Monte Carlo only"
                                                   if posterior is not None else "Wilson 95% intervals"),
        "interval": "parameters+monte_carlo" if posterior is not None else "monte_carlo",
        "posterior": (None if posterior is None else {
            **posterior.describe(sweep.base.replications),
            "replaced": {name: {"parameters": paths, "note": "this variant's own values, replaced by the draws"}
                         for name, paths in result.replaced.items()},
        }),
        "block_worlds": BLOCK_WORLDS,
        "optimum": ({"file": "optimum.csv", "resamples": result.bootstrap, "level": BOOTSTRAP_LEVEL,
                     "seed": int(sweep.base.seed), "spawn_key": [OPTIMUM_KEY], "batch": BOOTSTRAP_BATCH,
                     "method": "paired bootstrap: replication indices resampled with replacement, the same at "
                               "every troop level of a variant; argmax troop level per resample, ties to the "
                               "lowest; percentile interval of the optima"
                               + ("; with --posterior every world keeps its posterior draw, so resampling worlds "
                                  "resamples the draws with them; worlds are resampled singly, not as clusters "
                                  "sharing a draw, so the interval leaves out the uncertainty of which particles "
                                  "were drawn (small with many draws)"
                                  if posterior is not None else "")}
                    if result.optimum is not None else None),
        "wall_seconds": round(result.wall_seconds, 3),
    }


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
    optimum = result.optimum
    for name, rows in table.groupby("variant", sort=False):
        best = rows.loc[rows["p_hold_1y"].idxmax()]
        ends = rows[rows["troops"].isin(SUMMARY_TROOPS)]
        deals = "/".join(f"{p:.2f}" for p in ends["p_deal"])
        at = "/".join(f"{t / 1000:g}k" for t in ends["troops"])
        where = ""
        if optimum is not None:
            found = optimum[(optimum["variant"] == name) & (optimum["outcome"] == "p_hold_1y")]
            if len(found):
                low, high = found.iloc[0]["interval_low"] / 1000, found.iloc[0]["interval_high"] / 1000
                where = f" (optimum 95 %: {low:g}k)" if low == high else f" (optimum 95 %: {low:g}-{high:g}k)"
        lines.append(f"  {name:<{width}}  P(deal) at {at}: {deals}   "
                     f"P(hold 1 y) peaks at {best['troops'] / 1000:g}k: {best['p_hold_1y']:.3f}{where}")
    lines.append(f"results in {out_dir}/")
    return "\n".join(lines)
