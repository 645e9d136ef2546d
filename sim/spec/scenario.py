"""Scenario files: schema, validation, defaults from the commitments, ``extends``.

A scenario YAML holds ``name``, ``description``, ``horizon_days``, ``replications``, ``seed``,
``agents.<CODE>.<param>`` and ``model.<param>``. Anything not given comes from the file it
``extends`` and finally from ``seeds/commitments.yaml``. Unknown keys and out-of-range values are
errors that name the file and the field.
"""

from __future__ import annotations

import datetime
import difflib
import errno
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, ValidationInfo, field_validator

from sim.core.bundled import is_bare_name, resolve_scenario, scenario_names, scenario_path
from sim.core.errors import InputError, one_line, shown
from sim.core.strict_yaml import load_yaml, reject_loose_numbers
from sim.mechanisms import DEFAULT_STRUCTURE, REGISTRY
from sim.spec.sources import COMMITMENTS_FILE, load_commitments

DEFAULT_START_DATE = datetime.date(2027, 1, 1)
"""Day 0 of the ceasefire when a scenario gives no ``start_date``: an assumed start after the Paris talks."""

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
TroopCount = Annotated[float, Field(ge=0.0, le=5_000_000, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0.0, le=1e9, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, le=1e9, allow_inf_nan=False)]
Real = Annotated[float, Field(ge=-1e3, le=1e3, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=36_500)]
GrowthRate = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
ZoneForces = Annotated[float, Field(ge=0.0, le=5_000_000, allow_inf_nan=False, json_schema_extra={"per_world": False})]
"""A count of troops in the zone that every world of a batch shares (``sim.engine.world_params.PACKABLE``)."""
PLAIN_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+=-]*$"
"""Scenario and sweep names (they become folder names): no '.', '..', leading dot or separator; '+' and '='
for a scenario named after its overrides (``baseline+agents.UK.troops=20000``, ``sim.load_scenario``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with ``update`` applied, validated like a freshly loaded one (pydantic's own skips that).

        ``update`` values may be plain values, mappings or models; a nested model is replaced whole.

        Raises:
            pydantic.ValidationError: the updated copy breaks the schema (e.g. negative troops).
        """
        if not update:
            return super().model_copy(deep=deep)
        merged = {name: getattr(self, name) for name in type(self).model_fields}
        merged.update(update)  # an unknown key is named by the ValidationError (extra="forbid")
        copied = type(self).model_validate(merged)
        return copied.model_copy(deep=True) if deep else copied


class StateParams(_Strict):
    """Parameters every state has."""

    troops: TroopCount = Field(description="ground troops inside Ukraine, count >= 0")
    resolve: Probability = Field(description="role-specific resolve, 0-1 (see ODD)")


class GuarantorParams(StateParams):
    """A European guarantor with troops in Ukraine from day 0 (UK, France)."""

    domestic_support: Probability = Field(description="initial public support for the mission, 0-1")
    permanent_bases: StrictBool = Field(description="permanent bases in Ukraine")
    drawdown_threshold: Probability = Field(description="support below which troops are withdrawn, 0-1")
    air_role: Probability = Field(description="strength of the air role taken on (air policing), 0-1")
    maritime_role: Probability = Field(description="strength of the maritime role taken on (Black Sea), 0-1")


class ConditionalGuarantorParams(GuarantorParams):
    """A guarantor whose troops enter Ukraine only after the ceasefire has held (Germany)."""

    neighbour_troops: TroopCount = Field(description="troops in neighbouring NATO states from day 0")
    deployment_delay_days: Days = Field(description="days the ceasefire must hold before troops enter Ukraine")
    deployment_probability: Probability = Field(
        description="probability that Germany moves its troops into Ukraine at all once the delay has passed, 0-1")


class MonitorParams(StateParams):
    """The US-led monitoring and verification mechanism."""

    troops: ZoneForces = Field(description="US ground troops inside Ukraine, count >= 0 (none: the US red line)")

    detection_probability: Probability = Field(description="probability a violation is detected, 0-1")
    attribution_accuracy: Probability = Field(description="probability a detected violation is blamed right")
    violation_tolerance: NonNegative = Field(description="detected violations per day tolerated")
    patience: NonNegative = Field(description="accumulated excess violations before monitoring is scaled down")
    scale_down_fraction: Probability = Field(description="share of detection lost when patience runs out")
    mediation_rounds: Annotated[int, Field(ge=1, le=12)] = Field(
        description="negotiation rounds the US mediates before it walks away, 1-12")


