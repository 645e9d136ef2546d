"""One-at-a-time sensitivity: a tornado chart of P(ceasefire holding at 365 days) around a scenario.

Each chosen parameter is moved alone to a low and a high value while every other parameter keeps
the scenario's value; the table and the chart rank the parameters by the swing
``|P(high) - P(low)|``. It complements the Sobol indices of ``ceasefire sweep``, which vary all
parameters together: a tornado says how far each lever moves the answer *from where the scenario
stands*, and in which direction.

**Outcome.** P(holding at 365 days) over all worlds (a world without a deal counts as not holding,
as in ``summary.csv``), with a Wilson 95 % interval. If the scenario's horizon is shorter than 365
days, P(holding) is read at the horizon instead; the ``day`` column, the chart's axis and the
manifest say so. Worlds are simulated only up to that day, which changes nothing before it (the
horizon only stops the loop), so ``p_baseline`` equals ``p_hold_365`` of ``ceasefire run`` with the
same seed and replications.

**Random numbers.** Every point runs the same worlds with the same streams, one per mechanism
(common random numbers, :func:`simulate_points`), so a swing measures the parameter, not the luck of
two samples; a parameter the model ignores has a swing of exactly 0. ``--independent-streams``
gives every point streams of its own instead.

**Low and high values** (:func:`perturb`):

- ``baseline -/+ fraction * |baseline|`` (``fraction`` 0.5 by default: -50 % / +50 %), clamped to the
  field's range in the schema (``sim/spec/scenario.py``): a probability at 0.9 gets ``high = 1.0``;
- a zero baseline has no scale of its own: it is moved by ``fraction`` in the field's own units
  (a probability at 0 gets 0 and 0.5, a log-odds at 0 gets -0.5 and +0.5), then clamped; where that
  is not meaningful, give the values: ``PATH=LOW:HIGH``;
- integer fields (days) are rounded half up; if rounding lands on the baseline the value moves by one;
- a side that clamping pins to the baseline (a value already at the edge of its range) simply is the
  baseline point, and is not simulated twice.

**Default parameters** (:data:`DEFAULT_PARAMETERS`): the article's levers and the assumptions that
decide whether a deal is struck and whether it lasts, at least one per mechanism of docs/ODD.md:

=====================================  ==================================================================
``agents.UK.troops``, ``FR.troops``     the article's commitment: capability C, deterrence (eq. 16) against
                                        provocation (eq. 7) and Russia's objection at the table (eq. 3)
``agents.DE.deployment_delay_days``     the article's condition on Germany: when its brigade enters (eq. 15)
``agents.UK.resolve``                   whether probes are answered: credibility (eq. 10-11), escalation (13)
``agents.US.detection_probability``     the US mechanism: guarantee (eq. 2), incidents (5-6), probes (9)
``agents.US.attribution_accuracy``      whether a detected probe is blamed on Russia, so answerable (eq. 9)
``agents.US.resolve``                   US sanctions (eq. 12) and pressure to agree (eq. 3)
``agents.UA.guarantee_threshold``       Ukraine's price for a deal (eq. 3)
``agents.RU.war_cost``                  Russia's incentive to stop (eq. 3)
``agents.RU.troop_objection``           Russia's price: the provocation at the table (eq. 3)
``agents.RU.provocation``               the provocation on the ground (eq. 7-8, 16)
``agents.RU.base_offensive_hazard``     the daily risk of an offensive before deterrence (eq. 16)
``model.troop_scale``                   how many troops make one unit of capability (eq. 1)
``model.deterrence_weight``             how much credible capability deters (eq. 16)
``model.escalation_threshold``          how much escalation the ceasefire absorbs (eq. 13)
=====================================  ==================================================================

Left out, though candidates (name them with ``--params``): ``agents.FR.resolve`` mirrors
``agents.UK.resolve``; ``model.intent_variance`` shapes *when* worlds break down more than how many
have by day 365 (a swing of about 0.01 when explored on the baseline with 2,000 worlds);
``agents.RU.probe_rate`` and ``model.escalation_decay`` work through the escalation spiral that
``model.escalation_threshold`` already stands for.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.errors import InputError
from sim.engine.packing import run_packed
from sim.engine.resources import RUN_ROW_BYTES, check_memory
from sim.experiments.result import Artefacts
from sim.spec.scenario import Scenario, get_path, numeric_paths, set_path, suggest, validate_document
from sim.stats.metrics import HOLD_DAYS, holding_counts, wilson_interval

HOLD_DAY = HOLD_DAYS[-1]
"""The day P(holding) is read at (365), unless the scenario's horizon is shorter."""

