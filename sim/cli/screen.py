"""The ``ceasefire screen`` command: Morris screening over every assumption, Sobol on the top 8 and the structure.

``sim.cli.main`` registers it with ``add_screen_commands(commands)``. The model, SALib, pandas and
matplotlib are imported only when the command runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.core.errors import InputError

SCREEN_FILES = ("morris.csv", "morris_points.csv", "morris.png", "sobol.csv", "sobol_points.csv",
                "variance_shares.csv", "sobol_top.png", "sobol_structure.png", "manifest.json")
"""What ``ceasefire screen`` writes into its folder (the Sobol files only when the Sobol step runs)."""

EXAMPLES = """\
examples:
  ceasefire screen --workers 2
  ceasefire screen --trajectories 10 --sobol-samples 64 --out results/screen_quick
  ceasefire screen --trajectories 4 --replications 200 --sobol-samples 0 --out results/screen_tiny

Step 1, Morris: every inspired and assumption parameter of seeds/commitments.yaml (96) moves over its
prior (uniform, loguniform in log space, integer_uniform, bernoulli), R trajectories of k + 1 points.
Step 2, Sobol: the 8 parameters with the largest mu* on P(hold 365) and the five structural switches
(a form of each mechanism, equal weights), Saltelli's design of N x (13 + 2) points.
Every point runs the same seed (common random numbers); the baseline point is also run with 5 seeds
to measure Monte Carlo noise. Outputs: P(hold 365), P(deal), P(hold 365 | deal).
Writes morris.csv, morris_points.csv, morris.png, sobol.csv, sobol_points.csv, variance_shares.csv,
sobol_top.png, sobol_structure.png and manifest.json; see docs/SENSITIVITY.md.
"""


def add_screen_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``screen`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    screen = subparsers.add_parser(
        "screen", help="global sensitivity: Morris over every assumption, Sobol on the top 8 and the structure",
        description="Which assumptions move P(the ceasefire holds at 365 days)? Morris screening over every "
                    "assumed parameter by its prior, then Sobol indices on the 8 that matter most and on "
                    "the structural switches.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    screen.add_argument("--scenario", type=Path, metavar="FILE",
                        help="scenario the priors vary around (default: scenarios/baseline.yaml)")
    screen.add_argument("--trajectories", type=int, default=20, metavar="R",
                        help="Morris trajectories (default: 20; points: R x (96 + 1))")
    screen.add_argument("--replications", type=int, default=500, metavar="N", help="worlds per point (default: 500)")
    screen.add_argument("--horizon", type=int, default=365, metavar="DAYS",
                        help="days simulated (default: 365; P(holding) is read at min(365, DAYS))")
    screen.add_argument("--seed", type=int, default=20261125, metavar="S",
                        help="random seed, the same for every point (default: 20261125)")
    screen.add_argument("--sobol-samples", type=int, default=128, metavar="N",
                        help="Saltelli base samples, a power of 2, or 0 to skip the Sobol step (default: 128)")
    screen.add_argument("--workers", type=int, default=1, metavar="K", help="local processes (default: 1)")
    screen.add_argument("--out", type=Path, default=Path("results/screen"), metavar="DIR",
                        help="output folder (default: results/screen/)")
    screen.add_argument("--quiet", action="store_true", help="no progress bar or closing summary")
    screen.set_defaults(handler=cmd_screen)
    return screen


def cmd_screen(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire screen``: exit 0 done, 2 bad input (before any simulation)."""
    from sim.cli.common import progress_bar
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.experiments.screening import BASELINE_FILE, check_sizes, planned_runs, run_screening
    from sim.outputs.artefacts import check_output_folder
    from sim.spec.sources import priors

    check_sizes(args.trajectories, args.replications, args.horizon, args.seed, args.sobol_samples)
    if args.workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {args.workers})")
    scenario = args.scenario or BASELINE_FILE
    if not Path(scenario).is_file():
        raise InputError(f"{scenario}: --scenario: no such file; give a scenario YAML such as scenarios/baseline.yaml")
    check_output_folder(args.out, inputs=[scenario])
    total = planned_runs(len(priors()), args.trajectories, args.sobol_samples)
    with interrupt_on_signals(), progress_bar(total, "points", enabled=not args.quiet) as advance:
        result = run_screening(Path(scenario), args.trajectories, args.replications, args.horizon, args.seed,
                               args.sobol_samples, args.workers, progress=advance)
        save_screening(result, args.out, command_line=["ceasefire", *argv])
    if not args.quiet:
        print(summary_lines(result, args.out))
    return EXIT_OK


def save_screening(result: Any, out_dir: Path, command_line: Sequence[str] | None = None) -> Path:
    """Write the tables, figures and ``manifest.json``, all or nothing."""
    from sim.experiments.screening import plot_morris, plot_sobol, plot_structure
    from sim.outputs.artefacts import atomic_folder, write_csv, write_json

    with atomic_folder(out_dir) as tmp:
        write_csv(result.morris, tmp / "morris.csv")
        write_csv(result.morris_points, tmp / "morris_points.csv")
        plot_morris(result.morris, tmp / "morris.png").clear()
        if result.sobol is not None:
            write_csv(result.sobol, tmp / "sobol.csv")
            write_csv(result.sobol_points, tmp / "sobol_points.csv")
            write_csv(result.shares, tmp / "variance_shares.csv")
            plot_sobol(result.sobol, tmp / "sobol_top.png").clear()
            plot_structure(result.sobol_points, tmp / "sobol_structure.png").clear()
        write_json(screen_manifest(result, command_line), tmp / "manifest.json")
    return out_dir


def screen_manifest(result: Any, command_line: Sequence[str] | None = None) -> dict[str, Any]:
    """What a reader needs to reproduce the screening: settings, factors, versions, commit, timings."""
    from sim.experiments.screening import OUTPUTS
    from sim.outputs.artefacts import git_commit, versions

    return {
        "kind": "screen",
        **result.settings,
        "outputs": list(OUTPUTS),
        "outcomes": "P(holding at day 365) and P(deal) over all worlds (no deal = not holding); "
                    "P(holding at day 365 | deal)",
        "random_numbers": "common: every point runs the same blocks with the same seed",
        "noise_sd": {o: round(float(v), 6) for o, v in zip(OUTPUTS, result.noise_sd, strict=True)},
        "top": result.top,
        "factor_mapping": "unit value u: uniform low+u(high-low); loguniform in log space; integer_uniform "
                          "floor(u(high-low+1)) whole steps; bernoulli true where u >= 1-p; structure "
                          "forms[floor(u n)]",
        "versions": versions(),
        "git_commit": git_commit(),
        "command_line": list(command_line) if command_line is not None else None,
        "wall_seconds": {k: round(v, 1) for k, v in result.timings.items()},
    }


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