class DefenderParams(StateParams):
    """Ukraine."""

    troops: ZoneForces = Field(description="Ukraine's troops in the zone, count >= 0")

    guarantee_threshold: Probability = Field(description="guarantee strength Ukraine needs to agree, 0-1")
    withdrawal_threshold: Probability = Field(
        description="share of the agreed guarantee strength below which Ukraine may leave, 0-1"
    )
    rearmament_rate: GrowthRate = Field(description="yearly growth of Ukraine's forces in the zone, 0-1")
    war_cost: Real = Field(description="log-odds of accepting added by what fighting on costs Ukraine")
    situation_weight: Weight = Field(
        description="log-odds of accepting per unit of log(Russian / Ukrainian forces in a year)")
    terms_weight: Weight = Field(description="log-odds of accepting lost per unit of the terms index, 0-1")


class AggressorParams(StateParams):
    """Russia."""

    troops: ZoneForces = Field(description="Russia's troops in the zone, count >= 0")

    acceptance_logit: Real = Field(description="log-odds of accepting a ceasefire before other terms")
    war_cost: Real = Field(description="log-odds added by the costs of continued war")
    troop_objection: NonNegative = Field(description="log-odds of acceptance lost per unit of foreign presence")
    provocation: NonNegative = Field(description="hostility per unit of foreign presence")
    probe_rate: Probability = Field(description="daily probability of a probe at zero hostility")
    base_offensive_hazard: Probability = Field(description="daily offensive hazard before gain and deterrence")
    offensive_gain: NonNegative = Field(description="log-hazard weight of the expected gain")
    prior_credibility: Probability = Field(description="prior mean belief that guarantors answer a probe")
    prior_strength: Positive = Field(description="prior weight, in observed probes")
    table_gain: NonNegative = Field(description="log-odds weight, per unit of intent, of the gains of fighting on")
    bases_price: NonNegative = Field(description="log-odds of acceptance lost to permanent Western bases")
    rearmament_rate: GrowthRate = Field(description="yearly growth of Russia's forces in the zone, 0-1")
    offensive_value: Weight = Field(
        description="log-odds weight, per unit of intent, of what an offensive would win (choice form)")
    resumption_cost: Weight = Field(description="log-odds cost of reopening the war at all (choice form)")
    terms_weight: Weight = Field(description="log-odds of accepting gained per unit of the terms index, 0-1")


class Agents(_Strict):
    """The six states, by code."""

    UK: GuarantorParams
    FR: GuarantorParams
    DE: ConditionalGuarantorParams
    US: MonitorParams
    UA: DefenderParams
    RU: AggressorParams


