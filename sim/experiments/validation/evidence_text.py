"""The README's evidence paragraph, written from the validation's own tables (never by hand).

``ceasefire validation --discriminate --power --update-docs`` puts it between ``<!-- evidence:begin -->`` and
``<!-- evidence:end -->`` in README.md (:mod:`sim.outputs.docs`). Every figure in it comes from ``spells.csv``,
``validation.csv``, ``discrimination.csv`` and ``power.csv`` of the same run, so the paragraph cannot drift from
them: it says what the record rejects and what it cannot tell apart.
"""

from __future__ import annotations

import pandas as pd

ALPHA = 0.05
MISSION_WORDS = {"spells_none": "no-mission spells", "spells_political": "spells with a political mission only",
                 "hazard_shape": "the no-mission spells' timing",
                 "spells_monitoring": "unarmed-monitoring spells", "spells_armed": "armed-mission spells",
                 "spells_mission_gaps": "no-mission gaps inside mission spells"}


def _spell_clause(row: dict) -> str:
    verdict = "**fails**" if row["p_value"] < ALPHA else "passes"
    return (f"{verdict} the {MISSION_WORDS.get(row['item'], row['item'])} ({int(row['observed'])} failures "
            f"observed, {row['expected']:.1f} expected; p {row['p_value']:.3f})")


NOISE_FLOOR = 5.35
"""The distance a model fitted as well as the record's noise allows would show (``calibrate``'s noise floor)."""


def _provisional(refitted: pd.DataFrame, power: pd.DataFrame | None) -> str:
    """How far to trust the refitted verdicts: how well the refits fit, and where refitting flips the sign."""
    distances = refitted["calibration_distance"].dropna() if "calibration_distance" in refitted else pd.Series()
    text = ""
    if len(distances):
        text = (f"The refits are small ABC runs whose fits to the calibration evidence have median distances "
                f"{distances.min():.1f}–{distances.max():.1f} (a model fitted as well as the record's noise allows: "
                f"about {NOISE_FLOOR:.1f}), so read these verdicts as provisional.")
    if power is not None and "observed_llr" in power and "observed_llr" in refitted:
        unrefitted = power.set_index("variant")["observed_llr"]
        refit = dict(zip(refitted["variant"], refitted["observed_llr"], strict=True))
        flipped = [v for v, llr in refit.items() if v in unrefitted and pd.notna(llr) and pd.notna(unrefitted[v])
                   and abs(unrefitted[v]) > 0.05 and (llr > 0) != (unrefitted[v] > 0)]
        if flipped:
            text += (" Refitting reverses the record's lean for " + ", ".join(
                f"`{v}` ({unrefitted[v]:+.2f} at the default's values, {refit[v]:+.2f} refitted)"
                for v in flipped) + ".")
    return text.strip()


def _verdicts(models: pd.DataFrame, noun: str) -> str:
    """``reject `a` (p …) at 0.05; they reject the default in favour of …; they cannot tell the default from …``."""
    rejected = models[models["variant_rejected"].astype(bool)]
    beaten = models[models["default_rejected"].astype(bool)]
    neither = models[~models["variant_rejected"].astype(bool) & ~models["default_rejected"].astype(bool)]
    return ("reject " + (", ".join(f"`{v}` (p {p:.3f})" for v, p in zip(rejected["variant"], rejected["p_variant"],
                                                                         strict=True)) or f"no {noun}")
            + " at 0.05"
            + ("; they reject the default in favour of " + ", ".join(
                f"`{v}` (p {p:.3f})" for v, p in zip(beaten["variant"], beaten["p_default"], strict=True))
               if len(beaten) else "")
            + "; they cannot tell the default from "
            + (", ".join(f"`{v}`" for v in neither["variant"]) or "none of them") + ".")