DEFAULT_FRACTION = 0.5
"""Relative move of each parameter: low = baseline - 50 %, high = baseline + 50 % (before clamping)."""

DEFAULT_PARAMETERS: tuple[str, ...] = (
    "agents.UK.troops",
    "agents.FR.troops",
    "agents.DE.deployment_delay_days",
    "agents.UK.resolve",
    "agents.US.detection_probability",
    "agents.US.attribution_accuracy",
    "agents.US.resolve",
    "agents.UA.guarantee_threshold",
    "agents.RU.war_cost",
    "agents.RU.troop_objection",
    "agents.RU.provocation",
    "agents.RU.base_offensive_hazard",
    "model.troop_scale",
    "model.deterrence_weight",
    "model.escalation_threshold",
)
"""Parameters moved when none are named (justified in the module docstring)."""

SIDES: tuple[str, ...] = ("low", "high")

TORNADO_COLUMNS: tuple[str, ...] = (
    "parameter", "baseline_value", "low_value", "high_value",
    "p_low", "p_low_ci_low", "p_low_ci_high",
    "p_high", "p_high_ci_low", "p_high_ci_high",
    "p_baseline", "p_baseline_ci_low", "p_baseline_ci_high",
    "swing", "day", "replications", "seed", "scenario",
)
"""Columns of ``tornado.csv``: one row per parameter, sorted by ``swing`` (largest first)."""

TORNADO_FIGURES: tuple[str, ...] = ("tornado.png",)
"""The figure of a tornado folder (``sim.outputs.plots.tornado``)."""

_RUN_SETTINGS = {"replications": "replications", "seed": "seed", "horizon_days": "horizon"}
"""Run settings a tornado does not move -> the name of the common option that sets them."""
_PARAMS_SOURCE = Path("--params")

Number = float | int
Progress = Callable[[int], None]


# --------------------------------------------------------------------------- low and high values


@dataclass(frozen=True)
class FieldRange:
    """The valid range of a numeric scenario field, from its pydantic constraints.

    ``lower``/``upper`` are None where unbounded; an open bound (``> 0``) is clamped to as if closed,
    which a relative move with ``fraction < 1`` of a positive baseline never reaches.
    """

    lower: float | None
    upper: float | None
    integer: bool

    def clamp(self, value: Number) -> Number:
        """``value`` moved into the range (an int for integer fields)."""
        if self.lower is not None:
            value = max(value, self.lower)
        if self.upper is not None:
            value = min(value, self.upper)
        return int(value) if self.integer else float(value)


def field_range(path: str) -> FieldRange:
    """The range of the field at dotted ``path`` (e.g. ``agents.UK.resolve`` -> [0, 1]).

    Raises:
        KeyError: ``path`` is not a field of the schema.
    """
    schema: Any = Scenario
    info = None
    for key in path.split("."):
        info = schema.model_fields[key]
        schema = info.annotation
    assert info is not None
    lower = upper = None
    for rule in info.metadata:
        for name in ("ge", "gt"):
            if getattr(rule, name, None) is not None:
                lower = float(getattr(rule, name))
        for name in ("le", "lt"):
            if getattr(rule, name, None) is not None:
                upper = float(getattr(rule, name))
    return FieldRange(lower, upper, info.annotation is int)


def perturb(baseline: Number, bounds: FieldRange, fraction: float = DEFAULT_FRACTION) -> tuple[Number, Number]:
    """(low, high) for one parameter, by the rule of the module docstring.

    Args:
        baseline: the scenario's value.
        bounds: the field's range.
        fraction: relative move, 0 < fraction < 1 (0.5: -/+50 %); for a zero baseline, the move in
            the field's own units.
    """
    step = fraction * abs(baseline) if baseline != 0 else fraction
    low, high = baseline - step, baseline + step
    if bounds.integer:
        low, high = _round_away(low, baseline, -1), _round_away(high, baseline, +1)
    return _tidy(bounds.clamp(low)), _tidy(bounds.clamp(high))


def _round_away(value: float, baseline: Number, direction: int) -> int:
    """Round half up; if that gives the baseline, one unit further in ``direction``."""
    rounded = math.floor(value + 0.5)
    return int(baseline) + direction if rounded == baseline else rounded


def _tidy(value: Number) -> Number:
    """Drop binary noise (0.0015 * 1.5 = 0.0022500000000000003) so tables show the intended value."""
    return value if isinstance(value, int) else float(f"{value:.12g}")


