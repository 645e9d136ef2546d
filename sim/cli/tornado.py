"""The ``ceasefire tornado`` command: one-at-a-time sensitivity of P(holding at 365 days).

``sim.cli.main`` registers it with ``add_tornado_commands(commands)``. The model, pandas and matplotlib
are imported only when the command runs: :func:`sim.experiments.tornado.run_tornado` computes,
:func:`sim.outputs.artefacts.save` writes the folder and draws its chart (``sim.outputs.plots.tornado``).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command, add_options, cap_workers, check_options, progress_bar

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

HELP = "tornado chart: which parameter moves P(holding at 365 days) most, one at a time"
DESCRIPTION = ("Move each parameter alone to a low and a high value around a scenario, run every point with the same "
               "seed, and rank the parameters by the swing of P(ceasefire holding at 365 days) (at the horizon if "
               "it is shorter).")


def default_out_dir(scenario_name: str, root: Path = Path("results")) -> Path:
    """Where a tornado goes when no ``--out`` is given: ``results/<name>-tornado/``."""
    return root / f"{scenario_name}-tornado"


def add_tornado_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``tornado`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    tornado = add_command(subparsers, "tornado", cmd_tornado, HELP, DESCRIPTION, EXAMPLES)
    tornado.add_argument("scenario", type=Path, metavar="SCENARIO", help="scenario YAML (see `ceasefire scenarios`)")
    tornado.add_argument("--params", nargs="+", action="extend", metavar="PATH[=LOW:HIGH]",
                         help="parameters to move, as dotted paths (e.g. agents.UK.troops); default: 15 that "
                              "matter for deterrence and durability")
    tornado.add_argument("--fraction", type=float, default=0.5, metavar="F",
                         help="relative move, 0 < F < 1 (default: 0.5, i.e. -50%% and +50%%)")
    add_options(tornado, replications={"help": "worlds per point (default: the file's)"},
                seed={"help": "random seed, the same for every point (default: the file's)"},
                horizon={"help": "days (default: the file's); P(holding) is read at min(365, DAYS)"},
                out={"help": "output folder (default: results/<name>-tornado/)"}, workers={"default": 1})
    tornado.add_argument("--independent-streams", action="store_true",
                         help="give every point random streams of its own (default: common random numbers)")
    add_options(tornado, quiet=True)
    return tornado


def cmd_tornado(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire tornado``: exit 0 done, 2 bad input (before any simulation), 130 interrupted."""
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.engine.runner import BLOCK_WORLDS
    from sim.experiments.tornado import resolve_parameters, run_tornado
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.ownership import check_output_folder
    from sim.spec.scenario import load_scenario

    check_options(args)
    overrides = {key: value for key, value in (
        ("replications", args.replications), ("seed", args.seed), ("horizon_days", args.horizon)
    ) if value is not None}
    scenario = load_scenario(args.scenario, overrides)
    perturbations = resolve_parameters(scenario, args.params, args.fraction)
    points = 1 + 2 * len(perturbations)
    workers = cap_workers(args.workers, points * math.ceil(scenario.replications / BLOCK_WORLDS), "point blocks")
    out_dir = args.out if args.out is not None else default_out_dir(scenario.name)
    check_output_folder(out_dir, "tornado", inputs=[args.scenario])
    with claim(out_dir), interrupt_on_signals(), progress_bar(points, "points", enabled=not args.quiet) as progress:
        result = run_tornado(scenario, perturbations, workers=workers, progress=progress, fraction=args.fraction,
                             common_random_numbers=not args.independent_streams)
        save(result.artefacts(source=args.scenario), out_dir, command_line=["ceasefire", *argv])
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
