"""The ``ceasefire validation`` command: every anchor tested, and with ``--discriminate`` the wrong variants.

``sim.cli.main`` registers it with ``add_validation_commands(commands)``. The exit code does not depend on
the anchors passing: 0 when the tables were written, 2 for bad input, 1 for the environment, 130 when
interrupted. The output folder is checked (:func:`sim.outputs.ownership.check_output_folder`: new, empty, or
a validation folder nobody changed since) before any simulation, and so are the markers of docs/VALIDATION.md
with ``--update-docs``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.cli.common import add_command, add_options, cap_workers, check_options, progress_bar

DEFAULT_OUT = Path("results/validation")

HELP = "test the model against the empirical record (docs/VALIDATION.md)"
DESCRIPTION = ("Run the validation scenarios and test each empirical anchor against the model; write validation.csv, "
               "validation.md, validation.png and manifest.json.")
EPILOG = """\
Every anchor gets a p-value: an exact test of the observed counts against the model's posterior
predictive distribution (a z-test on the log scale for figures known only as a range). An anchor with
p < 0.05 is marked FAIL; the exit code is 0 all the same. The held-out fit is the log predictive
probability of the held-out record (higher is better). See docs/VALIDATION.md.

--discriminate first refits the default, every bundled wrong variant and every rival structure (each
non-default form of each contested mechanism, one at a time; sim/experiments/validation/variants.py) on
the calibration evidence alone (a small ABC-SMC each, as `ceasefire calibrate`; needs
pyabc), then scores each refitted model on the held-out spells (log-likelihood ratio against the default
with its Monte Carlo error; rejected at 0.05 by a parametric bootstrap) and the held-out anchors. Writes
discrimination.csv, recalibration.csv and discrimination.png (24 refitted models: about 40 minutes on
2 idle workers by estimate; 69 minutes measured on 2 shared cores).

Every run also scores Fortna's spells by mission type (spells.csv, hazards.csv) and writes evidence.csv:
one row per item of the pre-registered plan (seeds/evidence_plan.yaml, whose SHA-256 is in manifest.json)
with its role, p-value, log predictive and whether a parameter was tuned to it (contaminated).

It also draws the record as a reader can check it (sim/experiments/validation/survival_curves.py):
km.csv and km.png, Fortna's Kaplan-Meier by mission type (the missions' panels are held-out spells)
against the model's survival among deals, with the default parameters' curve and a 90 % band over 40
draws of the calibrated posterior (seeds/posterior/posterior.csv; 24,000 worlds, about 10 seconds);
hazard_bands.csv and hazards.png, failures per year at risk per interval, record against model.

--power simulates the held-out spell record under the default and every variant and writes power.csv:
the observed log-likelihood ratio, the power of the test at alpha 0.05 and the spells 80 % power needs.
"""


def add_validation_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``validation`` on the sub-command group of the ``ceasefire`` parser; returns its parser."""
    validation = add_command(subparsers, "validation", cmd_validation, HELP, DESCRIPTION, EPILOG)
    add_options(validation, out={"default": DEFAULT_OUT, "help": f"output folder (default: {DEFAULT_OUT}/)"},
                workers={"default": 1})
    validation.add_argument("--discriminate", action="store_true",
                            help="also refit every bundled wrong variant and rival structure on the calibration "
                                 "evidence and compare their held-out fits (needs pyabc; about 40 minutes)")
    validation.add_argument("--power", action="store_true",
                            help="also simulate the held-out spell record under every wrong variant: power at "
                                 "alpha 0.05 and the spells 80%% power would need (several minutes)")
    validation.add_argument("--update-docs", action="store_true",
                            help="also refresh the tables in docs/VALIDATION.md")
    add_options(validation, quiet={"help": "no progress bar; the table is still printed"})
    return validation


