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
from sim.experiments.validation import anchors, power, spell_level, variants
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
    """

    table: pd.DataFrame
    workers: int = 1
    discrimination: pd.DataFrame | None = None
    spells: pd.DataFrame | None = None
    hazards: pd.DataFrame | None = None
    power: pd.DataFrame | None = None

    def markdown(self) -> str:
        """The validation tables as in docs/VALIDATION.md's ``validation`` block."""
        return anchors.markdown(self.table)

    def discrimination_markdown(self) -> str | None:
        """The discrimination table as in docs/VALIDATION.md's ``discrimination`` block; None if not run."""
        return None if self.discrimination is None else variants.discrimination_markdown(self.discrimination)

    def spells_markdown(self) -> str | None:
        """The spell-level rows and hazards as in docs/VALIDATION.md's ``spells`` block; None if not run."""
        return None if self.spells is None else spells_markdown(self.spells, self.hazards)

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
            fields["variants"] = [{"key": v.key, "description": v.description, "set": dict(v.set),
                                   "scale": dict(v.scale), "power_shift_per_year": v.power_shift_per_year}
                                  for v in variants.VARIANTS]
        return Artefacts(COMMAND, tables=tables, manifest=fields, texts=texts, figures=figures)


def blocks_per_run() -> int:
    """The most blocks of worlds one validation run splits into: more workers than that would idle."""
    return max(math.ceil(run.replications / BLOCK_WORLDS) for run in anchors.RUNS)


def worlds(discriminate: bool = False, power_too: bool = False) -> int:
    """Worlds a validation simulates (with the variants if ``discriminate``, and their spell runs if
    ``power_too``), for a progress bar."""
    total = sum(run.replications for run in anchors.RUNS)
    if discriminate:
        total += round(total * variants.DISCRIMINATION_SCALE) * (1 + len(variants.VARIANTS))
    spell_worlds = sum(m.replications for m in spell_level.MISSION_SCENARIOS.values())
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
             discriminate: bool = False, power_too: bool = False) -> ValidationResult:
    """Run the validation (:func:`sim.experiments.validation.anchors.run_validation`) and the spell-level
    rows (:mod:`sim.experiments.validation.spell_level`); if ``discriminate``, the default model and every bundled
    wrong variant at half the worlds; if ``power_too``, the held-out spell record's power against every variant
    (:mod:`sim.experiments.validation.power`)."""
    table = anchors.run_validation(workers=workers, progress=progress)
    spell_runs = spell_level.simulate(workers, progress)
    spells = spell_level.spell_table(spell_runs, contamination=anchors.contamination())
    hazards = spell_level.hazard_table(spell_runs)
    summary = variants.discriminate(workers=workers, progress=progress)[0] if discriminate else None
    powers = power.power_table(workers=workers, progress=progress) if power_too else None
    return ValidationResult(table, workers, summary, spells, hazards, powers)