class ModelParams(_Strict):
    """Parameters of the mechanisms rather than of one state (see docs/ODD.md)."""

    troop_scale: Positive
    neighbour_weight: Probability
    deterrence_weight: NonNegative
    bases_credibility: Probability
    bases_guarantee: Probability
    monitoring_weight: Probability
    acceptance_sharpness: Positive
    pressure_weight: NonNegative
    sanctions_step: NonNegative
    sanctions_decay: Probability
    sanctions_weight: NonNegative
    incident_rate: Annotated[float, Field(ge=0.0, le=100_000, allow_inf_nan=False)]
    buffer_incident_reduction: Probability
    monitoring_incident_reduction: Probability
    incident_escalation: NonNegative
    probe_escalation: NonNegative
    response_escalation: NonNegative
    retaliation_escalation: NonNegative
    escalation_decay: Probability
    escalation_threshold: Positive
    escalation_hazard_weight: NonNegative
    intent_variance: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
    support_loss_per_100_violations: Probability
    support_loss_per_response: Probability
    support_recovery: Probability
    drawdown_rate: Probability
    min_presence: Annotated[float, Field(ge=0.0, le=1e6, allow_inf_nan=False)]
    bases_drawdown_factor: Probability
    withdrawal_hazard: Probability
    neighbour_objection_weight: Probability
    objection_scale: Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)]
    balance_unit: Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False)]
    air_weight: Weight
    maritime_weight: Weight
    entry_cost: Weight
    presence_stake: Probability
    bases_stake: Probability
    neighbour_stake: Probability
    commitment_share: Probability
    joint_calming: Weight
    verification_restraint: Probability
    misperception_escalation: Weight
    verified_incident_damping: Probability
    self_help_retaliation: Probability
    spoiler_rate: Probability
    spoiler_escalation: Weight
    spiral_hazard: Probability
    spiral_slope: Weight
    power_shift_weight: Weight
    election_turnover: Probability
    election_shock: Probability
    roles_without_troops: StrictBool = Field(
        description="air and maritime roles count for a guarantor that committed no ground troops")
    presence_half: Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)] = Field(
        description="soldiers that buy half of a presence-dependent effect (dose form)")
    front_km: Annotated[float, Field(gt=0.0, le=10_000, allow_inf_nan=False)] = Field(
        description="length of the line of contact, km")
    buffer_density: Annotated[float, Field(gt=0.0, le=10_000, allow_inf_nan=False)] = Field(
        description="troops per km of front that cover 63 % of it (interposition form)")
    hawk_share: Probability = Field(description="share of worlds whose Russia is revisionist (two-types form)")
    hawk_ratio: Annotated[float, Field(ge=1.0, le=20.0, allow_inf_nan=False)] = Field(
        description="intent of a revisionist Russia over a limited-aims one (two-types form)")
    offensive_ceiling: Probability = Field(description="most daily probability of a decision to attack (choice form)")
    offensive_noise: Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False)] = Field(
        description="scale of the noise in Russia's daily comparison, log-odds (choice form)")
    institution_days: Annotated[float, Field(gt=0.0, le=36_500, allow_inf_nan=False)] = Field(
        description="time constant with which holding builds the institution stock, days")
    institution_effect: Weight = Field(description="log-hazard fall at a full institution stock")
    institution_erosion: Probability = Field(
        description="share of the institution stock lost per unit of escalation a day")
    foresight: Probability = Field(description="weight Russia gives to a foreseen change in its expected cost, 0-1")
    foresight_days: Annotated[float, Field(gt=0.0, le=36_500, allow_inf_nan=False)] = Field(
        description="e-folding time of Russia's discount of a foreseen window, days")
    terms_territory: Probability = Field(
        description="deal's terms: territory Ukraine cedes beyond the line of contact, de jure, 0-1")
    terms_sanctions_relief: Probability = Field(description="deal's terms: share of sanctions on Russia lifted, 0-1")
    terms_neutrality: Probability = Field(description="deal's terms: Ukraine's renunciation of NATO, 0-1")
    terms_force_cap: Probability = Field(description="deal's terms: share of Ukraine's forces its cap leaves, 0-1")
    territory_weight: Weight = Field(description="weight of territory in the terms index")
    relief_weight: Weight = Field(description="weight of sanctions relief in the terms index")
    neutrality_weight: Weight = Field(description="weight of neutrality in the terms index")
    force_cap_weight: Weight = Field(description="weight of the cap on Ukraine's forces in the terms index")


class Structure(_Strict):
    """Which form of each contested mechanism the model uses (``ceasefire structures`` lists them)."""

    objection: str = DEFAULT_STRUCTURE["objection"]
    capability: str = DEFAULT_STRUCTURE["capability"]
    credibility: str = DEFAULT_STRUCTURE["credibility"]
    escalation: str = DEFAULT_STRUCTURE["escalation"]
    acceptance: str = DEFAULT_STRUCTURE["acceptance"]
    presence: str = DEFAULT_STRUCTURE["presence"]
    deployment: str = DEFAULT_STRUCTURE["deployment"]
    types: str = DEFAULT_STRUCTURE["types"]
    offensive: str = DEFAULT_STRUCTURE["offensive"]
    duration: str = DEFAULT_STRUCTURE["duration"]
    ukraine: str = DEFAULT_STRUCTURE["ukraine"]
    impatience: str = DEFAULT_STRUCTURE["impatience"]

    @field_validator("*")
    @classmethod
    def _known_form(cls, value: str, info: ValidationInfo) -> str:
        forms = REGISTRY[info.field_name]
        if value not in forms:
            raise ValueError(f"unknown form '{value}' (forms: {', '.join(forms)})")
        return value


class Scenario(_Strict):
    """A fully resolved scenario: every parameter has a value."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=PLAIN_NAME)]
    description: str = ""
    horizon_days: Annotated[int, Field(ge=1, le=36_500)] = 730
    replications: Annotated[int, Field(ge=1, le=10_000_000)] = 1000
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    start_date: datetime.date = Field(default=DEFAULT_START_DATE, description="calendar date of day 0")
    structure: Structure = Structure()
    agents: Agents
    model: ModelParams


ROLE_OF = {"UK": "guarantor", "FR": "guarantor", "DE": "conditional_guarantor",
           "US": "monitor", "UA": "defender", "RU": "aggressor"}
"""The role each state plays; fixed by the model."""


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, merge and validate a scenario file.

    Args:
        path: the scenario YAML, or the name of a bundled scenario (``"baseline"``; see
            ``ceasefire scenarios``). A path that exists wins over a bundled name.
        overrides: values by dotted path (``"replications"``, ``"agents.UK.troops"``) applied last.

    Raises:
        InputError: one line naming the file and the field, e.g. ``x.yaml: agents.UK.troops: must be >= 0``;
            a bare name that is neither a file nor a bundled scenario (the message lists them).
    """
    label = str(path)  # what messages about an override name: the argument as given ("baseline"), not
    path = resolve_scenario(path)  # the bundled file's place in site-packages
    document = resolve_document(path)
    overrides = overrides or {}
    for dotted, value in overrides.items():
        set_override(document, dotted, value, label)
    return validate_document(document, source=path, overrides=overrides, label=label)


