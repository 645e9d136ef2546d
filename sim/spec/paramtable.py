"""The parameter table of docs/ODD.md, generated from the schema and the commitments so it cannot drift.

``python -m sim.spec.paramtable`` prints it; ``python -m sim.spec.paramtable --write`` refreshes it in docs/ODD.md
between the markers ``<!-- parameters:begin -->`` and ``<!-- parameters:end -->``. ``prior_problems``
checks every prior of ``seeds/commitments.yaml`` against the schema's limits.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from sim.core.docblocks import replace_block
from sim.spec.scenario import Agents, ModelParams
from sim.spec.sources import Commitments, Prior, evidence_text, load_commitments

ODD_FILE = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
BLOCK = "parameters"
"""The generated block of docs/ODD.md (:mod:`sim.core.docblocks`)."""


@dataclass(frozen=True)
class Bounds:
    """The valid values of a schema field: its kind and its limits (None where unbounded)."""

    kind: str  # "bool", "int" or "float"
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False

    def admits(self, low: float, high: float) -> bool:
        """Whether every value in [low, high] is valid for the field."""
        above = self.low is None or (low > self.low if self.low_open else low >= self.low)
        below = self.high is None or (high < self.high if self.high_open else high <= self.high)
        return above and below


def bounds(schema: type[BaseModel], name: str) -> Bounds:
    """The limits of a field, from its type and pydantic constraints (ge, gt, le, lt)."""
    field = schema.model_fields[name]
    if field.annotation is bool:
        return Bounds("bool", 0, False, 1, False)
    found: dict[str, float] = {}
    for rule in field.metadata:
        for attr in ("ge", "gt", "le", "lt"):
            if getattr(rule, attr, None) is not None:
                found[attr] = getattr(rule, attr)
    low_open, high_open = "gt" in found, "lt" in found
    kind = "int" if field.annotation is int else "float"
    return Bounds(kind, found.get("gt", found.get("ge")), low_open, found.get("lt", found.get("le")), high_open)


def value_range(schema: type[BaseModel], name: str) -> str:
    """The valid range of a field as text (``[0, 1]``, ``(0, 1e+09]``, ``true/false``)."""
    b = bounds(schema, name)
    if b.kind == "bool":
        return "true/false"
    left = "(" if b.low_open else "["
    if b.high is None:
        return f"{'>' if b.low_open else '>='} {_num(b.low)}"
    return f"{left}{_num(b.low)}, {_num(b.high)}{')' if b.high_open else ']'}"


def _num(x: float | int | None) -> str:
    if x is None:
        return "-inf"
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.0e}"


def schemas(commitments: Commitments) -> dict[str, type[BaseModel]]:
    """The schema class of each owner of parameters (state code or ``model``)."""
    found: dict[str, type[BaseModel]] = {code: Agents.model_fields[code].annotation for code in commitments.agents}
    found["model"] = ModelParams
    return found


def prior_problems(commitments: Commitments) -> list[str]:
    """``UK.troops: ...`` for every prior that reaches outside its field's valid values or does not match
    its type (bernoulli for true/false, integer_uniform for whole numbers, continuous for the rest)."""
    problems = []
    by_owner = schemas(commitments)
    for owner, name, p in commitments.items():
        if p.prior is not None:
            problem = _prior_problem(bounds(by_owner[owner], name), p.prior)
            if problem:
                problems.append(f"{owner}.{name}: {problem}")
    return problems


def _prior_problem(field: Bounds, prior: Prior) -> str:
    expected = {"bool": ("bernoulli",), "int": ("integer_uniform",)}.get(field.kind, ("uniform", "loguniform"))
    if prior.distribution not in expected:
        label = {"bool": "true/false", "int": "whole-number"}.get(field.kind, "real-valued")
        return f"prior {prior.distribution} does not suit a {label} parameter; use {' or '.join(expected)}"
    if not field.admits(prior.low, prior.high):  # type: ignore[arg-type]
        return f"prior {prior.describe()} reaches outside the valid range"
    return ""


def markdown_table() -> str:
    """One row per parameter: owner, name, value, valid range, provenance, prior (range and reason), evidence."""
    commitments = load_commitments()
    lines = ["| owner | parameter | value | range | provenance | prior | evidence |",
             "|---|---|---|---|---|---|---|"]
    by_owner = schemas(commitments)
    for row in commitments.provenance_rows():
        prior = f"{row['prior']}: {row['prior_reason']}" if row["prior"] else "—"
        cells = [row["owner"], f"`{row['parameter']}`", str(row["value"]),
                 value_range(by_owner[row["owner"]], row["parameter"]), row["provenance"], prior, evidence_text(row)]
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines)


def refreshed(document: str) -> str:
    """``document`` with the table between the markers replaced by the current one."""
    return replace_block(document, BLOCK, markdown_table())


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        ODD_FILE.write_text(refreshed(ODD_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(markdown_table())