# --------------------------------------------------------------------------- choosing parameters


@dataclass(frozen=True)
class Perturbation:
    """One parameter's three values: the scenario's (baseline) and the low and high it is moved to."""

    path: str
    baseline: Number
    low: Number
    high: Number
    explicit: bool = False

    def value(self, side: str) -> Number:
        """The value on ``side`` (``low`` or ``high``)."""
        return self.low if side == "low" else self.high


def parameter_paths(scenario: Scenario) -> list[str]:
    """Numeric parameters a tornado can move: ``agents.*`` and ``model.*`` (not the run settings)."""
    return [p for p in numeric_paths(scenario) if p.startswith(("agents.", "model."))]


def resolve_parameters(
    scenario: Scenario, specs: Sequence[str] | None = None, fraction: float = DEFAULT_FRACTION
) -> list[Perturbation]:
    """Low and high values of each parameter named in ``specs`` (default :data:`DEFAULT_PARAMETERS`).

    Args:
        scenario: the validated scenario whose values are the baseline.
        specs: ``PATH`` (moved by ``fraction``) or ``PATH=LOW:HIGH`` (explicit values).
        fraction: relative move, 0 < fraction < 1.

    Raises:
        InputError: an unknown, non-numeric or repeated path, a malformed ``LOW:HIGH``, a bad fraction.
    """
    if not 0.0 < fraction < 1.0:
        raise InputError(f"--fraction: must be between 0 and 1, exclusive (got {fraction})")
    specs = list(specs or DEFAULT_PARAMETERS)
    document = scenario.model_dump(mode="python")
    valid = parameter_paths(scenario)
    found: list[Perturbation] = []
    for spec in specs:
        path, explicit = parse_spec(spec)
        check_path(path, valid, document)
        if any(p.path == path for p in found):
            raise InputError(f"--params: {path}: listed twice")
        baseline = get_path(document, path)
        bounds = field_range(path)
        if explicit is None:
            low, high = perturb(baseline, bounds, fraction)
        else:
            low, high = (_as_field_value(v, bounds, path) for v in explicit)
            _check_in_range(document, path, (low, high))
        found.append(Perturbation(path, baseline, low, high, explicit is not None))
    return found


def parse_spec(spec: str) -> tuple[str, tuple[float, float] | None]:
    """``"a.b.c"`` -> (path, None); ``"a.b.c=1:2"`` -> (path, (1.0, 2.0)).

    Raises:
        InputError: ``LOW:HIGH`` is not two numbers with LOW <= HIGH.
    """
    path, sep, values = spec.partition("=")
    path = path.strip()
    if not sep:
        return path, None
    parts = values.split(":")
    try:
        low, high = (float(part) for part in parts)
    except ValueError:
        raise InputError(f"--params: {spec}: expected PATH=LOW:HIGH with two numbers, e.g. {path}=0:5000") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise InputError(f"--params: {spec}: LOW and HIGH must be finite numbers with LOW <= HIGH")
    return path, (low, high)


def check_path(path: str, valid: Sequence[str], document: Mapping[str, Any]) -> None:
    """Raise InputError unless ``path`` is a numeric model parameter; suggest the closest valid path."""
    if path in valid:
        return
    if path in _RUN_SETTINGS:
        raise InputError(f"--params: {path} is a run setting, not a parameter (use --{_RUN_SETTINGS[path]})")
    if isinstance(get_path(document, path), bool):
        raise InputError(f"--params: {path} is yes/no, not numeric; a tornado moves numeric parameters only")
    hint = suggest(path, list(valid)) or " (see the parameter table in docs/ODD.md, section 8)"
    raise InputError(f"--params: unknown parameter '{path}'{hint}")


def _as_field_value(value: float, bounds: FieldRange, path: str) -> Number:
    """An explicit value as the field's type; the schema checks its range when the point is built."""
    if not bounds.integer:
        return value
    if not value.is_integer():
        raise InputError(f"--params: {path}: takes whole numbers (got {value:g})")
    return int(value)


def _check_in_range(document: Mapping[str, Any], path: str, values: Sequence[Number]) -> None:
    """Raise the schema's one-line InputError if an explicit value is outside the field's range."""
    for value in values:
        trial = copy.deepcopy(dict(document))
        set_path(trial, path, value, source=_PARAMS_SOURCE)
        validate_document(trial, source=_PARAMS_SOURCE)


# --------------------------------------------------------------------------- points and simulation