def _family_wise(discrimination: pd.DataFrame) -> str:
    """What survives Holm's correction over all the comparisons with the default (both directions)."""
    from sim.experiments.validation.discrimination import compared, with_holm

    table = with_holm(discrimination)
    table = table[compared(table)]
    if not len(table):
        return ""
    kept = table[table["p_variant_holm"] < ALPHA]
    text = (f"Over all {len(table)} comparisons, Holm's correction at a family-wise 0.05 keeps the rejection of "
            + (", ".join(f"`{v}`" for v in kept["variant"]) or "none of them"))
    lost = table[(table["variant_rejected"].astype(bool)) & (table["p_variant_holm"] >= ALPHA)]
    if len(lost):
        text += " only, not of " + ", ".join(f"`{v}` (adjusted p {p:.3f})" for v, p in
                                              zip(lost["variant"], lost["p_variant_holm"], strict=True))
    beaten = table[table["default_rejected"].astype(bool)]
    if len(beaten):
        survives = beaten[beaten["p_default_holm"] < ALPHA]
        text += ("; the default's rejection in favour of " + ", ".join(
            f"`{v}` (adjusted p {p:.3f})" for v, p in zip(beaten["variant"], beaten["p_default_holm"], strict=True))
            + (" survives it" if len(survives) == len(beaten) else " does not survive it"))
    return text + "."


def evidence_paragraph(spells: pd.DataFrame, table: pd.DataFrame, discrimination: pd.DataFrame | None,
                       power: pd.DataFrame | None, record_horizon_years: int = 10) -> str:
    """The paragraph, from a validation's tables (``discrimination`` and ``power`` may be None: not run)."""
    primary = spells[spells["population"] == "primary"].set_index("item")
    calibration = [key for key in ("spells_none", "spells_political") if key in primary.index]
    held_out = [key for key in ("spells_monitoring", "spells_armed", "spells_mission_gaps") if key in primary.index]
    parts = ["Against Fortna's spell-level record of post-Cold War civil-war ceasefires (primary analogue), scored "
             "over the exact censored durations, the default model with its committed values "
             + "; ".join(_spell_clause({**primary.loc[key].to_dict(), 'item': key}) for key in calibration)
             + " (calibration evidence), and "
             + "; ".join(_spell_clause({**primary.loc[key].to_dict(), 'item': key}) for key in held_out)
             + " (held out)."]
    anchors = table[table["role"] == "held_out"]
    failed = list(anchors.loc[anchors["failed"], "anchor"])
    parts.append(f"It fails {len(failed)} of {len(anchors)} held-out anchors"
                 + (f" ({', '.join(f'`{a}`' for a in failed)})." if failed else "."))
    tainted = int(spells["contaminated"].sum()) if "contaminated" in spells else 0
    parts.append("No held-out row is contaminated (no committed parameter was tuned to held-out evidence)."
                 if tainted == 0 else f"{tainted} held-out rows are contaminated by a parameter tuned to them.")
    if discrimination is not None:
        compared = discrimination[(discrimination["variant"] != "default")
                                  & discrimination.get("note", pd.Series("", index=discrimination.index))
                                  .fillna("").eq("")]
        family = compared["kind"] if "kind" in compared else pd.Series("wrong_variant", index=compared.index)
        wrong = compared[family != "rival_structure"]
        rivals = compared[family == "rival_structure"]
        parts.append("With every model refitted on the calibration evidence first, the held-out spells "
                     + _verdicts(wrong, "wrong variant"))
        if len(rivals):
            parts.append(f"Of the {len(rivals)} rival structures (one contested mechanism at a time in another "
                         "form, each refitted), they " + _verdicts(rivals, "rival structure"))
        parts.append(_family_wise(discrimination))
        parts.append(_provisional(compared, power))
    if power is not None and "power" in power:
        rows = power[power["power"].notna()] if "power" in power else power
        parts.append("The power of the held-out record at α = 0.05 is "
                     + ", ".join(f"{r.power:.2f} against `{r.variant}` ({r.cases_for_80:,.0f} spells for 80 %)"
                                 for r in rows.itertuples())
                     + f"; the record has {int(rows['spells'].iloc[0])} held-out spells." if len(rows) else "")
    parts.append(f"Headlines beyond {record_horizon_years} years lie outside what the record covers.")
    return " ".join(p for p in parts if p)
