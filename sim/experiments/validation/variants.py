"""Deliberately wrong variants of the model, for ``ceasefire validation --discriminate``.

Each variant is a set of scenario overrides applied to every validation run: values set outright
(``set``) and values multiplied from the scenario's own (``scale``). A validation that cannot tell
these apart from the published model could not have failed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.validation import anchors as validation
from sim.mechanisms import MECHANISMS
from sim.spec.scenario import get_path, resolve_document

POWER_SHIFT_PER_YEAR = 0.5
"""Log-hazard of an offensive added per year of the ceasefire in the power-shift variant."""


@dataclass(frozen=True)
class Variant:
    """A wrong model: overrides by dotted path, each applied to every validation run.

    Attributes:
        key: short name, used in tables.
        description: one line saying what is wrong with it.
        set: values that replace the scenario's.
        scale: factors that multiply the scenario's own values.
        power_shift_per_year: if given, ``model.power_shift_weight`` is chosen so that the offensive's
            log-hazard rises by this much a year (see :func:`power_shift_weight`).
    """

    key: str
    description: str
    set: Mapping[str, Any] = field(default_factory=dict)
    scale: Mapping[str, float] = field(default_factory=dict)
    power_shift_per_year: float | None = None

    def overrides(self, scenario_file: Path) -> dict[str, Any]:
        """The overrides for one scenario file: ``set`` values, scaled values and the derived weight."""
        document = resolve_document(scenario_file)
        values: dict[str, Any] = dict(self.set)
        for path, factor in self.scale.items():
            values[path] = float(get_path(document, path)) * factor
        if self.power_shift_per_year is not None:
            rates = {path: values.get(path, get_path(document, path))
                     for path in ("agents.RU.rearmament_rate", "agents.UA.rearmament_rate")}
            values["model.power_shift_weight"] = power_shift_weight(rates, self.power_shift_per_year)
        return values


def power_shift_weight(rates: Mapping[str, Any], per_year: float) -> float:
    """The ``power_shift_weight`` that makes the power-shift term rise by ``per_year`` log-hazard a year.

    The term is ``power_shift_weight x log(ratio_t / ratio_0)`` with the force ratio growing by
    ``(1 + r_RU) / (1 + r_UA)`` a year (ODD 16, 23), so it rises by ``w x (log(1 + r_RU) - log(1 + r_UA))``
    a year. ``rates``: the two rearmament rates by dotted path.
    """
    growth = math.log1p(float(rates["agents.RU.rearmament_rate"])) \
        - math.log1p(float(rates["agents.UA.rearmament_rate"]))
    if growth <= 0:
        raise ValueError("the power-shift variant needs Russia's forces to grow faster than Ukraine's")
    return per_year / growth


DEFAULT = Variant("default", "the published model (model v3, parameters as in seeds/commitments.yaml)")

VARIANTS: tuple[Variant, ...] = (
    Variant("troops_dont_deter", "troops do not deter: deterrence_weight 0 and entry_cost (tripwire) 0",
            set={"model.deterrence_weight": 0.0, "model.entry_cost": 0.0}),
    Variant("provocation_x3_3", "foreign troops provoke 3.3 times as much (RU.provocation x 3.3)",
            scale={"agents.RU.provocation": 3.3}),
    Variant("escalation_cliff_5", "escalation ends the ceasefire at a cliff: threshold form at E = 5",
            set={"structure.escalation": "threshold", "model.escalation_threshold": 5.0}),
    Variant("base_hazard_x2", "Russia's daily base offensive hazard doubled (RU.base_offensive_hazard x 2)",
            scale={"agents.RU.base_offensive_hazard": 2.0}),
    Variant("power_shift_0_5", "a power shift of +0.5 log-odds of an offensive a year (Ukraine does not rearm, "
                               "as in version 2; power_shift_weight raised)",
            set={"agents.UA.rearmament_rate": 0.0}, power_shift_per_year=POWER_SHIFT_PER_YEAR),
    Variant("monitoring_does_nothing", "monitoring records violations but has no effect: it adds nothing to the "
                                       "guarantee, reduces no incidents and calms nothing",
            set={"model.monitoring_weight": 0.0, "model.monitoring_incident_reduction": 0.0,
                 "model.joint_calming": 0.0, "model.verification_restraint": 0.0,
                 "model.verified_incident_damping": 0.0}),
    Variant("russia_never_probes", "Russia never tests the guarantors (RU.probe_rate 0)",
            set={"agents.RU.probe_rate": 0.0}),
)
"""The bundled wrong variants, in the order of the discrimination table."""


def rival_structure(mechanism: str, form: str) -> Variant:
    """The default model with one contested mechanism in a rival form (key ``<mechanism>=<form>``)."""
    described = MECHANISMS[mechanism].describe(form).rstrip(".")
    return Variant(f"{mechanism}={form}", f"rival structure: {mechanism} in its '{form}' form ({described})",
                   set={f"structure.{mechanism}": form})


RIVAL_STRUCTURES: tuple[Variant, ...] = tuple(
    rival_structure(name, form) for name, mechanism in MECHANISMS.items() for form in mechanism.forms
    if form != mechanism.default)
"""Every non-default form of every contested mechanism, one at a time, in the registry's order: the rival
structures ``--discriminate`` refits and compares beside the wrong variants (not simulated by ``--power``)."""

DISCRIMINATED: tuple[Variant, ...] = (*VARIANTS, *RIVAL_STRUCTURES)
"""The models ``ceasefire validation --discriminate`` refits and compares with the default, in table order."""


def kind(key: str) -> str:
    """``default``, ``wrong_variant`` or ``rival_structure``: which family the model ``key`` belongs to."""
    if key == DEFAULT.key:
        return "default"
    return "rival_structure" if any(v.key == key for v in RIVAL_STRUCTURES) else "wrong_variant"


def variant(key: str) -> Variant:
    """The bundled variant, rival structure (or ``default``) called ``key``.

    Raises:
        KeyError: no such variant.
    """
    for candidate in (DEFAULT, *VARIANTS, *RIVAL_STRUCTURES):
        if candidate.key == key:
            return candidate
    raise KeyError(key)


# --------------------------------------------------------------------------- discrimination

DISCRIMINATION_SCALE = 0.5
"""Share of each validation run's worlds used for every model's held-out anchors in ``--discriminate``
(:mod:`sim.experiments.validation.discrimination`)."""


def discrimination_row(model: Variant, table: pd.DataFrame, reference: pd.DataFrame) -> dict[str, Any]:
    """One model's line: its held-out fit beside the default's, the held-out anchors it fails, p-values."""
    row: dict[str, Any] = {"variant": model.key, "description": model.description}
    for coding in validation.CODINGS:
        difference, se = validation.fit_difference(table, reference, coding)
        row[f"fit_{coding}"] = round(validation.fit_statistic(table, coding), 4)
        row[f"fit_{coding}_se"] = round(validation.fit_standard_error(table, coding), 4)
        row[f"difference_{coding}"] = round(difference, 4)
        row[f"difference_{coding}_se"] = round(se, 4)
    held_out = table[table["role"] == "held_out"]
    row["failed_held_out"] = ";".join(held_out.loc[held_out["failed"], "anchor"])
    row["failed_held_out_count"] = int(held_out["failed"].sum())
    calibration = table[table["role"] == "calibration"]
    row["failed_calibration"] = ";".join(calibration.loc[calibration["failed"], "anchor"])
    joint = validation.joint_tests(table).set_index("group")
    for group, values in joint.iterrows():
        row[f"p_{group}"] = values["p_value"]
    for anchor in table.itertuples():
        row[f"p_{anchor.anchor}"] = anchor.p_value
    return row
