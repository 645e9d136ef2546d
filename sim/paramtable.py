"""The parameter table of docs/ODD.md, generated from the schema and the commitments so it cannot drift.

``python -m sim.paramtable`` prints it; ``python -m sim.paramtable --write`` refreshes it in docs/ODD.md
between the markers ``<!-- parameters:begin -->`` and ``<!-- parameters:end -->``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel

from sim.scenario import Agents, ModelParams
from sim.sources import evidence_text, load_commitments

ODD_FILE = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
BEGIN, END = "<!-- parameters:begin -->", "<!-- parameters:end -->"


def value_range(schema: type[BaseModel], name: str) -> str:
    """The valid range of a field, from its pydantic constraints (``[0, 1]``, ``> 0``, ``true/false``)."""
    field = schema.model_fields[name]
    if field.annotation is bool:
        return "true/false"
    low = high = None
    low_open = False
    for rule in field.metadata:
        for attr, is_open in (("ge", False), ("gt", True)):
            if getattr(rule, attr, None) is not None:
                low, low_open = getattr(rule, attr), is_open
        if getattr(rule, "le", None) is not None:
            high = rule.le
    left = "(" if low_open else "["
    return f"{left}{_num(low)}, {_num(high)}]" if high is not None else f"{'>' if low_open else '>='} {_num(low)}"


def _num(x: float | int | None) -> str:
    if x is None:
        return "-inf"
    return f"{x:g}" if abs(x) < 1e6 else f"{x:.0e}"


def markdown_table() -> str:
    """One row per parameter: owner, name, value, range, provenance, evidence."""
    commitments = load_commitments()
    lines = ["| owner | parameter | value | range | provenance | evidence |", "|---|---|---|---|---|---|"]
    schemas = {code: Agents.model_fields[code].annotation for code in commitments.agents}
    schemas["model"] = ModelParams
    for row in commitments.provenance_rows():
        schema = schemas[row["owner"]]
        evidence = evidence_text(row)
        lines.append(
            f"| {row['owner']} | `{row['parameter']}` | {row['value']} | {value_range(schema, row['parameter'])} "
            f"| {row['provenance']} | {evidence.replace('|', '/')} |"
        )
    return "\n".join(lines)


def refreshed(document: str) -> str:
    """``document`` with the table between the markers replaced by the current one."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{markdown_table()}\n{END}{tail}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        ODD_FILE.write_text(refreshed(ODD_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(markdown_table())
