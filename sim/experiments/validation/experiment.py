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

import pandas as pd

from sim.engine.runner import BLOCK_WORLDS
from sim.experiments.result import Artefacts
from sim.experiments.validation import anchors, variants

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

    def markdown(self) -> str:
        """The validation tables as in docs/VALIDATION.md's ``validation`` block."""
        return anchors.markdown(self.table)

    def discrimination_markdown(self) -> str | None:
        """The discrimination table as in docs/VALIDATION.md's ``discrimination`` block; None if not run."""
        return None if self.discrimination is None else variants.discrimination_markdown(self.discrimination)

    def artefacts(self) -> Artefacts:
        """validation.csv and .md (and discrimination.csv and .md), the figures, the manifest's fields."""
        tables = {"validation.csv": self.table}
        texts = {"validation.md": self.markdown() + "\n"}
        figures: tuple[str, ...] = ("validation.png",)
        fields = {"seed": anchors.SEED, "runs": [asdict(run) for run in anchors.RUNS], "workers": self.workers,
                  "discriminate": self.discrimination is not None}
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


def worlds(discriminate: bool = False) -> int:
    """Worlds a validation simulates (with the variants if ``discriminate``), for a progress bar."""
    total = sum(run.replications for run in anchors.RUNS)
    if discriminate:
        total += round(total * variants.DISCRIMINATION_SCALE) * (1 + len(variants.VARIANTS))
    return total


def validate(workers: int = 1, progress: Callable[[int], None] | None = None,
             discriminate: bool = False) -> ValidationResult:
    """Run the validation (:func:`sim.experiments.validation.anchors.run_validation`) and, if
    ``discriminate``, the default model and every bundled wrong variant at half the worlds."""
    table = anchors.run_validation(workers=workers, progress=progress)
    summary = variants.discriminate(workers=workers, progress=progress)[0] if discriminate else None
    return ValidationResult(table, workers, summary)
