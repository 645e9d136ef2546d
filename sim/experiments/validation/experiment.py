"""``ceasefire validation`` as an experiment: run the validation (and, if asked, the wrong variants) and
hand the tables, their Markdown and the figures to draw to the outputs layer.

Computes only: :func:`validate` returns a :class:`ValidationResult` whose :meth:`~ValidationResult.artefacts`
lists what the output folder holds; :func:`sim.outputs.artefacts.save` writes it and
:mod:`sim.outputs.plots.validation` draws ``validation.png`` (and ``discrimination.png``) from the CSVs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from sim.engine.runner import BLOCK_WORLDS
from sim.experiments.result import Artefacts
from sim.experiments.validation import (
    anchors,
    discrimination,
    evidence_text,
    power,
    recalibrate,
    spell_level,
    survival_curves,
    variants,
)
from sim.spec.evidence_plan import EvidencePlan, bundled_plan

COMMAND = "validation"


@dataclass
class ValidationResult:
    """Every anchor tested (``table``, one row per anchor) and, with ``--discriminate``, the variants' lines.

    Attributes:
        table: the validation table (:func:`sim.experiments.validation.anchors.validation_table`).
        workers: the local processes it ran on (the tables do not depend on it).
        discrimination: one row per model, the default first (:func:`sim.experiments.validation.variants.
            discriminate`), or None when the variants were not run.
        km: the record's Kaplan-Meier by mission group beside the model's curves (``km.csv``,
            :func:`sim.experiments.validation.survival_curves.km_table`).
        hazard_bands: failures per year at risk, record against model (``hazard_bands.csv``).
        band: the posterior band's manifest fields, or None when it was not simulated.
    """

    table: pd.DataFrame
    workers: int = 1
    discrimination: pd.DataFrame | None = None
    spells: pd.DataFrame | None = None
    hazards: pd.DataFrame | None = None
    power: pd.DataFrame | None = None
    km: pd.DataFrame | None = None
    hazard_bands: pd.DataFrame | None = None
    band: dict | None = None
    recalibration: pd.DataFrame | None = None  # with --discriminate: each model's refitted parameters

    def markdown(self) -> str:
        """The validation tables as in docs/VALIDATION.md's ``validation`` block."""
        return anchors.markdown(self.table)

    def discrimination_markdown(self) -> str | None:
        """The discrimination table as in docs/VALIDATION.md's ``discrimination`` block; None if not run."""
        return None if self.discrimination is None else discrimination.discrimination_markdown(self.discrimination)

    def evidence_markdown(self) -> str | None:
        """The README's evidence paragraph, written from these tables; None unless the spell rows, the
        discrimination and the power were all run."""
        if self.spells is None or self.discrimination is None or self.power is None:
            return None
        from sim.spec.validity import bundled_coverage

        years = round(bundled_coverage().record_horizon_days / 365.25)
        return evidence_text.evidence_paragraph(self.spells, self.table, self.discrimination, self.power, years)

    def spells_markdown(self) -> str | None:
        """The spell-level rows and hazards as in docs/VALIDATION.md's ``spells`` block; None if not run."""
        return None if self.spells is None else spells_markdown(self.spells, self.hazards)

    def survival_markdown(self) -> str | None:
        """Survival at 1 and 5 years and the hazards, record against model, as in docs/VALIDATION.md's
        ``survival_curves`` block; None if not computed."""
        if self.km is None or self.hazard_bands is None:
            return None
        return survival_curves.km_markdown(self.km, self.hazard_bands)

    def artefacts(self) -> Artefacts:
        """validation.csv and .md (and discrimination.csv and .md), the figures, the manifest's fields."""
        tables = {"validation.csv": self.table}
        texts = {"validation.md": self.markdown() + "\n"}
        figures: tuple[str, ...] = ("validation.png",)
        plan = bundled_plan()
        fields = {"seed": anchors.SEED, "runs": [asdict(run) for run in anchors.RUNS], "workers": self.workers,
                  "discriminate": self.discrimination is not None,
                  "evidence_plan": "seeds/evidence_plan.yaml", "evidence_plan_sha256": plan.sha256}
        if self.spells is not None:
            tables["spells.csv"] = self.spells
            tables["evidence.csv"] = evidence_table(self.table, self.spells, plan)
            texts["spells.md"] = spells_markdown(self.spells, self.hazards) + "\n"
            fields["spell_runs"] = [{"key": m.key, "scenario": m.scenario, "mapping": m.description,
                                     "replications": m.replications, "overrides": dict(m.overrides),
                                     "horizon_days": spell_level.HORIZON_DAYS, "seed": spell_level.SEED}
                                    for m in spell_level.MISSION_SCENARIOS.values()]
            fields["spell_breaks_days"] = list(spell_level.BREAKS_DAYS)
        if self.hazards is not None:
            tables["hazards.csv"] = self.hazards
        if self.km is not None and self.hazard_bands is not None:
            tables["km.csv"] = self.km
            tables["hazard_bands.csv"] = self.hazard_bands
            texts["survival_curves.md"] = f"{self.survival_markdown()}\n"
            figures += ("km.png", "hazards.png")
            fields["survival_curves"] = {"confidence": survival_curves.CONFIDENCE, "population": "primary analogue",
                                         "panels": {g: {"item": p.item, "pkop": list(p.pkop), "spells": p.spells}
                                                    for g, p in survival_curves.PANELS.items()},
                                         "posterior_band": self.band}
        if self.power is not None:
            tables["power.csv"] = self.power
            texts["power.md"] = power.power_markdown(self.power) + "\n"
            fields.update(power_scale=power.POWER_SCALE, power_draws=power.DRAWS, power_seed=power.SEED,
                          power_alpha=power.ALPHA, power_population="primary analogue, held-out spell groups")
        if self.discrimination is not None:
            tables["discrimination.csv"] = self.discrimination
            texts["discrimination.md"] = f"{self.discrimination_markdown()}\n"
            figures += ("discrimination.png",)
            fields["discrimination_scale"] = variants.DISCRIMINATION_SCALE
            fields["discrimination_spell_scale"] = discrimination.SPELL_SCALE
            fields["recalibration"] = {"method": "ABC-SMC as ceasefire calibrate (the calibration spells' life table "
                                                 "and the OSCE violations); each model's own overrides fixed; "
                                                 "plug-in: the posterior's weighted median of each fitted parameter",
                                       "settings": asdict(recalibrate.SETTINGS)}
            if self.recalibration is not None:
                tables["recalibration.csv"] = self.recalibration
            fields["variants"] = [{"key": v.key, "description": v.description, "set": dict(v.set),
                                   "scale": dict(v.scale), "power_shift_per_year": v.power_shift_per_year}
                                  for v in variants.DISCRIMINATED]
        return Artefacts(COMMAND, tables=tables, manifest=fields, texts=texts, figures=figures)


