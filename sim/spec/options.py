"""Options files for ``ceasefire decide``: candidate guarantee packages, validated like scenarios.

An options file names a base scenario and lists the packages a coalition could offer; each sets some of the
decision levers (anything not set keeps the base scenario's value):

- ``UK``, ``FR``: ``troops``, ``permanent_bases``, ``air_role``, ``maritime_role``;
- ``DE`` (Germany's entry): the same, and ``neighbour_troops``, ``deployment_delay_days``,
  ``deployment_probability``;
- ``US`` (monitoring): ``detection_probability``, ``resolve``;
- ``terms`` (the deal's terms, model v3): ``territory``, ``sanctions_relief``, ``neutrality``, ``force_cap``.

An option may start from an earlier option of the same file (``extends: NAME``) and change some levers. The file
also holds the satisficing thresholds (``thresholds: {p_hold_1y: 0.6}``), the pair of options whose comparison
asks "does provocation beat deterrence?" (``provocation: {smaller: A, larger: B, outcome: p_deal}``) and,
optionally, the option whose failures scenario discovery explains (``discover``).

Errors are one line naming the file and the field (``options.yaml: options.3.UK.troops: must be >= 0 (got -5)``);
every option's scenario is validated against the scenario schema before any simulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from sim.core.bundled import SCENARIOS_DIR, is_bare_name
from sim.core.errors import InputError, one_line
from sim.core.strict_yaml import load_yaml, reject_loose_numbers
from sim.spec.scenario import PLAIN_NAME, Days, Probability, Scenario, TroopCount, describe_error, load_scenario

OPTIONS_DIR = SCENARIOS_DIR / "options"
"""Bundled options files (``scenarios/options/`` of a checkout, mirrored into the package)."""

DEFAULT_OPTIONS = "guarantee_packages"
"""The bundled options file ``ceasefire decide`` uses without ``--options``."""

OUTCOMES: dict[str, str] = {"p_deal": "P(deal)", "p_hold_1y": "P(hold 1 y)", "p_hold_5y": "P(hold 5 y)"}
"""The outcomes every option is judged on (higher is better): column -> label."""

Name = Annotated[str, Field(min_length=1, max_length=80, pattern=PLAIN_NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GuarantorLevers(_Strict):
    """What a European guarantor contributes."""

    troops: TroopCount | None = None
    permanent_bases: StrictBool | None = None
    air_role: Probability | None = None
    maritime_role: Probability | None = None


class GermanyLevers(GuarantorLevers):
    """Germany's contribution and its entry."""

    neighbour_troops: TroopCount | None = None
    deployment_delay_days: Days | None = None
    deployment_probability: Probability | None = None


class MonitoringLevers(_Strict):
    """The US-led monitoring."""

    detection_probability: Probability | None = None
    resolve: Probability | None = None


class TermsLevers(_Strict):
    """The deal's terms (``model.terms_*``)."""

    territory: Probability | None = None
    sanctions_relief: Probability | None = None
    neutrality: Probability | None = None
    force_cap: Probability | None = None


class OptionSpec(_Strict):
    """One candidate package as written."""

    name: Name
    description: str = ""
    extends: Name | None = None
    UK: GuarantorLevers = GuarantorLevers()
    FR: GuarantorLevers = GuarantorLevers()
    DE: GermanyLevers = GermanyLevers()
    US: MonitoringLevers = MonitoringLevers()
    terms: TermsLevers = TermsLevers()


class Provocation(_Strict):
    """The two options whose comparison asks "does provocation beat deterrence?"."""

    smaller: Name
    larger: Name
    outcome: Annotated[str, Field(pattern="^(p_deal|p_hold_1y|p_hold_5y)$")] = "p_deal"


class Thresholds(_Strict):
    """Satisficing levels per outcome (an option meets it in a future where its value is >= the level)."""

    p_deal: Probability | None = None
    p_hold_1y: Probability | None = None
    p_hold_5y: Probability | None = None


class OptionsFile(_Strict):
    """An options file as written."""

    name: Name
    description: str = ""
    scenario: str = "baseline"
    thresholds: Thresholds = Thresholds()
    provocation: Provocation | None = None
    discover: Name | None = None
    options: Annotated[list[OptionSpec], Field(min_length=2, max_length=500)]


@dataclass(frozen=True)
class DecisionOptions:
    """A validated options file: the base scenario, each option's overrides (dotted path -> value, in file order),
    descriptions, thresholds, the provocation question and the option to explain."""

    source: Path
    name: str
    base_file: Path
    base: Scenario
    overrides: dict[str, dict[str, Any]]
    descriptions: dict[str, str]
    thresholds: dict[str, float]
    provocation: Provocation | None
    discover: str | None

    @property
    def names(self) -> list[str]:
        return list(self.overrides)

    @property
    def lever_paths(self) -> list[str]:
        """Every dotted path some option sets, in first-seen order."""
        seen: dict[str, None] = {}
        for overrides in self.overrides.values():
            seen.update(dict.fromkeys(overrides))
        return list(seen)


