"""The pre-registered evidence plan: every piece of evidence and its role (``seeds/evidence_plan.yaml``).

``calibration`` items may be fitted to (and the design may have looked at them); ``held_out`` items choose no
value, form or prior: ``ceasefire calibrate`` asks for its evidence through :func:`calibration_keys` (a
held-out key is refused), and ``ceasefire validation`` scores them. The plan's SHA-256 goes into every
validation and calibrate manifest, so a result says which plan it was made under.

Contamination: a parameter of ``seeds/commitments.yaml`` whose ``calibrated_to`` names a held-out item (or an
item that ``overlaps`` a held-out one: it rests on the same cases) has been tuned to held-out evidence;
:func:`contaminating_parameters` lists them per item, and the validation marks those rows ``contaminated``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.core.bundled import SEEDS_DIR
from sim.core.errors import InputError
from sim.core.strict_yaml import load_yaml

PLAN_NAME = "evidence_plan.yaml"
PLAN_FILE = SEEDS_DIR / PLAN_NAME
"""The bundled plan (``seeds/evidence_plan.yaml`` mirrored into the package by ``make bundle``)."""

Role = Literal["calibration", "held_out"]
ROLES: tuple[str, ...] = ("calibration", "held_out")
Kind = Literal["anchor", "spell_group", "hazard_shape", "hazard_ratio"]


class EvidenceItem(BaseModel):
    """One piece of evidence: its key, what kind it is, its role and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    role: Role
    reason: str = Field(min_length=10)
    overlaps: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    pkop: tuple[int, ...] = ()  # spell groups: the segments' own mission codes (0-5)
    spells: Role | None = None  # spell groups: segments of calibration spells (never a mission) or held-out ones

    @model_validator(mode="after")
    def _spell_group_fields(self) -> EvidenceItem:
        if self.kind == "spell_group":
            if not self.pkop or any(code not in range(6) for code in self.pkop) or self.spells is None:
                raise ValueError(f"{self.key}: a spell_group needs pkop (codes 0-5) and spells (its spells' role)")
            if self.spells == "held_out" and self.role != "held_out":
                raise ValueError(f"{self.key}: segments of held-out spells cannot have the calibration role")
        elif self.pkop or self.spells is not None:
            raise ValueError(f"{self.key}: pkop and spells belong to spell_group items only")
        return self


class _PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    record_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    items: list[EvidenceItem] = Field(min_length=1)


@dataclass(frozen=True)
class EvidencePlan:
    """The validated plan: its items by key, the file's SHA-256 and the record's hash it was written for."""

    items: tuple[EvidenceItem, ...]
    sha256: str
    record_sha256: str
    source: str

    def item(self, key: str) -> EvidenceItem:
        """The item of ``key``.

        Raises:
            InputError: the plan has no such item.
        """
        for item in self.items:
            if item.key == key:
                return item
        raise InputError(f"{self.source}: no evidence item '{key}' (every piece of evidence must be pre-registered)")

    def role(self, key: str) -> str:
        """``calibration`` or ``held_out``."""
        return self.item(key).role

    def item_keys(self, role: str | None = None, kind: str | None = None) -> tuple[str, ...]:
        """Keys of the items with that role and kind (all if None), in the plan's order."""
        return tuple(i.key for i in self.items if role in (None, i.role) and kind in (None, i.kind))

    def calibration_items(self) -> tuple[EvidenceItem, ...]:
        return tuple(i for i in self.items if i.role == "calibration")

    def held_out_items(self) -> tuple[EvidenceItem, ...]:
        return tuple(i for i in self.items if i.role == "held_out")

    def resolve(self, name: str) -> str | None:
        """The key an item is named by in free text (its key or one of its aliases), else None."""
        text = name.strip()
        for item in self.items:
            if text == item.key or text in item.aliases:
                return item.key
        return None