@dataclass(frozen=True)
class Point:
    """One scenario to simulate: the baseline (``parameter`` None) or one parameter on one side."""

    parameter: str | None
    side: str
    scenario: Scenario


def hold_day(scenario: Scenario) -> int:
    """The day P(holding) is read at: 365, or the horizon if that is shorter."""
    return min(HOLD_DAY, scenario.horizon_days)


def build_points(scenario: Scenario, perturbations: Sequence[Perturbation]) -> list[Point]:
    """The baseline point, then each parameter's low and high point, simulated up to :func:`hold_day`.

    Raises:
        InputError: a value outside the field's range (explicit ``LOW:HIGH`` only), naming the field.
    """
    base = scenario.model_dump(mode="python")
    base["horizon_days"] = hold_day(scenario)
    points = [Point(None, "baseline", validate_document(base, source=_PARAMS_SOURCE))]
    for perturbation in perturbations:
        for side in SIDES:
            document = scenario.model_dump(mode="python")
            document["horizon_days"] = base["horizon_days"]
            set_path(document, perturbation.path, perturbation.value(side), source=_PARAMS_SOURCE)
            points.append(Point(perturbation.path, side, validate_document(document, source=_PARAMS_SOURCE)))
    return points


def simulate_points(
    scenarios: Sequence[Scenario], workers: int = 1, done: Callable[[int], None] | None = None,
    common_random_numbers: bool = True,
) -> list[pd.DataFrame]:
    """Run records (``runs.csv`` rows) of each scenario, by default with **common random numbers**.

    World ``i`` of every point draws from the same streams as world ``i`` of ``ceasefire run`` with
    the scenario's seed, one stream per mechanism (``sim.engine.streams``): Russia's intent, the agreement
    rounds, probes, incidents, answers and the daily breakdown draw are the same uniforms at every
    point, whatever the parameter changes, so a difference between two points is the effect of the
    parameter, not of two samples of worlds, and a parameter the model does not read gives exactly
    the same records. With ``common_random_numbers`` off, point ``p`` has streams of its own
    (stream key ``(p,)``), as two independent samples. The Wilson intervals are those of each point
    on its own; with common random numbers a difference between points is more precise than two
    overlapping intervals suggest (``docs/SWEEPS.md`` measures how much).

    Args:
        scenarios: the points; duplicates are fine but cost a run each (see :func:`run_tornado`).
        workers: local processes (>= 1); results do not depend on it.
        done: called with a scenario's index when its worlds have finished.
    """
    streams = [() if common_random_numbers else (index,) for index in range(len(scenarios))]
    return run_packed(scenarios, streams, workers=workers,
                      done=None if done is None else (lambda index, _: done(index)))


def hold_probability(runs: pd.DataFrame, day: int) -> tuple[float, float, float]:
    """(P(holding at ``day``), Wilson 95 % low, high) over all worlds of ``runs``; no deal = not holding."""
    n_holding, _ = holding_counts(runs, day)
    trials = len(runs)
    low, high = wilson_interval(float(n_holding[day]), trials)
    return float(n_holding[day]) / trials, float(low), float(high)


# --------------------------------------------------------------------------- the tornado


@dataclass
class TornadoResult:
    """A finished tornado.

    Attributes:
        scenario: the scenario as given (its horizon may exceed ``day``).
        table: ``tornado.csv``: one row per parameter, sorted by swing, largest first.
        day: the day P(holding) is read at (365, or the horizon if shorter).
        runs_simulated: distinct scenarios simulated (points pinned to the baseline are reused).
        common_random_numbers: whether every point had the same worlds' streams.
    """

    scenario: Scenario
    perturbations: list[Perturbation]
    fraction: float
    table: pd.DataFrame
    day: int
    runs_simulated: int
    workers: int
    wall_seconds: float
    common_random_numbers: bool = True

    @property
    def day_note(self) -> str | None:
        """Why P(holding) is not at 365 days, or None when it is."""
        if self.day == HOLD_DAY:
            return None
        return (f"the horizon ({self.day} days) is shorter than {HOLD_DAY} days: "
                f"P(holding) is at day {self.day}")

    def artefacts(self, source: str | Path | None = None) -> Artefacts:
        """``tornado.csv``, ``tornado.png`` and the manifest; ``source`` is the scenario file, if any."""
        return Artefacts("tornado", {"tornado.csv": self.table}, manifest=self.manifest_fields(),
                         figures=TORNADO_FIGURES, scenario=self.scenario, source=source)

    def manifest_fields(self) -> dict[str, Any]:
        """What a reader needs to reproduce a tornado beyond the common fields: the outcome, the values moved
        and how, the random numbers, timing."""
        return {
            "hold_day": self.day,
            "hold_day_note": self.day_note,
            "simulated_days": self.day,
            "outcome": f"P(ceasefire holding at day {self.day}) over all worlds (no deal = not holding), "
                       "Wilson 95% intervals",
            "fraction": self.fraction,
            "perturbation_rule": "low/high = baseline -/+ fraction*|baseline| (zero baseline: -/+ fraction in the "
                                 "field's units), integers rounded half up (at least one unit), clamped to the "
                                 "schema's range; explicit PATH=LOW:HIGH used as given",
            "parameters": [{"path": p.path, "baseline": p.baseline, "low": p.low, "high": p.high,
                            "values": "explicit" if p.explicit else "rule"} for p in self.perturbations],
            "random_numbers": ("common: world i of every point has the streams of world i of `ceasefire run`"
                               if self.common_random_numbers else "independent: every point has streams of its own"),
            "runs_simulated": self.runs_simulated,
            "workers": self.workers,
            "wall_seconds": round(self.wall_seconds, 3),
        }