def cmd_validation(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``ceasefire validation``: writes validation.csv, .md, .png, manifest.json (and the discrimination).

    SIGINT, SIGTERM and SIGHUP stop it from its first line, whichever of its threads they reach
    (:func:`sim.core.signals.interrupt_on_signals`).
    """
    from sim.core.exit_codes import EXIT_OK
    from sim.core.signals import interrupt_on_signals

    with interrupt_on_signals():
        result = validation(args, argv)
    print(report_lines(result, args.out))
    return EXIT_OK


def validation(args: argparse.Namespace, argv: Sequence[str]) -> Any:
    """Check the options, the output folder (and docs/VALIDATION.md with ``--update-docs``), then validate,
    save and refresh the docs; returns the ValidationResult."""
    from sim.experiments.validation.experiment import COMMAND, blocks_per_run, validate, worlds
    from sim.outputs.artefacts import save
    from sim.outputs.atomic import claim
    from sim.outputs.docs import update_validation_doc, validation_doc
    from sim.outputs.ownership import check_output_folder

    check_options(args)
    if args.discriminate:  # the refits need pyabc: say so before any simulation
        from sim.experiments.calibrate.fit import import_pyabc

        import_pyabc()
    workers = cap_workers(args.workers, blocks_per_run(), "blocks per run")
    doc = validation_doc(args.discriminate) if args.update_docs else None
    check_output_folder(args.out, COMMAND)
    with claim(args.out):
        with progress_bar(worlds(args.discriminate, args.power), "worlds", enabled=not args.quiet) as progress:
            result = validate(workers, progress, args.discriminate, args.power)
        save(result.artefacts(), args.out, command_line=["ceasefire", *argv])
        if doc is not None:
            update_validation_doc(result, doc)
    return result


def report_lines(result: Any, out: Path) -> str:
    """What ``ceasefire validation`` prints: the table, the fit, the failures, and the variants if run."""
    from sim.experiments.validation.anchors import CODINGS, fit_standard_error, fit_statistic, joint_tests, text_table

    table, summary = result.table, result.discrimination
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
    spells = getattr(result, "spells", None)
    if spells is not None:
        lines += ["", "spell-level (Fortna's segments by mission type, survival likelihood over exact durations):",
                  "item                 role         population  segments  failures obs/exp  log-lik   p"]
        for row in spells.itertuples():
            flags = (" FAIL" if row.failed else "") + (" CONTAMINATED" if row.contaminated else "")
            lines.append(f"{row.item:<20} {row.role:<12} {row.population:<11} {row.segments:>8}  "
                         f"{row.observed:>5} / {row.expected:<8.1f}  {row.log_lik:8.2f}  {row.p_value:.3f}{flags}")
        tainted = sorted({p for cell in spells["contaminated_by"] for p in str(cell).split(";") if p}
                         | {p for cell in table.get("contaminated_by", []) for p in str(cell).split(";") if p})
        lines.append("held-out rows contaminated (a parameter's calibrated_to names held-out evidence): "
                     + (", ".join(tainted) or "none"))
        from sim.spec.evidence_plan import plan_sha256

        lines.append(f"evidence plan seeds/evidence_plan.yaml, SHA-256 {plan_sha256()}")
    powers = getattr(result, "power", None)
    if powers is not None:
        lines += ["", "held-out spell record (primary analogue) against each variant, Neyman-Pearson test at 0.05:",
                  "variant                    dlogL (variant-default)  p(default)  p(variant)  power  spells for 80%"]
        for row in powers.itertuples():
            if isinstance(getattr(row, "note", ""), str) and row.note:
                lines.append(f"{row.variant:<26} {row.note}")
                continue
            lines.append(f"{row.variant:<26} {row.observed_llr:+7.2f} ± {row.observed_llr_se:<13.2f} "
                         f"{row.p_default:10.3f}  {row.p_variant:10.3f}  {row.power:5.2f}  "
                         f"{row.cases_for_80:,.0f} (record {row.spells})")
    if summary is not None:
        lines += ["", "variant                    fit (held)      vs default        held-out anchors failed"]
        for row in summary.itertuples():
            versus = "" if row.variant == "default" else f"{row.difference_held:+.2f} ± {row.difference_held_se:.2f}"
            lines.append(f"{row.variant:<26} {row.fit_held:7.2f} ± {row.fit_held_se:.2f}  {versus:<16}  "
                         f"{row.failed_held_out_count}: {row.failed_held_out.replace(';', ', ') or 'none'}")
    lines.append(f"results in {out}/")
    return "\n".join(lines)