def set_override(document: dict[str, Any], dotted: str, value: Any, label: str) -> None:
    """:func:`set_path` for an override given by a caller: an unknown path is one line naming the override and
    the closest valid path in full (``baseline: overrides: agents.UK.trops: unknown parameter (did you mean
    'agents.UK.troops'?)``)."""
    try:
        set_path(document, dotted, value, source=Path(label))
    except InputError:
        valid = leaf_paths(document)
        raise InputError(f"{label}: overrides: {one_line(str(dotted), 120)}: unknown parameter"
                         f"{suggest_path(str(dotted), valid)}") from None


def leaf_paths(document: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every dotted path to a value that is not a mapping (``agents.UK.troops``, ``structure.objection`` …)."""
    paths: list[str] = []
    for key, value in document.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        paths += leaf_paths(value, path) if isinstance(value, Mapping) else [path]
    return paths


def suggest_path(path: str, valid: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of the dotted paths ``valid``, or nothing: the whole path first,
    then its last part among the paths that share the rest."""
    close = difflib.get_close_matches(path, valid, n=1, cutoff=0.6) if len(path) <= 200 else []
    if not close:
        head, _, last = path.rpartition(".")
        same = [p.rpartition(".")[2] for p in valid if p.rpartition(".")[0] == head]
        close = [f"{head}.{c}" if head else c for c in difflib.get_close_matches(last, same, n=1, cutoff=0.5)]
    return f" (did you mean '{close[0]}'?)" if close else ""


def resolve_document(path: Path) -> dict[str, Any]:
    """The scenario as a plain mapping: commitments' defaults, then the ``extends`` chain, then the file."""
    document = _merged_chain(Path(path), seen=())
    merged = {"start_date": DEFAULT_START_DATE.isoformat(), "structure": dict(DEFAULT_STRUCTURE),
              **load_commitments(COMMITMENTS_FILE).defaults()}
    _deep_update(merged, document)
    return merged


def validate_document(document: dict[str, Any], source: Path, overrides: Mapping[str, Any] | None = None,
                      label: str | None = None) -> Scenario:
    """Validate a merged mapping against the schema, raising InputError on the first problem.

    A problem with a value set by one of ``overrides`` names the override (``label: overrides: path: …``)
    rather than ``source``."""
    reject_loose_numbers(document, Scenario, source)
    try:
        return Scenario.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        if any(where == path or where.startswith(f"{path}.") for path in overrides or {}):
            raise InputError(f"{label or source}: overrides: {describe_error(error, Scenario)}") from None
        raise InputError(f"{source}: {describe_error(error, Scenario)}") from None


def set_path(document: dict[str, Any], dotted: str, value: Any, source: Path) -> None:
    """Set ``document[a][b][c] = value`` for ``dotted == "a.b.c"``; the path must already exist."""
    keys = dotted.split(".")
    node: Any = document
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            valid = sorted(node) if isinstance(node, dict) else []
            where = ".".join(keys[: depth + 1])
            raise InputError(f"{source}: {where}: unknown parameter{suggest(key, valid)}")
        if depth == len(keys) - 1:
            node[key] = value
        node = node[key]


def get_path(document: Mapping[str, Any], dotted: str) -> Any:
    """``document[a][b][c]`` for ``dotted == "a.b.c"``, or None where the path does not exist."""
    node: Any = document
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def numeric_paths(scenario: Scenario) -> list[str]:
    """Every dotted path of a numeric (not boolean) parameter, for sweeps and suggestions."""
    paths = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else key, item)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            paths.append(prefix)

    walk("", scenario.model_dump(exclude={"name", "description"}))
    return paths


MAX_EXTENDS = 16
"""Longest ``extends`` chain, in files."""


