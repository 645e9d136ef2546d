"""Parameters per world: one batch steps worlds of many parameter points side by side.

The engine reads a parameter block (``scenario.model``, ``scenario.agents.UK`` …) through a
:class:`ParamView`: every field is an attribute, as in the scenario; a field listed in ``PACKABLE``
may instead be a per-world array, so that worlds with different values of it share one batch
(``sim.engine.packing``). Every parameter that a sweep, a posterior or a prior draw can vary is packable,
including those that steer control flow (negotiation rounds, Germany's delay, permanent bases: each
world follows its own value). The structure may differ too, through a mask over the rival forms
(``sim.mechanisms.MixedForm``). Points that differ in anything else (the forces' troop numbers, the
horizon or the start date) are run in separate batches.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.spec.scenario import Agents, ModelParams


def _packable() -> frozenset[str]:
    """Every parameter path of the schema but those flagged ``per_world: False`` (the forces in the zone)."""
    paths = [f"model.{name}" for name, info in ModelParams.model_fields.items() if _per_world(info)]
    for code, block in Agents.model_fields.items():
        paths += [f"agents.{code}.{name}" for name, info in block.annotation.model_fields.items() if _per_world(info)]
    return frozenset(paths)


def _per_world(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return not (isinstance(extra, dict) and extra.get("per_world") is False)


PACKABLE: frozenset[str] = _packable()
"""Dotted scenario paths that may differ between the worlds of one batch."""


class ParamView:
    """One parameter block as the engine reads it; fields in ``world_state`` are per-world arrays (bool for a
    yes/no field such as ``permanent_bases``, float otherwise, whole numbers included).

    The model compacts and restores the arrays with the other per-world state.
    """

    def __init__(self, block: BaseModel, arrays: Mapping[str, np.ndarray] | None = None) -> None:
        for name in type(block).model_fields:
            setattr(self, name, getattr(block, name))
        arrays = dict(arrays or {})
        for name, values in arrays.items():
            dtype = bool if isinstance(getattr(block, name), bool) else float
            setattr(self, name, np.asarray(values, dtype=float).astype(dtype))
        self.world_state: tuple[str, ...] = tuple(arrays)


def at(value: np.ndarray | float, worlds: np.ndarray) -> np.ndarray | float:
    """``value`` for the worlds ``worlds`` (indices or mask): itself if it is the same in every world."""
    return value[worlds] if isinstance(value, np.ndarray) else value


def split_world_values(world_values: Mapping[str, np.ndarray] | None, worlds: int) -> dict[str, dict[str, np.ndarray]]:
    """Group per-world values by block (``model``, ``agents.UK`` …): {block: {field: array of ``worlds``}}.

    Raises ValueError for a path not in ``PACKABLE`` or an array of the wrong length.
    """
    blocks: dict[str, dict[str, np.ndarray]] = {}
    for path, values in (world_values or {}).items():
        if path not in PACKABLE:
            raise ValueError(f"{path} cannot differ between the worlds of a batch (see world_params.PACKABLE)")
        values = np.asarray(values, dtype=float)
        if values.shape != (worlds,):
            raise ValueError(f"{path}: {values.shape[0] if values.ndim else 1} values for {worlds} worlds")
        block, _, name = path.rpartition(".")
        blocks.setdefault(block, {})[name] = values
    return blocks
