"""The article and the commitments derived from it (``seeds/``), with their provenance and priors.

Every parameter default of the model lives in ``seeds/commitments.yaml`` with a value and a
provenance saying where the *value* comes from: ``stated`` (the article gives it; a verbatim quote),
``inspired`` (the article motivates the mechanism, the value is assumed; a quote and a rationale),
``external`` (a citation) or ``assumption`` (a rationale). Every ``inspired`` and ``assumption``
parameter also has a ``prior``: its plausible range, used as the prior of calibration.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.core import bundled
from sim.core.errors import InputError

SEEDS_DIR = bundled.SEEDS_DIR
"""The package copy of ``seeds/`` (it mirrors the repository's; see :mod:`sim.core.bundled`)."""
COMMITMENTS_FILE = bundled.COMMITMENTS_FILE

ParamValue = bool | int | float
Kind = Literal["stated", "inspired", "external", "assumption"]

QUOTED: frozenset[str] = frozenset({"stated", "inspired"})
"""Provenances whose ``quote`` must occur verbatim in the article."""
UNCERTAIN: frozenset[str] = frozenset({"inspired", "assumption"})
"""Provenances whose value is assumed, and so must carry a ``prior``."""
_EVIDENCE: dict[str, tuple[str, ...]] = {
    "stated": ("quote",), "inspired": ("quote", "rationale"), "external": ("citation",), "assumption": ("rationale",)
}


class Prior(BaseModel):
    """The plausible range of an assumed value, and the prior of its calibration.

    ``uniform`` and ``loguniform`` (low > 0; for rates and scales spanning orders of magnitude) are
    continuous on [low, high]; ``integer_uniform`` gives equal weight to each whole number in
    [low, high]; ``bernoulli`` is for true/false parameters, ``p`` the probability of true (its
    low and high are filled in as 0 and 1, false and true).
    """

    model_config = ConfigDict(extra="forbid")

    distribution: Literal["uniform", "loguniform", "integer_uniform", "bernoulli"]
    low: float | None = Field(default=None, allow_inf_nan=False)
    high: float | None = Field(default=None, allow_inf_nan=False)
    p: float | None = Field(default=None, ge=0.0, le=1.0)
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Prior:
        if self.distribution == "bernoulli":
            if self.p is None or self.low is not None or self.high is not None:
                raise ValueError("a bernoulli prior takes 'p' (probability of true), not 'low'/'high'")
            self.low, self.high = 0.0, 1.0
            return self
        if self.p is not None:
            raise ValueError(f"a {self.distribution} prior takes 'low' and 'high', not 'p'")
        if self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"a {self.distribution} prior needs 'low' < 'high'")
        if self.distribution == "loguniform" and self.low <= 0:
            raise ValueError("a loguniform prior needs 'low' > 0")
        if self.distribution == "integer_uniform" and not (self.low.is_integer() and self.high.is_integer()):
            raise ValueError("an integer_uniform prior needs whole-number 'low' and 'high'")
        return self

    def contains(self, value: ParamValue) -> bool:
        """Whether ``value`` is a possible draw: booleans only under bernoulli, whole numbers under
        integer_uniform, and always within [low, high]."""
        if isinstance(value, bool) or self.distribution == "bernoulli":
            return isinstance(value, bool) and self.distribution == "bernoulli"
        if self.distribution == "integer_uniform" and not float(value).is_integer():
            return False
        return math.isfinite(value) and self.low <= value <= self.high  # type: ignore[operator]

    def sample(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """``k`` independent draws from ``rng``: bool under bernoulli, whole numbers under integer_uniform."""
        if self.distribution == "bernoulli":
            return rng.random(k) < self.p
        if self.distribution == "loguniform":
            return np.exp(rng.uniform(math.log(self.low), math.log(self.high), k))
        if self.distribution == "integer_uniform":
            return rng.integers(int(self.low), int(self.high), k, endpoint=True)
        return rng.uniform(self.low, self.high, k)

    def ppf(self, u: float) -> ParamValue:
        """The value at unit quantile ``u`` (clipped to [0, 1]): uniform ``low + u (high - low)``, loguniform
        the same in log space (the bounds exactly at 0 and 1), integer_uniform one of the whole numbers
        low..high each over 1/(high - low + 1) of the unit interval, bernoulli true where u >= 1 - p."""
        u = min(max(float(u), 0.0), 1.0)
        low, high = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.distribution == "bernoulli":
            return bool(u >= 1.0 - (self.p or 0.0))
        if self.distribution == "integer_uniform":
            count = int(high - low) + 1
            return int(low) + min(int(u * count), count - 1)
        if self.distribution == "loguniform":
            if u in (0.0, 1.0):  # exactly the bounds, not exp(log(bound)) one ulp off
                return low if u == 0.0 else high
            return min(max(math.exp(math.log(low) + u * (math.log(high) - math.log(low))), low), high)
        return min(max(low + u * (high - low), low), high)

    def describe(self) -> str:
        """Short text such as ``uniform [0.2, 1]``, ``integer_uniform {1..4}`` or ``bernoulli p=0.2``."""
        if self.distribution == "bernoulli":
            return f"bernoulli p={self.p:g}"
        if self.distribution == "integer_uniform":
            return f"integer_uniform {{{self.low:.0f}..{self.high:.0f}}}"
        return f"{self.distribution} [{self.low:g}, {self.high:g}]"


class Provenance(BaseModel):
    """One parameter value, where it comes from, and (if assumed) its prior."""

    model_config = ConfigDict(extra="forbid")

    value: ParamValue
    provenance: Kind
    quote: str | None = None
    citation: str | None = None
    rationale: str | None = None
    note: str | None = None
    calibrated_to: str | None = None
    acts_in: str | None = None  # "structure.<mechanism>: <form>[, <form>]": the forms in which it has an effect
    inert_reason: str | None = None  # why it moves no headline at the baseline (``ceasefire screen --inert``)
    prior: Prior | None = None

    @model_validator(mode="after")
    def _evidence_present(self) -> Provenance:
        for needed in _EVIDENCE[self.provenance]:
            if not getattr(self, needed):
                raise ValueError(f"provenance '{self.provenance}' needs a '{needed}'")
        if self.provenance in UNCERTAIN:
            if self.prior is None:
                raise ValueError(f"provenance '{self.provenance}' needs a 'prior' (its plausible range)")
            if not self.prior.contains(self.value):
                raise ValueError(f"prior {self.prior.describe()} does not contain the value {self.value!r}")
        elif self.prior is not None:
            raise ValueError(f"provenance '{self.provenance}' takes no 'prior' (its value is not assumed)")
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

    def items(self) -> list[tuple[str, str, Provenance]]:
        """(owner, parameter, provenance) for every parameter; owner is a state code or ``model``."""
        owners = [(code, a.params) for code, a in self.agents.items()] + [("model", self.model)]
        return [(owner, name, p) for owner, params in owners for name, p in params.items()]

    def priors(self) -> dict[str, Prior]:
        """The prior of every assumed (``inspired`` or ``assumption``) parameter, by dotted scenario path
        (``agents.RU.table_gain``, ``model.entry_cost``)."""
        return {dotted_path(owner, name): p.prior for owner, name, p in self.items() if p.prior is not None}

    def provenance_rows(self) -> list[dict[str, Any]]:
        """One flat row per parameter: owner, parameter, value, provenance, its evidence (quote, citation
        or rationale), the rationale of an inspired value, note, calibration anchor and prior."""
        rows = []
        for owner, name, p in self.items():
            evidence = p.quote if p.provenance in QUOTED else p.citation or p.rationale
            rows.append(
                {"owner": owner, "parameter": name, "value": p.value, "provenance": p.provenance,
                 "evidence": evidence, "rationale": p.rationale if p.provenance == "inspired" else "",
                 "note": p.note or "", "calibrated_to": p.calibrated_to or "",
                 "prior": p.prior.describe() if p.prior else "", "prior_reason": p.prior.reason if p.prior else ""}
            )
        return rows


def typed(current: ParamValue, value: Any) -> ParamValue:
    """``value`` (a draw, or a number read from a table) as the type of the parameter's current value.

    bool stays bool; a whole number for an integer parameter becomes an int (anything else stays a float,
    for the schema to refuse with a message); floats stay floats.
    """
    if isinstance(current, bool):
        return bool(value)
    if isinstance(current, int) and float(value).is_integer():
        return int(value)
    return float(value)


def dotted_path(owner: str, name: str) -> str:
    """The scenario path of a parameter: ``model.<name>`` or ``agents.<CODE>.<name>``."""
    return f"model.{name}" if owner == "model" else f"agents.{owner}.{name}"


def priors(path: Path = COMMITMENTS_FILE) -> dict[str, Prior]:
    """The priors of the commitments file at ``path``, by dotted scenario path (see ``Commitments.priors``)."""
    return load_commitments(path).priors()


def evidence_text(row: dict[str, Any]) -> str:
    """One line of evidence for a ``provenance_rows`` row: the quote (in « ») of a stated or inspired
    value, the citation or the rationale; then the rationale of an inspired value, the note and the
    anchor it was calibrated to."""
    text = _one_line(row["evidence"])
    if row["provenance"] in QUOTED:
        text = f"« {text} »"
    if row.get("rationale"):
        text += f" — value: {_one_line(row['rationale'])}"
    if row["note"]:
        text += f" — {_one_line(row['note'])}"
    if row["calibrated_to"]:
        text += f" (calibrated to: {row['calibrated_to']})"
    return text


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def load_commitments(path: Path = COMMITMENTS_FILE) -> Commitments:
    """Read and validate a commitments file.

    Raises:
        InputError: the file is missing, is not YAML, or breaks the schema.
    """
    return _load_commitments_cached(Path(path).resolve())


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML has it (its wheels do): the same objects as ``yaml.safe_load``, ~10x faster
on the 38 kB commitments file that every run reads."""


@lru_cache(maxsize=4)
def _load_commitments_cached(path: Path) -> Commitments:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except OSError as exc:
        raise InputError(f"{path}: cannot read commitments ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({_first_line(exc)})") from None
    try:
        return Commitments.model_validate(document)
    except ValidationError as exc:
        raise InputError(f"{path}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    """``agents.UK.params.resolve: what is wrong`` for the first error of a validation."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}"


def article_text(commitments_path: Path = COMMITMENTS_FILE) -> str:
    """The article the commitments are derived from, as stored beside them."""
    commitments = load_commitments(commitments_path)
    return (Path(commitments_path).parent / commitments.article).read_text(encoding="utf-8")


def missing_quotes(commitments: Commitments, article: str) -> list[str]:
    """Names (``UK.resolve``) of stated or inspired parameters whose quote is not verbatim in the article."""
    return [f"{owner}.{name}" for owner, name, p in commitments.items()
            if p.provenance in QUOTED and (p.quote or "") not in article]


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