def _merged_chain(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    resolved = _real_path(path, str(path))
    if resolved in seen:
        raise InputError(f"{path}: extends: circular chain through {shown(path.name)}")
    if len(seen) >= MAX_EXTENDS:
        raise InputError(f"{path}: extends: chain of more than {MAX_EXTENDS} files")
    document = read_yaml_mapping(path)
    reject_loose_numbers(document, Scenario, path)  # here, so that the message names the file that wrote it
    if "extends" not in document:
        return document
    parent_path = _parent_file(path, document.pop("extends"))
    merged = _merged_chain(parent_path, seen + (resolved,))
    _deep_update(merged, document)
    return merged


def _real_path(path: Path, where: str) -> Path:
    """``path`` with every symbolic link followed; a loop of links is one line naming ``where``."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # Python 3.11-3.12 raise RuntimeError for a loop, 3.13 OSError
        if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
            raise InputError(f"{where}: a loop of symbolic links; give the file itself") from None
        raise InputError(f"{where}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def _parent_file(path: Path, name: Any) -> Path:
    """The file ``extends: name`` names: a bundled scenario's name (``baseline``: no folder, no ``.yaml``)
    unless a file of that name lies beside ``path``, else a relative path that stays inside ``path``'s folder.

    Absolute paths, ``..``, backslashes and symbolic links out of the folder are refused, so a
    scenario can only build on files kept beside it (or below it) and on the bundled ones.
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{path}: extends: must be a file name, such as baseline.yaml (got {shown(name)})")
    if is_bare_name(name) and not _exists(path.parent / name):
        if name not in scenario_names():
            raise InputError(f"{path}: extends: no such file {shown(name)} beside this file, and no bundled "
                             f"scenario of that name (bundled: {', '.join(scenario_names())})")
        return scenario_path(name)
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or "\x00" in name or ".." in parts:
        raise InputError(f"{path}: extends: must be a file in this file's folder, such as baseline.yaml "
                         f"(no absolute path, '..' or '\\'; got {shown(name)})")
    parent_path = path.parent / name
    where = f"{path}: extends: {shown(name)}"
    if not _real_path(parent_path, where).is_relative_to(_real_path(path.parent, str(path))):
        raise InputError(f"{where} links out of this file's folder")
    if not _exists(parent_path):
        raise InputError(f"{path}: extends: no such file {shown(name)} beside this file")
    return parent_path


def _exists(path: Path) -> bool:
    """Whether ``path`` is there; a name too long for the file system is not."""
    try:
        return path.exists()
    except OSError:
        return False


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Load a YAML file strictly (:mod:`sim.core.strict_yaml`) and check it is a mapping with text keys."""
    document = load_yaml(Path(path))
    if not isinstance(document, dict):
        raise InputError(f"{path}: must be a mapping of fields (got {type(document).__name__})")
    bad = [k for k in document if not isinstance(k, str)]
    if bad:
        raise InputError(f"{path}: {shown(bad[0])}: keys must be text")
    return document


def _deep_update(base: dict[str, Any], override: dict[str, Any]) -> None:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value


_MESSAGES = {
    "greater_than_equal": "must be >= {ge}",
    "greater_than": "must be > {gt}",
    "less_than_equal": "must be <= {le}",
    "less_than": "must be < {lt}",
    "missing": "is required",
    "string_pattern_mismatch": "may contain only letters, digits, '_', '-', '.', '+' and '=', and must start "
                               "with a letter or digit",
    "string_too_short": "must not be empty",
}


def describe_error(error: dict[str, Any], schema: type[BaseModel]) -> str:
    """Turn one pydantic error into ``field.path: what is wrong (got value)``; echoes are clipped."""
    loc = [str(part) for part in error["loc"]]
    field = one_line(".".join(loc), 120) or "(top level)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{field}: unknown key{suggest(loc[-1], _field_names(schema, loc[:-1]))}"
    if kind == "missing":
        return f"{field}: is required"
    if kind == "model_type" or kind == "dict_type":
        return f"{field}: must be a mapping (got {shown(error.get('input'))})"
    template = _MESSAGES.get(kind)
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") != PLAIN_NAME:
        template = "must match the pattern {pattern}"  # the message of _MESSAGES describes PLAIN_NAME only
    message = template.format(**error.get("ctx", {})) if template else error["msg"].lower()
    return f"{field}: {message} (got {shown(error.get('input'))})"


def _field_names(schema: type[BaseModel], loc: list[str]) -> list[str]:
    model: Any = schema
    for part in loc:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return []
        model = fields[part].annotation
    return sorted(getattr(model, "model_fields", {}))


def suggest(key: str, valid: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest valid name, the valid names when few, or nothing."""
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5) if len(key) <= 200 else []
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (valid: {', '.join(valid)})" if valid and len(valid) <= 12 else ""