def run_tornado(
    scenario: Scenario,
    perturbations: Sequence[Perturbation],
    workers: int = 1,
    progress: Progress | None = None,
    fraction: float = DEFAULT_FRACTION,
    common_random_numbers: bool = True,
) -> TornadoResult:
    """Simulate the baseline and every low and high point with common random numbers; rank by swing.

    Points whose scenario equals another's (a side pinned to the baseline by clamping) are
    simulated once: with common random numbers their records would be identical anyway.

    Args:
        scenario: validated scenario; its ``replications`` worlds are run at every point, with its ``seed``.
        perturbations: from :func:`resolve_parameters`.
        workers: local processes (>= 1); results do not depend on it.
        progress: called with a number of points done (1 + 2 per parameter in all).
        fraction: recorded in the manifest (the perturbations already hold the values).
        common_random_numbers: the same worlds' streams at every point (see :func:`simulate_points`).
    """
    start = time.perf_counter()
    points = build_points(scenario, perturbations)
    keys = [_scenario_key(p.scenario) for p in points]
    distinct = list(dict.fromkeys(keys))
    scenarios = [points[keys.index(key)].scenario for key in distinct]
    # every point's runs table is held until the swings are computed
    check_memory(len(scenarios) * scenario.replications * RUN_ROW_BYTES,
                 f"--replications {scenario.replications} x {len(scenarios)} points",
                 "--replications or the number of parameters")

    def done(index: int) -> None:
        if progress is not None:
            progress(keys.count(distinct[index]))

    runs = simulate_points(scenarios, workers, done, common_random_numbers)
    day = hold_day(scenario)
    probability = {key: hold_probability(table, day) for key, table in zip(distinct, runs, strict=True)}
    outcomes = {(p.parameter, p.side): probability[k] for p, k in zip(points, keys, strict=True)}
    table = tornado_table(scenario, perturbations, outcomes, day)
    return TornadoResult(scenario, list(perturbations), fraction, table, day, len(distinct), workers,
                         time.perf_counter() - start, common_random_numbers)


def _scenario_key(scenario: Scenario) -> str:
    """Identity of a scenario's results: equal keys give equal records, so they are simulated once."""
    return json.dumps(scenario.model_dump(mode="json"), sort_keys=True)


def tornado_table(
    scenario: Scenario,
    perturbations: Sequence[Perturbation],
    outcomes: Mapping[tuple[str | None, str], tuple[float, float, float]],
    day: int,
) -> pd.DataFrame:
    """``tornado.csv`` from the (P, CI low, CI high) of each (parameter, side); baseline key (None, "baseline")."""
    base = outcomes[(None, "baseline")]
    rows = []
    for p in perturbations:
        row: dict[str, Any] = {"parameter": p.path, "baseline_value": p.baseline, "low_value": p.low,
                               "high_value": p.high}
        for side in (*SIDES, "baseline"):
            value, low, high = base if side == "baseline" else outcomes[(p.path, side)]
            row.update({f"p_{side}": value, f"p_{side}_ci_low": low, f"p_{side}_ci_high": high})
        row["swing"] = abs(row["p_high"] - row["p_low"])
        row.update(day=day, replications=scenario.replications, seed=scenario.seed, scenario=scenario.name)
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(TORNADO_COLUMNS))
    for column in ("baseline_value", "low_value", "high_value"):
        table[column] = table[column].astype(float)
    return table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
