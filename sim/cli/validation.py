"""The ``ceasefire validation`` command: every anchor tested, and with ``--discriminate`` the wrong variants.

``sim.cli.main`` registers it with ``add_validation_commands(commands)``. The exit code does not depend on
the anchors passing: 0 when the tables were written, 2 for bad input, 1 for the environment, 130 when
interrupted. The output folder is checked (:func:`sim.outputs.artefacts.check_output_folder`) before any simulation.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EPILOG = """\
Every anchor gets a p-value: an exact test of the observed counts against the model's posterior
predictive distribution (a z-test on the log scale for figures known only as a range). An anchor with
p < 0.05 is marked FAIL; the exit code is 0 all the same. The held-out fit is the log predictive
probability of the held-out record (higher is better). See docs/VALIDATION.md.

--discriminate also runs the bundled wrong variants (sim/experiments/validation/variants.py) at half the
worlds and writes
discrimination.csv and discrimination.png: which held-out anchors each fails, and its fit beside
the default model's.
"""


def add_validation_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``validation`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    validation = subparsers.add_parser(
        "validation", help="test the model against the empirical record (docs/VALIDATION.md)",
        description="Run the validation scenarios and test each empirical anchor against the model; write "
                    "validation.csv, validation.md, validation.png and manifest.json.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    validation.add_argument("--out", type=Path, default=Path("results/validation"), metavar="DIR",
                            help="output folder (default: results/validation/)")
    validation.add_argument("--workers", type=int, default=1, metavar="K", help="local processes (default: 1)")
    validation.add_argument("--discriminate", action="store_true",
                            help="also run the bundled wrong variants and compare their fit (a few minutes)")
    validation.add_argument("--update-docs", action="store_true",
                            help="also refresh the tables in docs/VALIDATION.md")
    validation.add_argument("--quiet", action="store_true", help="no progress bar; the table is still printed")
    validation.set_defaults(handler=cmd_validation)
    return validation


def cmd_validation(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire validation``: writes validation.csv, .md, .png, manifest.json (and the discrimination)."""
    import math

    import sim.experiments.validation.anchors as validation
    from sim.cli.common import cap_workers, progress_bar
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals
    from sim.engine.runner import BLOCK_WORLDS
    from sim.experiments.validation.variants import (
        DISCRIMINATION_SCALE,
        VARIANTS,
        discriminate,
        discrimination_markdown,
    )
    from sim.outputs.artefacts import atomic_folder, check_output_folder, write_csv, write_json
    from sim.outputs.plots.runs import plot_validation

    blocks = max(math.ceil(run.replications / BLOCK_WORLDS) for run in validation.RUNS)
    workers = cap_workers(args.workers, blocks, "blocks per run")
    check_output_folder(args.out)
    total = sum(run.replications for run in validation.RUNS)
    if args.discriminate:
        total += round(total * DISCRIMINATION_SCALE) * (1 + len(VARIANTS))
    summary = None
    with interrupt_on_signals():
        with progress_bar(total, "worlds", enabled=not args.quiet) as advance:
            table = validation.run_validation(workers=workers, progress=advance)
            if args.discriminate:
                summary, tables = discriminate(workers=workers, progress=advance)
        with atomic_folder(args.out) as tmp:
            write_csv(table, tmp / "validation.csv")
            (tmp / "validation.md").write_text(validation.markdown(table) + "\n", encoding="utf-8")
            plot_validation(table, tmp / "validation.png")
            if summary is not None:
                write_csv(summary, tmp / "discrimination.csv")
                (tmp / "discrimination.md").write_text(discrimination_markdown(summary) + "\n", encoding="utf-8")
                plot_discrimination(summary, tables, tmp / "discrimination.png")
            write_json(validation_manifest(workers, ["ceasefire", *argv], args.discriminate),
                       tmp / "manifest.json")
    if args.update_docs:
        update_docs(table, summary)
    print(report_lines(table, summary, args.out))
    return EXIT_OK


def update_docs(table: Any, summary: Any) -> None:
    """Refresh the validation table (and, if run, the discrimination table) in docs/VALIDATION.md."""
    from sim.experiments.validation.anchors import (
        DISCRIMINATION_BEGIN,
        DISCRIMINATION_END,
        VALIDATION_DOC,
        markdown,
        refreshed,
    )
    from sim.experiments.validation.variants import discrimination_markdown

    document = refreshed(VALIDATION_DOC.read_text(encoding="utf-8"), markdown(table))
    if summary is not None:
        document = refreshed(document, discrimination_markdown(summary), DISCRIMINATION_BEGIN, DISCRIMINATION_END)
    VALIDATION_DOC.write_text(document, encoding="utf-8")


