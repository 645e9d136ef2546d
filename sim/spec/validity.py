"""What the evidence covers (``seeds/validity.yaml``): the record's horizon and the structures it rejects.

The file states two things the validation found (``docs/VALIDATION.md``): how far in time the empirical record
reaches (``record_horizon_days``: Fortna's post-Cold War spells, censored at ten years), and which structures its
held-out part rejects at ``alpha`` (``rejected``): the default structure as a whole (``mechanism: default``, one
entry per held-out test it fails) or one structural form (``mechanism`` and ``form``). Structures the record
cannot tell apart from the default are not listed. :mod:`sim.stats.validity` turns it into a run's flags.

Example::

    from sim.spec.validity import bundled_coverage
    coverage = bundled_coverage()
    coverage.record_horizon_days            # 3652
    [e.flag for e in coverage.rejected]     # ['default_rejected:spells_mission_gaps', ...]
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.core.bundled import SEEDS_DIR
from sim.core.errors import InputError
from sim.core.strict_yaml import load_yaml, reject_loose_numbers
from sim.mechanisms import DEFAULT_STRUCTURE, REGISTRY

VALIDITY_NAME = "validity.yaml"
VALIDITY_FILE = SEEDS_DIR / VALIDITY_NAME
"""The bundled file (``seeds/validity.yaml`` mirrored into the package by ``make bundle``)."""

DEFAULT = "default"
"""The ``mechanism`` of an entry about the default structure as a whole."""

KEY = r"^[a-z][a-z0-9_]*$"
MODEL_KEY = r"^[a-z][a-z0-9_]*(=[a-z][a-z0-9_]*)?$"
"""A discriminated model's key: a wrong variant (``troops_dont_deter``) or a rival structure (``presence=switch``)."""


class Rejection(BaseModel):
    """One structure the held-out record rejects: the default as a whole, or one form of one mechanism."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mechanism: str
    form: str | None = None
    key: str | None = Field(default=None, pattern=KEY)
    against: str | None = Field(default=None, pattern=MODEL_KEY)
    variant: str | None = Field(default=None, pattern=MODEL_KEY)
    held_out: tuple[str, ...] = Field(min_length=1)
    test: str = Field(min_length=3)
    p_value: float = Field(ge=0.0, le=1.0)
    finding: str = Field(min_length=10)
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _default_or_form(self) -> Rejection:
        if self.mechanism == DEFAULT:
            if self.form is not None or self.variant is not None:
                raise ValueError("an entry about the default structure has no form and no variant")
            if self.key is None:
                raise ValueError("an entry about the default structure needs a key (its flag's name)")
            return self
        if self.mechanism not in REGISTRY:
            raise ValueError(f"unknown mechanism '{self.mechanism}' (mechanisms: default, {', '.join(REGISTRY)})")
        if self.form is None:
            raise ValueError(f"an entry about {self.mechanism} needs its form (or mechanism: default)")
        if self.form not in REGISTRY[self.mechanism]:
            raise ValueError(f"unknown form {self.form!r} of {self.mechanism} "
                             f"(forms: {', '.join(REGISTRY[self.mechanism])})")
        if self.key is not None or self.against is not None:
            raise ValueError("key and against belong to entries about the default structure")
        return self

    @property
    def flag(self) -> str:
        """``default_rejected:<key>`` or ``structure_rejected:<mechanism>=<form>``."""
        if self.mechanism == DEFAULT:
            return f"default_rejected:{self.key}"
        return f"structure_rejected:{self.mechanism}={self.form}"


class _ValidityFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    alpha: float = Field(gt=0.0, lt=1.0)
    record_horizon_days: int = Field(ge=1, le=36_500)
    record: str = Field(min_length=3)
    rejected: tuple[Rejection, ...] = ()


class Coverage(BaseModel):
    """The validated file: what the evidence covers, its source and SHA-256."""

    model_config = ConfigDict(frozen=True)

    as_of: str
    alpha: float
    record_horizon_days: int
    record: str
    rejected: tuple[Rejection, ...]
    source: str
    sha256: str

    def matching(self, structure: Any) -> tuple[Rejection, ...]:
        """The entries that apply to a run of ``structure`` (a ``Structure`` or a mapping mechanism -> form):
        its forms that are listed, and the default's entries when every form is the default."""
        forms = dict(structure) if isinstance(structure, Mapping) else structure.model_dump()
        is_default = all(forms.get(name, form) == form for name, form in DEFAULT_STRUCTURE.items())
        return tuple(entry for entry in self.rejected
                     if (entry.mechanism == DEFAULT and is_default)
                     or (entry.mechanism != DEFAULT and forms.get(entry.mechanism) == entry.form))


def coverage_from_document(document: Any, source: str, sha256: str = "") -> Coverage:
    """Validate a parsed ``validity.yaml``: schema, p-values below alpha, unique flags, held-out items of the
    evidence plan.

    Raises:
        InputError: one line, ``SOURCE: FIELD: what is wrong``.
    """
    reject_loose_numbers(document, _ValidityFile, source)
    if isinstance(document, dict) and isinstance(document.get("rejected"), list):
        for i, entry in enumerate(document["rejected"]):
            reject_loose_numbers(entry, Rejection, source, f"rejected.{i}.")
    try:
        parsed = _ValidityFile.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(f"{source}: {where}: {first['msg'].removeprefix('Value error, ')}") from None
    _check_entries(parsed, source)
    return Coverage(as_of=parsed.as_of, alpha=parsed.alpha, record_horizon_days=parsed.record_horizon_days,
                    record=parsed.record, rejected=parsed.rejected, source=source, sha256=sha256)


def _check_entries(parsed: _ValidityFile, source: str) -> None:
    from sim.spec.evidence_plan import bundled_plan

    plan, flags = bundled_plan(), set()
    for i, entry in enumerate(parsed.rejected):
        if entry.p_value >= parsed.alpha:
            raise InputError(f"{source}: rejected.{i}.p_value: {entry.p_value:g} is not below alpha "
                             f"{parsed.alpha:g}: not rejected, so not listed")
        if entry.flag in flags:
            raise InputError(f"{source}: rejected.{i}: {entry.flag} is listed twice")
        flags.add(entry.flag)
        for item in entry.held_out:
            key = plan.resolve(item)
            if key is None or plan.role(key) != "held_out":
                raise InputError(f"{source}: rejected.{i}.held_out: '{item}' is not a held-out item of "
                                 f"{plan.source}")


def load_coverage(path: Path | str | None = None) -> Coverage:
    """The file at ``path`` (the bundled ``seeds/validity.yaml`` if None), validated.

    Raises:
        InputError: the file is missing, not YAML, or breaks the schema: one line naming it and the field.
    """
    source = Path(path) if path is not None else VALIDITY_FILE
    document = load_yaml(source)
    return coverage_from_document(document, str(source), hashlib.sha256(source.read_bytes()).hexdigest())


@lru_cache(maxsize=1)
def bundled_coverage() -> Coverage:
    """The bundled file, read once."""
    return load_coverage()