def blocks_per_run() -> int:
    """The most blocks of worlds one validation run splits into: more workers than that would idle."""
    return max(math.ceil(run.replications / BLOCK_WORLDS) for run in anchors.RUNS)


def worlds(discriminate: bool = False, power_too: bool = False, bands: bool = True) -> int:
    """Worlds a validation simulates (with the variants if ``discriminate``, their spell runs if
    ``power_too``, the posterior band if ``bands``), for a progress bar."""
    total = sum(run.replications for run in anchors.RUNS)
    if bands and survival_curves.posterior_available():
        total += survival_curves.band_worlds()
    spell_worlds = sum(m.replications for m in spell_level.MISSION_SCENARIOS.values())
    if discriminate:  # the recalibrations report no worlds: the bar pauses while each model is refitted
        total += (round(sum(run.replications for run in anchors.RUNS) * variants.DISCRIMINATION_SCALE)
                  + round(spell_worlds * discrimination.SPELL_SCALE)) * (1 + len(variants.DISCRIMINATED))
    if power_too:
        total += round(spell_worlds * power.POWER_SCALE) * (1 + len(variants.VARIANTS))
    return total + spell_worlds


def evidence_table(table: pd.DataFrame, spells: pd.DataFrame, plan: EvidencePlan) -> pd.DataFrame:
    """One row per item of the evidence plan: its role, the test that scores it, p-value, log predictive,
    whether it failed and whether a parameter was tuned to it (held-out rows only).

    Anchors take their row of the validation table (a nested group's joint test is in ``validation.md``);
    spell groups and the hazard's shape their primary-analogue row of ``spells.csv``; the hazard ratios have no
    test of their own (scored through ``peacekeeping_hazard_reduction`` and the spell rows by mission type).
    """
    tainted = anchors.contamination()
    rows = []
    for item in plan.items:
        row = {"item": item.key, "kind": item.kind, "role": item.role, "test": "", "p_value": np.nan,
               "log_predictive": np.nan, "failed": False}
        if item.kind == "anchor":
            found = table[table["anchor"] == item.key]
            if len(found):
                hit = found.iloc[0]
                row.update(test="exact beta-binomial" if pd.notna(hit["observed_events"]) else "z on the log scale",
                           p_value=hit["p_value"], log_predictive=hit["log_lik"], failed=bool(hit["failed"]))
        elif item.kind in ("spell_group", "hazard_shape"):
            found = spells[(spells["item"] == item.key) & (spells["population"] == "primary")]
            if len(found):
                hit = found.iloc[0]
                row.update(test="failures vs the model's hazard, simulated record (primary analogue)",
                           p_value=hit["p_value"], log_predictive=hit["log_lik"], failed=bool(hit["failed"]))
        else:
            row["test"] = "none of its own: peacekeeping_hazard_reduction and the spell rows by mission type"
        touched = tainted.get(item.key, ()) if item.role == "held_out" else ()
        rows.append({**row, "contaminated": bool(touched), "contaminated_by": ";".join(touched),
                     "reason": item.reason})
    return pd.DataFrame(rows)