def plan_from_document(document: Any, source: str, sha256: str) -> EvidencePlan:
    """Validate a parsed plan: schema, unique keys, overlaps that name items, symmetric overlaps.

    Raises:
        InputError: one line naming the first problem.
    """
    try:
        parsed = _PlanFile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{source}: {where}: {first['msg']}") from None
    keys = [i.key for i in parsed.items]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise InputError(f"{source}: evidence item '{duplicates[0]}' is listed twice")
    for item in parsed.items:
        unknown = [k for k in item.overlaps if k not in keys]
        if unknown:
            raise InputError(f"{source}: {item.key}: overlaps names no item: {unknown[0]}")
    aliases = [a for i in parsed.items for a in i.aliases]
    if len(set(aliases)) != len(aliases) or set(aliases) & set(keys):
        raise InputError(f"{source}: an alias is used twice or is another item's key")
    return EvidencePlan(tuple(parsed.items), sha256, parsed.record_sha256, source)


def load_plan(path: Path | str | None = None) -> EvidencePlan:
    """The plan in ``path`` (the bundled ``seeds/evidence_plan.yaml`` if None), validated, with its SHA-256."""
    source = Path(path) if path is not None else PLAN_FILE
    return plan_from_document(load_yaml(source), str(source), hashlib.sha256(source.read_bytes()).hexdigest())


@lru_cache(maxsize=1)
def bundled_plan() -> EvidencePlan:
    """The bundled plan, read once."""
    return load_plan()


def plan_sha256() -> str:
    """SHA-256 of the bundled plan file (what manifests record)."""
    return bundled_plan().sha256


def calibration_keys(keys: Iterable[str], plan: EvidencePlan | None = None) -> tuple[str, ...]:
    """``keys`` unchanged if every one is a calibration item of the plan: the one door calibration goes through.

    Raises:
        InputError: a key is held out (calibration must never read it) or not in the plan.
    """
    plan = plan or bundled_plan()
    chosen = tuple(keys)
    for key in chosen:
        if plan.role(key) != "calibration":
            raise InputError(f"{plan.source}: '{key}' is held out; calibration may not read it")
    return chosen


# --------------------------------------------------------------------------- contamination


def calibrated_to_keys(text: str, plan: EvidencePlan) -> tuple[str, ...]:
    """The plan items a ``calibrated_to`` text names.

    The text is a comma-separated list; parenthesised remarks are dropped; a name starting with ``_`` is a
    suffix of the previous name (``no_peacekeepers_fail_90d, _1y`` names ``no_peacekeepers_fail_1y``); the whole
    text may also be an item's alias. Names that are no item (a document, a figure from elsewhere) are skipped.
    """
    whole = plan.resolve(re.sub(r"\([^)]*\)", "", text))
    if whole:
        return (whole,)
    found: list[str] = []
    previous = ""
    for raw in re.sub(r"\([^)]*\)", "", text).split(","):
        name = raw.strip()
        if name.startswith("_") and "_" in previous:
            name = previous.rsplit("_", 1)[0] + name
        previous = name
        key = plan.resolve(name)
        if key and key not in found:
            found.append(key)
    return tuple(found)


def contaminating_parameters(calibrated_to: Mapping[str, str], plan: EvidencePlan | None = None
                             ) -> dict[str, tuple[str, ...]]:
    """For every held-out item, the parameters tuned to it or to an item resting on the same cases.

    Args:
        calibrated_to: parameter (dotted path) -> its ``calibrated_to`` text.

    Returns:
        held-out key -> sorted parameters (empty tuple when clean). A parameter tuned to another item that
        overlaps this one (rests on the same cases), held out or not, counts too: e.g. the duration defaults,
        designed to a pooled table that included the mission spells (``hazard_shape``).
    """
    plan = plan or bundled_plan()
    tuned: dict[str, set[str]] = {i.key: set() for i in plan.items}
    for parameter, text in calibrated_to.items():
        for key in calibrated_to_keys(text, plan):
            tuned[key].add(parameter)
    result = {}
    for item in plan.held_out_items():
        touched = set(tuned[item.key])
        for other in plan.items:
            if item.key in other.overlaps or other.key in item.overlaps:  # of either role: the same cases
                touched |= tuned[other.key]
        result[item.key] = tuple(sorted(touched))
    return result


def commitments_calibrated_to() -> dict[str, str]:
    """Every parameter of the bundled commitments with a ``calibrated_to``: dotted path -> text."""
    from sim.spec.sources import dotted_path, load_commitments

    return {dotted_path(owner, name): p.calibrated_to
            for owner, name, p in load_commitments().items() if p.calibrated_to}
