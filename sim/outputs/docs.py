"""``ceasefire validation --update-docs``: the generated tables of docs/VALIDATION.md refreshed in place.

The tables sit between ``<!-- validation:begin -->`` / ``<!-- validation:end -->`` and, for the variants,
``<!-- discrimination:begin -->`` / ``<!-- discrimination:end -->``, and for Fortna's spells by mission type
``<!-- spells:begin -->`` / ``<!-- spells:end -->`` and, with ``--power``, ``<!-- power:begin -->`` /
``<!-- power:end -->``, and for the survival curves and hazards by mission type ``<!-- survival_curves:begin -->``
/ ``<!-- survival_curves:end -->`` (refreshed when present) (:mod:`sim.core.docblocks`); after a full run
(``--discriminate --power``), README.md's evidence paragraph (``<!-- evidence:begin -->``); the rest
of the document is kept byte for byte, and the file is replaced atomically.
"""

from __future__ import annotations

from pathlib import Path

from sim.core.bundled import checkout_root
from sim.core.docblocks import has_block, markers, replace_block
from sim.core.errors import InputError
from sim.experiments.validation.experiment import ValidationResult
from sim.outputs.atomic import atomic_file

VALIDATION_DOC = Path("docs") / "VALIDATION.md"
"""The validation document, relative to the checkout."""

VALIDATION_BLOCK, DISCRIMINATION_BLOCK, SPELLS_BLOCK, POWER_BLOCK = "validation", "discrimination", "spells", "power"
SURVIVAL_BLOCK = "survival_curves"
EVIDENCE_BLOCK = "evidence"
"""README.md's evidence paragraph, written from the tables (:mod:`sim.experiments.validation.evidence_text`)."""
README = Path("README.md")


def validation_doc(discriminate: bool = False) -> Path:
    """docs/VALIDATION.md of this checkout, checked to hold the blocks an update with(out) the variants
    replaces; call it before any work.

    Raises:
        InputError: the package does not run from a checkout, or the document or a block is missing.
    """
    root = checkout_root()
    if root is None:
        raise InputError(f"--update-docs: {VALIDATION_DOC} is refreshed only in a checkout of the project "
                         "(this package is installed)")
    path = root / VALIDATION_DOC
    try:
        document = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: --update-docs: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    for name in (VALIDATION_BLOCK, DISCRIMINATION_BLOCK)[: 2 if discriminate else 1]:
        if not has_block(document, name):
            begin, end = markers(name)
            raise InputError(f"{path}: --update-docs: the markers {begin} and {end} are missing; put them back "
                             "around the table")
    return path


def update_validation_doc(result: ValidationResult, path: Path) -> Path:
    """Replace the validation table (and the discrimination table, if run) in ``path`` (docs/VALIDATION.md)."""
    document = replace_block(path.read_text(encoding="utf-8"), VALIDATION_BLOCK, result.markdown())
    discrimination = result.discrimination_markdown()
    if discrimination is not None:
        document = replace_block(document, DISCRIMINATION_BLOCK, discrimination)
    spells = result.spells_markdown()
    if spells is not None and has_block(document, SPELLS_BLOCK):
        document = replace_block(document, SPELLS_BLOCK, spells)
    survival = result.survival_markdown()
    if survival is not None and has_block(document, SURVIVAL_BLOCK):
        document = replace_block(document, SURVIVAL_BLOCK, survival)
    if result.power is not None and has_block(document, POWER_BLOCK):
        from sim.experiments.validation.power import power_markdown

        document = replace_block(document, POWER_BLOCK, power_markdown(result.power))
    with atomic_file(path) as tmp:
        tmp.write_text(document, encoding="utf-8")
    update_readme_evidence(result, path.parent.parent / README)
    return path


def update_readme_evidence(result: ValidationResult, readme: Path) -> bool:
    """Refresh the README's evidence paragraph (``<!-- evidence:begin -->`` / ``<!-- evidence:end -->``) from a
    validation that ran every part (``--discriminate --power``); True if it was written. A README without the
    markers, or a partial validation, leaves it as it is."""
    paragraph = result.evidence_markdown()
    if paragraph is None or not readme.is_file():
        return False
    document = readme.read_text(encoding="utf-8")
    if not has_block(document, EVIDENCE_BLOCK):
        return False
    with atomic_file(readme) as tmp:
        tmp.write_text(replace_block(document, EVIDENCE_BLOCK, paragraph), encoding="utf-8")
    return True
