"""The parameter space: every parameter of the scenario schema and every structural form, as data.

:func:`parameters` walks the schema (:class:`sim.spec.scenario.Scenario`'s ``agents`` and ``model``
blocks), so a parameter added there appears here without another edit; each carries its kind, its default
and provenance from ``seeds/commitments.yaml`` and, for an assumed value, its prior (``sim.spec.sources``).
:func:`forms` lists the rival forms of each contested mechanism (``sim.mechanisms.MECHANISMS``), as the
``structure.<mechanism>`` paths a scenario takes. ``sim.parameter_space()`` wraps both with adapters for
SALib and EMA Workbench (``sim.experiments.evaluate``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from sim.mechanisms import DEFAULT_STRUCTURE, MECHANISMS
from sim.spec.scenario import Agents, ModelParams
from sim.spec.sources import COMMITMENTS_FILE, dotted_path, load_commitments

STRUCTURE_PREFIX = "structure."
"""The dotted prefix of a structural form's path: ``structure.objection``."""


@dataclass(frozen=True)
class Parameter:
    """One parameter (or one contested mechanism) of the scenario.

    Attributes:
        path: dotted scenario path (``agents.UK.troops``, ``model.entry_cost``, ``structure.objection``).
        kind: ``float``, ``int``, ``bool`` or ``form`` (a structural form, one of ``choices``).
        default: the value when a scenario gives none (the commitments' value, or the default form).
        low, high: the prior's range (NaN when the value is not assumed: ``stated`` or ``external``).
        distribution: the prior's distribution (``uniform``, ``loguniform``, ``integer_uniform``,
            ``bernoulli``), or ``""`` without a prior.
        provenance: ``stated``, ``inspired``, ``external`` or ``assumption``; ``structure`` for a form.
        description: what it is (the schema's description, or the mechanism's question).
        choices: the forms of a mechanism (empty for a parameter).
        per_world: whether worlds of one batch may differ in it (``sim.engine.world_params.PACKABLE``);
            points that differ in one that may not run in separate batches.
    """

    path: str
    kind: str
    default: Any
    low: float
    high: float
    distribution: str
    provenance: str
    description: str
    choices: tuple[str, ...] = ()
    per_world: bool = True

    def row(self) -> dict[str, Any]:
        """The parameter as one row of a table."""
        return {"path": self.path, "kind": self.kind, "default": self.default, "low": self.low, "high": self.high,
                "distribution": self.distribution, "provenance": self.provenance, "per_world": self.per_world,
                "choices": ", ".join(self.choices), "description": self.description}


def schema_paths() -> list[str]:
    """Every parameter path the schema declares (``agents.<CODE>.<name>``, ``model.<name>``), in schema order."""
    paths = [f"agents.{code}.{name}" for code, field in Agents.model_fields.items()
             for name in _fields(field.annotation)]
    return paths + [f"model.{name}" for name in ModelParams.model_fields]


def _fields(block: Any) -> dict[str, Any]:
    return block.model_fields if isinstance(block, type) and issubclass(block, BaseModel) else {}


def parameters() -> list[Parameter]:
    """Every parameter of the schema (:func:`schema_paths`) with its commitment and prior."""
    commitments = {dotted_path(owner, name): p for owner, name, p in load_commitments(COMMITMENTS_FILE).items()}
    infos = {f"agents.{code}.{name}": info for code, field in Agents.model_fields.items()
             for name, info in _fields(field.annotation).items()}
    infos.update({f"model.{name}": info for name, info in ModelParams.model_fields.items()})
    out = []
    for path in schema_paths():
        info, commitment = infos[path], commitments.get(path)
        default = commitment.value if commitment is not None else None
        kind = "bool" if info.annotation is bool or isinstance(default, bool) else \
            "int" if info.annotation is int or (isinstance(default, int) and not isinstance(default, bool)) else "float"
        prior = commitment.prior if commitment is not None else None
        extra = info.json_schema_extra
        out.append(Parameter(
            path=path, kind=kind, default=default,
            low=float(prior.low) if prior is not None else math.nan,
            high=float(prior.high) if prior is not None else math.nan,
            distribution=prior.distribution if prior is not None else "",
            provenance=commitment.provenance if commitment is not None else "",
            description=info.description or "",
            per_world=not (isinstance(extra, dict) and extra.get("per_world") is False)))
    return out


def forms() -> list[Parameter]:
    """Each contested mechanism as a ``structure.<mechanism>`` parameter whose values are its forms."""
    return [Parameter(path=f"{STRUCTURE_PREFIX}{name}", kind="form", default=DEFAULT_STRUCTURE[name],
                      low=math.nan, high=math.nan, distribution="", provenance="structure",
                      description=mechanism.question, choices=tuple(mechanism.forms))
            for name, mechanism in MECHANISMS.items()]