def report_lines(table: Any, summary: Any, out: Path) -> str:
    """What ``ceasefire validation`` prints: the table, the fit, the failures, and the variants if run."""
    from sim.experiments.validation.anchors import CODINGS, fit_standard_error, fit_statistic, joint_tests, text_table

    lines = [text_table(table), ""]
    for row in joint_tests(table).itertuples():
        lines.append(f"{row.group} ({row.role}), intervals tested jointly: observed {row.observed}, "
                     f"p-value {row.p_value:.3g}")
    for coding in CODINGS:
        lines.append(f"held-out fit, Minsk II {coding}: {fit_statistic(table, coding):.2f} "
                     f"(Monte Carlo SE {fit_standard_error(table, coding):.2f}; log predictive probability)")
    for role in ("held_out", "calibration"):
        rows = table[table["role"] == role]
        failed = ", ".join(rows.loc[rows["failed"], "anchor"]) or "none"
        lines.append(f"{role} anchors failed (p < 0.05): {int(rows['failed'].sum())} of {len(rows)}: {failed}")
    if summary is not None:
        lines += ["", "variant                    fit (held)      vs default        held-out anchors failed"]
        for row in summary.itertuples():
            versus = "" if row.variant == "default" else f"{row.difference_held:+.2f} ± {row.difference_held_se:.2f}"
            lines.append(f"{row.variant:<26} {row.fit_held:7.2f} ± {row.fit_held_se:.2f}  {versus:<16}  "
                         f"{row.failed_held_out_count}: {row.failed_held_out.replace(';', ', ') or 'none'}")
    lines.append(f"results in {out}/")
    return "\n".join(lines)


def validation_manifest(workers: int, command_line: Sequence[str], discriminated: bool = False) -> dict[str, Any]:
    """What a validation folder records: its kind (so it is known as ours), the runs, seed, variants, versions."""
    from dataclasses import asdict

    from sim.experiments.validation.anchors import RUNS, SEED
    from sim.experiments.validation.variants import DISCRIMINATION_SCALE, VARIANTS
    from sim.outputs.artefacts import git_commit, versions

    manifest: dict[str, Any] = {
        "kind": "validation", "seed": SEED, "runs": [asdict(run) for run in RUNS], "workers": workers,
        "versions": versions(), "git_commit": git_commit(), "command_line": list(command_line),
        "discriminate": discriminated,
    }
    if discriminated:
        manifest["discrimination_scale"] = DISCRIMINATION_SCALE
        manifest["variants"] = [{"key": v.key, "description": v.description, "set": dict(v.set),
                                 "scale": dict(v.scale), "power_shift_per_year": v.power_shift_per_year}
                                for v in VARIANTS]
    return manifest


def plot_discrimination(summary: Any, tables: dict[str, Any], path: Path) -> Path:
    """Left: each model's held-out fit, with ±2 Monte Carlo SE. Right: its held-out anchors' p-values."""
    import numpy as np
    from matplotlib.colors import LogNorm

    from sim.experiments.validation.anchors import ALPHA
    from sim.outputs.plots.runs import new_figure, save_figure

    fig, axes = new_figure(13.0, 0.6 * len(summary) + 2.5, ncols=2)
    left, right = axes[0]
    y = np.arange(len(summary))[::-1]
    for coding, colour, offset in (("held", "tab:blue", 0.12), ("debaltseve", "tab:orange", -0.12)):
        left.errorbar(summary[f"fit_{coding}"], y + offset, xerr=2 * summary[f"fit_{coding}_se"], fmt="o",
                      color=colour, capsize=3, label=f"Minsk II {coding}")
    left.set_yticks(y, summary["variant"].str.replace("_", " "))
    left.set_xlabel("held-out fit: log predictive probability (higher is better; bars ±2 MC SE)")
    left.legend(fontsize=8)
    left.grid(axis="x", alpha=0.3)
    held_out = [a for a in tables["default"].query("role == 'held_out'")["anchor"]]
    p = np.array([[tables[key].set_index("anchor").loc[a, "p_value"] for a in held_out]
                  for key in summary["variant"]], dtype=float)
    image = right.imshow(np.clip(p, 1e-4, 1), cmap="RdYlGn", norm=LogNorm(1e-4, 1), aspect="auto")
    for (i, j), value in np.ndenumerate(p):
        right.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=7,
                   fontweight="bold" if value < ALPHA else "normal")
    right.set_xticks(range(len(held_out)), [a.replace("_", " ") for a in held_out], rotation=40, ha="right",
                     fontsize=8)
    right.set_yticks(range(len(summary)), summary["variant"].str.replace("_", " "))
    fig.colorbar(image, ax=right, label="p-value (bold: < 0.05)")
    fig.suptitle("Discrimination: can the record tell the published model from deliberately wrong ones?")
    return save_figure(fig, path)
