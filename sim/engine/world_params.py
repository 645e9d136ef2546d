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

PACKABLE: frozenset[str] = frozenset(
    [f"model.{name}" for name in (
        "deterrence_weight", "entry_cost", "sanctions_weight", "incident_rate", "buffer_incident_reduction",
        "monitoring_incident_reduction", "incident_escalation", "escalation_decay", "verified_incident_damping",
        "escalation_threshold", "escalation_hazard_weight", "spiral_hazard", "spiral_slope", "intent_variance",
        "spoiler_rate", "withdrawal_hazard", "commitment_share", "pressure_weight", "acceptance_sharpness",
        "probe_escalation", "response_escalation", "misperception_escalation", "retaliation_escalation",
        "spoiler_escalation", "sanctions_step", "sanctions_decay", "power_shift_weight", "election_turnover",
        "support_loss_per_100_violations", "support_recovery",
    )]
    + [f"model.{name}" for name in (
        "troop_scale", "neighbour_weight", "bases_credibility", "bases_guarantee", "monitoring_weight",
        "support_loss_per_response", "drawdown_rate", "min_presence", "bases_drawdown_factor",
        "neighbour_objection_weight", "objection_scale", "balance_unit", "air_weight", "maritime_weight",
        "presence_stake", "bases_stake", "neighbour_stake", "joint_calming", "verification_restraint",
        "self_help_retaliation", "election_shock",
    )]
    + [f"agents.{code}.{name}" for code in ("UK", "FR", "DE") for name in (
        "troops", "resolve", "domestic_support", "permanent_bases", "drawdown_threshold", "air_role",
        "maritime_role")]
    + ["agents.DE.neighbour_troops", "agents.DE.deployment_probability", "agents.DE.deployment_delay_days",
       "agents.US.detection_probability", "agents.US.resolve", "agents.US.attribution_accuracy",
       "agents.US.violation_tolerance", "agents.US.patience", "agents.US.scale_down_fraction",
       "agents.US.mediation_rounds", "agents.UA.guarantee_threshold", "agents.UA.resolve",
       "agents.UA.withdrawal_threshold", "agents.UA.rearmament_rate", "agents.RU.rearmament_rate"]
    + [f"agents.RU.{name}" for name in (
        "base_offensive_hazard", "provocation", "probe_rate", "offensive_gain", "resolve", "troop_objection",
        "acceptance_logit", "war_cost", "table_gain", "prior_credibility", "prior_strength", "bases_price",
    )]
)
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