def spells_markdown(spells: pd.DataFrame, hazards: pd.DataFrame | None) -> str:
    """The spell-level rows (and the hazards per year at risk) as Markdown, as in docs/VALIDATION.md."""
    lines = ["| item | role | population | scenario (mapping) | segments | failures observed / expected "
             "| log-lik | p (failures) | p (log-lik) |", "|---|---|---|---|---|---|---|---|---|"]
    for row in spells.itertuples():
        role = f"{row.role} (contaminated: {row.contaminated_by})" if row.contaminated else row.role
        p = f"{row.p_value:.3f}"
        lines.append(f"| `{row.item}` | {role} | {row.population} | {row.scenario} ({row.mapping}) | {row.segments} "
                     f"| {row.observed} / {row.expected:.1f} | {row.log_lik:.2f} "
                     f"| {f'**{p}**' if row.failed else p} | {row.p_log_lik:.3f} |")
    if hazards is not None:
        columns = [c for c in hazards.columns if c.endswith("_per_year")]
        lines += ["", "| days | " + " | ".join(c.removesuffix("_per_year").replace("_", " ") for c in columns)
                  + " |", "|---|" + "---|" * len(columns)]
        for row in hazards.itertuples(index=False):
            values = " | ".join(f"{getattr(row, c):.3f}" for c in columns)
            lines.append(f"| {row.start_day}-{row.end_day} | {values} |")
    return "\n".join(lines)


def validate(workers: int = 1, progress: Callable[[int], None] | None = None,
             discriminate: bool = False, power_too: bool = False, bands: bool = True) -> ValidationResult:
    """Run the validation (:func:`sim.experiments.validation.anchors.run_validation`) and the spell-level
    rows (:mod:`sim.experiments.validation.spell_level`) with their survival curves and hazards beside the
    model's (:mod:`sim.experiments.validation.survival_curves`: with the posterior band if ``bands``); if
    ``discriminate``, the default model, every bundled wrong variant and every rival structure, each
    recalibrated on the calibration evidence first (:mod:`sim.experiments.validation.discrimination`); if
    ``power_too``, the held-out spell record's power against every wrong variant
    (:mod:`sim.experiments.validation.power`)."""
    table = anchors.run_validation(workers=workers, progress=progress)
    spell_runs = spell_level.simulate(workers, progress)
    spells = spell_level.spell_table(spell_runs, contamination=anchors.contamination())
    hazards = spell_level.hazard_table(spell_runs)
    # the band's 24,000 worlds run packed in this process: at that size a day's fixed cost dominates, and
    # splitting them into smaller packs for two workers took several times as long on 2 cores (at 12,000 worlds:
    # 42 s against 6.5 s); the tables are the same either way
    band = survival_curves.simulate_band(1, progress) if bands and survival_curves.posterior_available() else None
    km = survival_curves.km_table(spell_runs, band)
    hazard_bands = survival_curves.hazard_band_table(spell_runs, band)
    summary, refits = discrimination.discriminate(workers=workers, progress=progress) if discriminate else (None, None)
    powers = power.power_table(workers=workers, progress=progress) if power_too else None
    return ValidationResult(table, workers, summary, spells, hazards, powers, km, hazard_bands,
                            None if band is None else band.describe(), refits)