def options_names() -> list[str]:
    """Names of the bundled options files."""
    return sorted(p.stem for p in OPTIONS_DIR.glob("*.yaml"))


def resolve_options(argument: str | Path | None) -> Path:
    """The options file an argument names: a path, or the name of a bundled options file (None: the default).

    Raises:
        InputError: a bare name that is neither a file nor a bundled options file.
    """
    if argument is None:
        argument = DEFAULT_OPTIONS
    path = Path(argument)
    if not is_bare_name(argument) or path.exists():
        return path
    if str(argument) not in options_names():
        raise InputError(f"{one_line(str(argument), 80)}: no such file, and no bundled options file of that name "
                         f"(bundled: {', '.join(options_names()) or 'none'})")
    return OPTIONS_DIR / f"{argument}.yaml"


def _levers(spec: OptionSpec) -> dict[str, Any]:
    """The dotted scenario paths an option sets itself (not through ``extends``)."""
    out: dict[str, Any] = {}
    for code in ("UK", "FR", "DE", "US"):
        for key, value in getattr(spec, code).model_dump(exclude_none=True).items():
            out[f"agents.{code}.{key}"] = value
    for key, value in spec.terms.model_dump(exclude_none=True).items():
        out[f"model.terms_{key}"] = value
    return out


def load_options(path: str | Path | None = None, scenario: str | Path | None = None) -> DecisionOptions:
    """Read and validate an options file, and every option's scenario.

    Args:
        path: the file, a bundled name, or None for :data:`DEFAULT_OPTIONS`.
        scenario: the base scenario, instead of the file's ``scenario``.

    Raises:
        InputError: one line naming the file and the field.
    """
    source = resolve_options(path)
    document = load_yaml(source)
    if not isinstance(document, dict):
        raise InputError(f"{source}: must be a mapping with name, scenario and options (got {type(document).__name__})")
    reject_loose_numbers(document, OptionsFile, source)
    for index, option in enumerate(document.get("options") or [] if isinstance(document.get("options"), list) else []):
        reject_loose_numbers(option, OptionSpec, source, f"options.{index}.")
    try:
        spec = OptionsFile.model_validate(document)
    except ValidationError as exc:
        raise InputError(f"{source}: {describe_error(exc.errors()[0], OptionsFile)}") from None

    overrides: dict[str, dict[str, Any]] = {}
    descriptions: dict[str, str] = {}
    for index, option in enumerate(spec.options):
        where = f"{source}: options.{index}"
        if option.name in overrides:
            raise InputError(f"{where}.name: duplicate option name {option.name!r}")
        if option.extends is not None and option.extends not in overrides:
            raise InputError(f"{where}.extends: no earlier option named {option.extends!r}")
        inherited = dict(overrides[option.extends]) if option.extends else {}
        overrides[option.name] = {**inherited, **_levers(option)}
        descriptions[option.name] = option.description.strip()
    for field, name in (("discover", spec.discover),
                        ("provocation.smaller", spec.provocation and spec.provocation.smaller),
                        ("provocation.larger", spec.provocation and spec.provocation.larger)):
        if name is not None and name not in overrides:
            raise InputError(f"{source}: {field}: no option named {name!r}")

    base_argument = scenario if scenario is not None else spec.scenario
    base_file = Path(base_argument)
    if scenario is None and not is_bare_name(spec.scenario) and not base_file.is_absolute():
        base_file = source.parent / base_file
    base = load_scenario(base_file if not is_bare_name(str(base_argument)) else str(base_argument))
    from sim.core.bundled import resolve_scenario

    base_file = resolve_scenario(base_file if not is_bare_name(str(base_argument)) else str(base_argument))
    for index, (name, levers) in enumerate(overrides.items()):
        try:
            load_scenario(base_file, levers)
        except InputError as exc:
            text = str(exc)
            detail = text.split(": overrides: ", 1)[1] if ": overrides: " in text else text
            raise InputError(f"{source}: options.{index} ({name}): {detail}") from None
    thresholds = {k: float(v) for k, v in spec.thresholds.model_dump(exclude_none=True).items()}
    return DecisionOptions(source=source, name=spec.name, base_file=base_file, base=base, overrides=overrides,
                           descriptions=descriptions, thresholds=thresholds, provocation=spec.provocation,
                           discover=spec.discover)
