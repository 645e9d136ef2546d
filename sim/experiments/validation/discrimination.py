"""``ceasefire validation --discriminate``: each model recalibrated, then its held-out fit against the default's.

1. Every model (the default, each wrong variant of :mod:`sim.experiments.validation.variants` and each rival
   structure: every non-default form of every contested mechanism, one at a time) is fitted on the calibration
   evidence alone (:mod:`sim.experiments.validation.recalibrate`).
2. Each recalibrated model's held-out spell record is scored (:mod:`sim.experiments.validation.power`) against its
   posterior predictive hazards (every world draws a particle of its refitted posterior): the
   log-likelihood ratio ``ΔlogL = log L(variant) − log L(default)`` of the held-out spells by mission type, with
   its Monte Carlo error (both models' hazards redrawn from their simulation error), and the parametric-bootstrap
   tests of each model against the other (Cox's test of non-nested models, by simulation): a variant is
   **rejected at 0.05** when records simulated under it favour the default at least as much as the real one in
   under 5 % of draws (``p_variant``); the default likewise (``p_default``).
3. The held-out anchors (Fortna's mission counts, the published hazard reduction) are scored for each
   recalibrated model too, at its posterior's weighted medians (:func:`sim.experiments.validation.variants.
   discrimination_row`).

The refits are small (:data:`sim.experiments.validation.recalibrate.SETTINGS`), so each refitted posterior is
coarse; read a rejection as provisional where the model's fit to the calibration evidence is poor.

Computes only; :mod:`sim.experiments.validation.experiment` hands the tables on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.validation import anchors, power, recalibrate, variants
from sim.experiments.validation.variants import DEFAULT, DISCRIMINATED, Variant

SPELL_SCALE = 0.25
"""Share of the spell runs' worlds (:data:`sim.experiments.validation.spell_level.MISSION_SCENARIOS`) each
recalibrated model runs with (2,000 worlds a mission group, ten years)."""


def discriminate(workers: int = 1, progress: Callable[[int], None] | None = None,
                 variants_: Sequence[Variant] = DISCRIMINATED, settings: Any = recalibrate.SETTINGS,
                 scale: float = variants.DISCRIMINATION_SCALE, spell_scale: float = SPELL_SCALE,
                 executor: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recalibrate every model, then compare the held-out fits (:func:`compare`). Returns the discrimination
    table (one row per model, the default first; a model that cannot be built is a row with its reason) and the
    recalibration table (:func:`sim.experiments.validation.recalibrate.recalibration_table`)."""
    models, skipped = recalibrate.recalibrate_all(variants_, settings, workers=workers, executor=executor)
    summary = compare(models, skipped, variants_, workers, progress, scale, spell_scale)
    return summary, recalibrate.recalibration_table(models)


def as_is(model: Variant) -> recalibrate.Recalibrated:
    """``model`` at its own values, not refitted (for tests and for comparing with the refitted table)."""
    return recalibrate.Recalibrated(model, {}, pd.DataFrame(), float("nan"), 0.0)


