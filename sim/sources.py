"""The article and the commitments derived from it (``seeds/``), with their provenance.

Every parameter default of the model lives in ``seeds/commitments.yaml`` with a value and a
provenance: ``article`` (a verbatim quote), ``external`` (a citation) or ``assumption`` (a rationale).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from sim.errors import InputError

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
COMMITMENTS_FILE = SEEDS_DIR / "commitments.yaml"

ParamValue = bool | int | float


class Provenance(BaseModel):
    """One parameter value and where it comes from."""

    model_config = ConfigDict(extra="forbid")

    value: ParamValue
    provenance: Literal["article", "external", "assumption"]
    quote: str | None = None
    citation: str | None = None
    rationale: str | None = None
    note: str | None = None
    calibrated_to: str | None = None

    @model_validator(mode="after")
    def _evidence_present(self) -> Provenance:
        needed = {"article": "quote", "external": "citation", "assumption": "rationale"}[self.provenance]
        if not getattr(self, needed):
            raise ValueError(f"provenance '{self.provenance}' needs a '{needed}'")
        return self


class AgentCommitment(BaseModel):
    """A state's role in the model and its parameters."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["guarantor", "conditional_guarantor", "monitor", "defender", "aggressor"]
    name: str
    params: dict[str, Provenance]


class Commitments(BaseModel):
    """The whole of ``seeds/commitments.yaml``."""

    model_config = ConfigDict(extra="forbid")

    article: str
    agents: dict[str, AgentCommitment]
    model: dict[str, Provenance]

    def defaults(self) -> dict[str, Any]:
        """Parameter values only, shaped like a scenario's ``agents`` and ``model`` sections."""
        return {
            "agents": {code: {k: p.value for k, p in a.params.items()} for code, a in self.agents.items()},
            "model": {k: p.value for k, p in self.model.items()},
        }

    def provenance_rows(self) -> list[dict[str, Any]]:
        """One flat row per parameter: owner, parameter, value, provenance and its evidence."""
        rows = []
        owners = [(code, a.params) for code, a in self.agents.items()] + [("model", self.model)]
        for owner, params in owners:
            for name, p in params.items():
                evidence = p.quote or p.citation or p.rationale
                rows.append(
                    {"owner": owner, "parameter": name, "value": p.value, "provenance": p.provenance,
                     "evidence": evidence, "note": p.note or "", "calibrated_to": p.calibrated_to or ""}
                )
        return rows


def evidence_text(row: dict[str, Any]) -> str:
    """One line of evidence for a ``provenance_rows`` row: the quote (in « »), citation or rationale,
    then its note and the anchor it was calibrated to."""
    text = " ".join(str(row["evidence"]).split())
    if row["provenance"] == "article":
        text = f"« {text} »"
    if row["note"]:
        text += f" — {' '.join(row['note'].split())}"
    if row["calibrated_to"]:
        text += f" (calibrated to: {row['calibrated_to']})"
    return text


def load_commitments(path: Path = COMMITMENTS_FILE) -> Commitments:
    """Read and validate a commitments file.

    Raises:
        InputError: the file is missing, is not YAML, or breaks the schema.
    """
    return _load_commitments_cached(Path(path).resolve())


@lru_cache(maxsize=4)
def _load_commitments_cached(path: Path) -> Commitments:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read commitments ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({_first_line(exc)})") from None
    try:
        return Commitments.model_validate(document)
    except ValueError as exc:
        raise InputError(f"{path}: {_first_line(exc)}") from None


def article_text(commitments_path: Path = COMMITMENTS_FILE) -> str:
    """The article the commitments are derived from, as stored beside them."""
    commitments = load_commitments(commitments_path)
    return (Path(commitments_path).parent / commitments.article).read_text(encoding="utf-8")


def missing_quotes(commitments: Commitments, article: str) -> list[str]:
    """Names (``UK.troops``) of parameters whose quote is not verbatim in the article."""
    missing = []
    owners = [(code, a.params) for code, a in commitments.agents.items()] + [("model", commitments.model)]
    for owner, params in owners:
        for name, p in params.items():
            if p.provenance == "article" and p.quote not in article:
                missing.append(f"{owner}.{name}")
    return missing


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
