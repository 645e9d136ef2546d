"""The ``ceasefire tornado`` command: one-at-a-time sensitivity of P(holding at 365 days).

``sim.cli.main`` registers it with ``add_tornado_commands(commands)``. The model, pandas and matplotlib
are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.core.errors import InputError

EXAMPLES = """\
examples:
  ceasefire tornado scenarios/baseline.yaml
  ceasefire tornado scenarios/baseline.yaml --replications 2000 --workers 2
  ceasefire tornado scenarios/baseline.yaml --params agents.UK.troops model.deterrence_weight
  ceasefire tornado scenarios/baseline.yaml --params agents.US.troops=0:5000 --fraction 0.25

Each parameter moves alone to baseline -/+ FRACTION x |baseline| (default 50 %), clamped to its
valid range (a probability at 0.9 goes to 0.45 and 1.0); days are rounded; a zero baseline moves
by FRACTION in its own units. PATH=LOW:HIGH gives the two values instead. Every point runs the
same worlds with the same seed (common random numbers), so the baseline P equals `ceasefire run`'s.
Without --params, 15 parameters are moved (listed and justified in sim/experiments/tornado.py).
Writes tornado.csv, tornado.png and manifest.json.
"""


def add_tornado_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``tornado`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    tornado = subparsers.add_parser(
        "tornado", help="tornado chart: which parameter moves P(holding at 365 days) most, one at a time",
        description="Move each parameter alone to a low and a high value around a scenario, run every point "
                    "with the same seed, and rank the parameters by the swing of P(ceasefire holding at 365 "
                    "days) (at the horizon if it is shorter).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tornado.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario YAML (see `ceasefire scenarios`)")
    tornado.add_argument("--params", nargs="+", action="extend", metavar="PATH[=LOW:HIGH]",
                         help="parameters to move, as dotted paths (e.g. agents.UK.troops); default: 15 that "
                              "matter for deterrence and durability")
    tornado.add_argument("--fraction", type=float, default=0.5, metavar="F",
                         help="relative move, 0 < F < 1 (default: 0.5, i.e. -50%% and +50%%)")
    tornado.add_argument("--replications", type=int, metavar="N", help="worlds per point (default: the file's)")
    tornado.add_argument("--seed", type=int, metavar="S", help="random seed, the same for every point "
                                                               "(default: the file's)")
    tornado.add_argument("--horizon", type=int, metavar="DAYS",
                         help="days (default: the file's); P(holding) is read at min(365, DAYS)")
    tornado.add_argument("--out", type=Path, metavar="DIR", help="output folder (default: results/<name>-tornado/)")
    tornado.add_argument("--workers", type=int, default=1, metavar="K", help="local processes (default: 1)")
    tornado.add_argument("--independent-streams", action="store_true",
                         help="give every point random streams of its own (default: common random numbers)")
    tornado.add_argument("--quiet", action="store_true", help="no progress bar or closing summary")
    tornado.set_defaults(handler=cmd_tornado)
    return tornado


def cmd_tornado(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire tornado``: exit 0 done, 2 bad input (before any simulation), 130 interrupted."""
    from sim.cli.common import cap_workers, progress_bar
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.engine.runner import BLOCK_WORLDS
    from sim.experiments.tornado import default_out_dir, resolve_parameters, run_tornado, save_tornado
    from sim.outputs.artefacts import check_output_folder
    from sim.spec.scenario import load_scenario

    if args.workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {args.workers})")
    overrides = {key: value for key, value in (
        ("replications", args.replications), ("seed", args.seed), ("horizon_days", args.horizon)
    ) if value is not None}
    scenario = load_scenario(args.scenario, overrides)
    perturbations = resolve_parameters(scenario, args.params, args.fraction)
    points = 1 + 2 * len(perturbations)
    workers = cap_workers(args.workers, points * math.ceil(scenario.replications / BLOCK_WORLDS), "point blocks")
    out_dir = args.out if args.out is not None else default_out_dir(scenario.name)
    check_output_folder(out_dir, inputs=[args.scenario])
    with interrupt_on_signals():
        with progress_bar(points, "points", enabled=not args.quiet) as advance:
            result = run_tornado(scenario, perturbations, workers=workers, progress=advance,
                                 fraction=args.fraction, common_random_numbers=not args.independent_streams)
        save_tornado(result, out_dir, command_line=["ceasefire", *argv], source=args.scenario)
    if not args.quiet:
        print(summary_lines(result.table, result.day_note, out_dir))
    return EXIT_OK


def summary_lines(table: Any, day_note: str | None, out_dir: Path, top: int = 5) -> str:
    """What a reader sees after a tornado: the baseline and the parameters with the largest swing."""
    first = table.iloc[0]
    lines = [
        f"{first['scenario']}: {int(first['replications'])} worlds per point, seed {int(first['seed'])}, "
        f"{len(table)} parameters",
        f"  P(holding at {int(first['day'])} days), baseline: {first['p_baseline']:.3f} "
        f"[{first['p_baseline_ci_low']:.3f}, {first['p_baseline_ci_high']:.3f}]",
    ]
    if day_note:
        lines.append(f"  note: {day_note}")
    width = max(len(name) for name in table["parameter"].head(top))
    for row in table.head(top).itertuples():
        lines.append(f"  {row.parameter:<{width}}  {row.low_value:g} -> {row.p_low:.3f}   "
                     f"{row.high_value:g} -> {row.p_high:.3f}   swing {row.swing:.3f}")
    lines.append(f"results in {out_dir}/")
    return "\n".join(lines)