def compare(models: dict[str, recalibrate.Recalibrated], skipped: dict[str, str], variants_: Sequence[Variant],
            workers: int = 1, progress: Callable[[int], None] | None = None,
            scale: float = variants.DISCRIMINATION_SCALE, spell_scale: float = SPELL_SCALE) -> pd.DataFrame:
    """The held-out fits of ``models`` (by key; the default's is the reference) against the default's: one row
    per model, the default first, with Holm's family-wise p over the models compared (:func:`with_holm`)."""
    record = power.held_out_record()
    default = models[DEFAULT.key]
    default_counts = power.model_hazards(power.simulate_model(default.model, workers, progress, spell_scale,
                                                              default.posterior))
    default_anchors = anchors.validation_table(anchors.simulate(workers, progress, scale,
                                                                overrides=default.model.overrides))
    rows = [{"kind": "default", **_anchor_columns(default.model, default_anchors, default_anchors),
             "calibration_distance": round(default.median_distance, 4), "fitted": _fitted_text(default.fitted),
             "observed_llr": 0.0, "observed_llr_se": 0.0, "p_default": float("nan"), "p_variant": float("nan"),
             "default_rejected": False, "variant_rejected": False, "note": ""}]
    for wrong in variants_:
        family = variants.kind(wrong.key)
        if wrong.key in skipped or wrong.key not in models:
            rows.append({"kind": family, "variant": wrong.key, "description": wrong.description,
                         "note": f"not run: {skipped.get(wrong.key, 'not refitted')}"})
            continue
        refit = models[wrong.key]
        try:
            counts = power.model_hazards(power.simulate_model(refit.model, workers, progress, spell_scale,
                                                              refit.posterior))
            table = anchors.validation_table(anchors.simulate(workers, progress, scale,
                                                              overrides=refit.model.overrides))
        except ValueError as exc:  # e.g. the power shift when Ukraine rearms faster than Russia
            rows.append({"kind": family, "variant": wrong.key, "description": wrong.description,
                         "note": f"not run: {exc}"})
            continue
        tested = power.power_row(refit.model, counts, default_counts, record)
        rows.append({"kind": family, **_anchor_columns(refit.model, table, default_anchors),
                     "calibration_distance": round(refit.median_distance, 4), "fitted": _fitted_text(refit.fitted),
                     **{k: tested[k] for k in ("observed_llr", "observed_llr_se", "p_default", "p_variant",
                                               "default_rejected", "variant_rejected")},
                     "note": ""})
    return with_holm(pd.DataFrame(rows))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of ``p_values`` (NaN left out of the family and returned as NaN): a model is
    rejected at family-wise level ``alpha`` when its adjusted p is below ``alpha``. With one comparison per model
    (23 here) some p below 0.05 are expected by chance; Holm controls the chance of any false rejection."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = order.size
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def compared(summary: pd.DataFrame) -> pd.Series:
    """Which rows of a discrimination table were compared with the default (not the default, not skipped)."""
    notes = summary["note"].fillna("") if "note" in summary else pd.Series("", index=summary.index)
    return (summary["variant"] != DEFAULT.key) & notes.eq("")


def with_holm(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with ``p_variant_holm`` and ``p_default_holm``: Holm-adjusted over the models compared."""
    out = summary.copy()
    tested = compared(summary)
    for column in ("p_variant", "p_default"):
        values = np.where(tested, pd.to_numeric(summary[column], errors="coerce"), np.nan)
        out[f"{column}_holm"] = holm(values)
    return out


def _anchor_columns(model: Variant, table: pd.DataFrame, reference: pd.DataFrame) -> dict[str, Any]:
    """The held-out anchors' columns of :func:`sim.experiments.validation.variants.discrimination_row`."""
    return variants.discrimination_row(model, table, reference)


def _fitted_text(fitted: dict[str, float]) -> str:
    return "; ".join(f"{path.rsplit('.', 1)[-1]}={value:.4g}" for path, value in fitted.items())


def discrimination_markdown(summary: pd.DataFrame) -> str:
    """The discrimination table as Markdown, as in docs/VALIDATION.md (with Holm's family-wise p)."""
    summary = with_holm(summary)
    family = int(compared(summary).sum())
    lines = ["| model (recalibrated) | fit to calibration (median distance) | held-out spells: ΔlogL vs default "
             f"| p under the variant | rejected at 0.05 | Holm-adjusted p ({family} comparisons) "
             "| held-out anchors: fit difference |",
             "|---|---|---|---|---|---|---|"]
    families = summary["kind"] if "kind" in summary else pd.Series("", index=summary.index)
    for kind, row in zip(families, summary.itertuples(), strict=True):
        if kind == "rival_structure" and not any(line.startswith("| *rival") for line in lines):
            lines.append("| *rival structures: one mechanism in another form* | | | | | | |")
        note = getattr(row, "note", "")
        if isinstance(note, str) and note:
            lines.append(f"| `{row.variant}` | {note} | | | | | |")
            continue
        if row.variant == DEFAULT.key:
            verdict = "—"
            llr, p, holm_p, anchor = "—", "—", "—", "—"
        else:
            verdict = "**variant rejected**" if row.variant_rejected else (
                "default rejected" if row.default_rejected else "neither")
            llr = f"{row.observed_llr:+.2f} ± {row.observed_llr_se:.2f}"
            p = f"{row.p_variant:.3f}"
            holm_p = f"{row.p_variant_holm:.3f}" if not row.default_rejected else \
                f"{row.p_variant_holm:.3f} (default: {row.p_default_holm:.3f})"
            anchor = f"{row.difference_held:+.2f} ± {row.difference_held_se:.2f}"
        lines.append(f"| `{row.variant}` | {row.calibration_distance:.1f} | {llr} | {p} | {verdict} | {holm_p} "
                     f"| {anchor} |")
    return "\n".join(lines)
