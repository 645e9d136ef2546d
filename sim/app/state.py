"""The dashboard's computation, free of any user-interface code: controls -> overrides -> run -> sentence, YAML.

The page (:mod:`sim.app.page`) keeps one mapping ``{dotted scenario path: value}`` of its controls; everything
here is a pure function of that mapping, except :func:`compute`, which keeps the latest runs in a small cache
(:data:`CACHE_RUNS`; a cached result says so, rather than "simulated in 0.00 s") and can be told that its run
was superseded by a newer change (:class:`Superseded`): the page's latest change wins.
"""

from __future__ import annotations

import math
import numbers
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.core.errors import shown
from sim.engine import compiled
from sim.engine.blocks import block_keys, block_seed, plan_blocks
from sim.engine.model import CeasefireModel
from sim.engine.resources import check_run_memory
from sim.engine.runner import RunRecords, run_records
from sim.experiments.run import RunResult, run_result
from sim.mechanisms import DEFAULT_STRUCTURE, MECHANISMS, REGISTRY
from sim.spec import space
from sim.spec.scenario import PLAIN_NAME, Scenario, get_path, load_scenario
from sim.spec.sources import COMMITMENTS_FILE, load_commitments

APP_WORLDS = 2000
"""Worlds per run in the dashboard: enough for P(deal) to within about +/-0.02, fast enough to redraw in < 1 s."""

HOLD_DAY = 365
"""The day of the P(holding) quoted in the sentence (the horizon when shorter)."""

DEFAULT_NAME = "dashboard"
"""Name of a downloaded scenario when the page's name field holds nothing usable."""


@dataclass(frozen=True)
class Control:
    """One control of the page: a scenario path and, for sliders, its range (units of the parameter)."""

    path: str
    label: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    choices: tuple[str, ...] = ()
    unit: str = ""

    @property
    def is_select(self) -> bool:
        """True for a choice among named forms, False for a slider."""
        return bool(self.choices)


SLIDERS: tuple[Control, ...] = (
    Control("agents.UK.troops", "UK troops", 0, 40_000, 1_000, unit="soldiers"),
    Control("agents.FR.troops", "France troops", 0, 40_000, 1_000, unit="soldiers"),
    Control("agents.DE.troops", "Germany troops (once deployed)", 0, 40_000, 1_000, unit="soldiers"),
    Control("agents.UK.resolve", "UK resolve", unit="(0–1)"),
    Control("agents.FR.resolve", "France resolve", unit="(0–1)"),
    Control("agents.DE.resolve", "Germany resolve", unit="(0–1)"),
    Control("agents.US.detection_probability", "US detection probability", unit="(0–1)"),
    Control("agents.RU.provocation", "Russia's provocation", 0.0, 0.5, 0.01, unit="per unit of presence"),
    Control("agents.RU.troop_objection", "Russia's troop objection", 0.0, 1.2, 0.05, unit="log-odds"),
    Control("horizon_days", "Horizon (days)", 30, 1095, 5),
)
"""Sliders: troop counts, probabilities in [0, 1], Russia's log-odds weights over their priors' ranges, days;
``unit`` follows the value on the page (``UK troops: 12,000 soldiers``)."""

SELECTS: tuple[Control, ...] = tuple(
    Control(f"structure.{mechanism}", f"{mechanism.capitalize()} form", choices=tuple(forms))
    for mechanism, forms in REGISTRY.items()
)
"""One select per contested mechanism, its options the registered forms."""

HORIZON_HELP = "days simulated after the ceasefire starts (a run setting)"
"""What the horizon is (a run setting, not a parameter of the schema's ``agents`` or ``model`` blocks)."""

CONTROLS: tuple[Control, ...] = SLIDERS + SELECTS
_BY_PATH = {control.path: control for control in CONTROLS}


def form_description(mechanism: str, form: str) -> str:
    """The registry's one-line description of a form (``ceasefire structures`` prints the same)."""
    return MECHANISMS[mechanism].describe(form)


def form_items(control: Control) -> list[dict[str, str]]:
    """A select's options: each form's name as its value, its registry description as its text."""
    mechanism = control.path.split(".", 1)[1]
    return [{"value": form, "text": form_description(mechanism, form)} for form in control.choices]


def form_question(control: Control) -> str:
    """The question a mechanism's forms answer, e.g. "Does the coalition deter by its absolute size or …?"."""
    return MECHANISMS[control.path.split(".", 1)[1]].question


@lru_cache(maxsize=1)
def _parameters() -> dict[str, space.Parameter]:
    return {parameter.path: parameter for parameter in space.parameters()}


def control_help(control: Control) -> str:
    """A slider's range, meaning and prior, from the schema's description and the commitments, e.g.
    ``Range 0–40,000 soldiers. Ground troops inside Ukraine, count >= 0. Prior 5,000–20,000 (assumption).``"""
    parameter = _parameters().get(control.path)
    what = parameter.description if parameter is not None and parameter.description else HORIZON_HELP
    unit = "" if control.unit.startswith("(") else f" {control.unit}".rstrip()
    text = f"Range {describe_value(control.low)}–{describe_value(control.high)}{unit}. {what[:1].upper()}{what[1:]}."
    if parameter is not None and math.isfinite(parameter.low) and math.isfinite(parameter.high):
        text += f" Prior {describe_value(parameter.low)}–{describe_value(parameter.high)} ({parameter.provenance})."
    elif parameter is not None and parameter.provenance:
        text += f" Value {parameter.provenance}, no prior."
    return text


def slider_label(control: Control, value: Any) -> str:
    """A slider's label with its value and unit: ``UK troops: 12,000 soldiers``, ``UK resolve: 0.65 (0–1)``."""
    return f"{control.label}: {describe_value(value)} {control.unit}".rstrip()


def baseline_path() -> Path:
    """The bundled baseline scenario file (the only place that knows where it lives)."""
    from sim.core.bundled import scenario_path

    return scenario_path("baseline")


@lru_cache(maxsize=1)
def baseline_scenario() -> Scenario:
    """The baseline at the dashboard's size (:data:`APP_WORLDS` worlds, its own seed and horizon)."""
    return load_scenario(baseline_path(), {"replications": APP_WORLDS})


@lru_cache(maxsize=1)
def baseline_result() -> RunResult:
    """The baseline's run, computed once per process: the reference of every comparison on the page."""
    return compute(default_values()).result


def default_values() -> dict[str, Any]:
    """The baseline's value of every control, by path."""
    document = baseline_scenario().model_dump()
    return {control.path: _whole(control, get_path(document, control.path)) for control in CONTROLS}


def _whole(control: Control, value: Any) -> Any:
    """A whole-number float (troops are stored as floats) as an int on an integer-step slider."""
    if isinstance(value, float) and value.is_integer() and float(control.step).is_integer():
        return int(value)
    return value


@lru_cache(maxsize=1)
def _commitment_defaults() -> dict[str, Any]:
    """What a scenario file gets when it leaves a field out: the commitments' values and the default forms."""
    return {"structure": dict(DEFAULT_STRUCTURE), **load_commitments(COMMITMENTS_FILE).defaults()}


def snap(path: str, value: Any) -> Any:
    """A control's value made exact: a form name as is; a slider value rounded to its step and range
    (an int for integer steps, so troops and days stay whole)."""
    control = _BY_PATH[path]
    if control.is_select:
        return str(value)
    steps = round((float(value) - control.low) / control.step)
    snapped = min(max(control.low + steps * control.step, control.low), control.high)
    if float(control.step).is_integer() and float(control.low).is_integer():
        return int(round(snapped))
    return round(snapped, 6)


def control_value(path: Any, raw: Any) -> tuple[Any, str]:
    """A value the page received for control ``path``, checked before anything uses it: ``(value, "")``
    with the value made exact (:func:`snap`), or ``(None, message)`` when it must be ignored.

    The browser sends numbers in a slider's range and names among a select's forms; a hand-made websocket
    message can send anything (NaN, inf, ``'abc'``, None, ``[1]``, ``'1e999'``, a number out of range, a form
    that does not exist): each gets a one-line message for the page, never an exception.
    """
    control = _BY_PATH.get(path) if isinstance(path, str) else None
    if control is None:
        return None, f"Ignored a value for {shown(path)}, which is no control of this page."
    if control.is_select:
        if isinstance(raw, str) and raw in control.choices:
            return raw, ""
        return None, f"{control.label}: ignored {shown(raw)}; the forms are {', '.join(control.choices)}."
    problem = _slider_problem(control, raw)
    if problem:
        return None, (f"{control.label}: ignored {shown(raw)} ({problem}); the slider takes "
                      f"{describe_value(control.low)} to {describe_value(control.high)}.")
    return snap(path, raw), ""


def _slider_problem(control: Control, raw: Any) -> str:
    """What makes ``raw`` no value of a slider (``""`` when it is one)."""
    if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
        return "not a number"
    try:
        number = float(raw)
    except (OverflowError, ValueError, TypeError):  # an int of 400 digits, an odd Real
        return "not a finite number"
    if not math.isfinite(number):
        return "not a finite number"
    slack = 1e-9 * (control.high - control.low)  # a float a hair outside an end is the end
    if not control.low - slack <= number <= control.high + slack:
        return "out of range"
    return ""


def changed(values: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """The controls whose value differs from ``reference``, in the page's order."""
    return {path: values[path] for path in _ordered(values) if values[path] != reference.get(path)}


def overrides(values: dict[str, Any]) -> dict[str, Any]:
    """``load_scenario`` overrides for the controls that differ from the baseline (dotted path -> value)."""
    return {"replications": APP_WORLDS, **changed(values, default_values())}


CACHE_RUNS = 32
"""Results kept per process (the baseline's always): moving a slider back and forth costs nothing."""

_CACHE: OrderedDict[tuple[Any, ...], RunResult] = OrderedDict()
_CACHE_LOCK = threading.Lock()


class Superseded(Exception):
    """A run stopped because a newer change of the page made it useless."""


@dataclass(frozen=True)
class Computed:
    """A run for the page: its result, the seconds it took and whether it came from the cache."""

    result: RunResult
    seconds: float
    from_cache: bool


def values_key(values: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies a run: the worlds per run and every control's value."""
    return (APP_WORLDS, *sorted(values.items()))


def clear_cache() -> None:
    """Forget every cached run (and the baseline's)."""
    with _CACHE_LOCK:
        _CACHE.clear()
    baseline_result.cache_clear()


class _Running:
    """A run in progress that other callers for the same values wait for, rather than run it again."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.computed: Computed | None = None


_RUNNING: dict[tuple[Any, ...], _Running] = {}


def compute(values: dict[str, Any], superseded: Callable[[], bool] | None = None) -> Computed:
    """Run :data:`APP_WORLDS` worlds of the baseline with the page's values, or take the cached run.

    ``superseded`` is asked before each simulated day; once it answers True the run stops with
    :class:`Superseded` (a page whose controls changed again wants the newer run, not this one). A call for
    values already running (the page starts a run as soon as a control changes) waits for that run and
    returns it with its own time.
    """
    superseded = superseded or (lambda: False)
    key = values_key(values)
    while True:
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
            if cached is not None:
                _CACHE.move_to_end(key)
                return Computed(cached, 0.0, True)
            running = _RUNNING.get(key)
            if running is None:
                running = _RUNNING[key] = _Running()
                break
        while not running.done.wait(0.01):
            if superseded():
                raise Superseded
        if running.computed is not None:
            return running.computed
        # that run was superseded before it finished: run the values here (or wait for another caller)
    try:
        running.computed = _run_and_cache(key, values, superseded)
        return running.computed
    finally:
        with _CACHE_LOCK:
            _RUNNING.pop(key, None)
        running.done.set()


def _run_and_cache(key: tuple[Any, ...], values: dict[str, Any], superseded: Callable[[], bool]) -> Computed:
    start = time.perf_counter()
    is_baseline = not changed(values, default_values())
    scenario = baseline_scenario() if is_baseline else load_scenario(baseline_path(), overrides(values))
    result = run_stoppable(scenario, superseded)
    seconds = time.perf_counter() - start
    with _CACHE_LOCK:
        _CACHE[key] = result
        baseline_key = values_key(default_values())
        while len(_CACHE) > CACHE_RUNS:
            oldest = next(k for k in _CACHE if k != baseline_key)
            del _CACHE[oldest]
    return Computed(result, seconds, False)


def run_variant(values: dict[str, Any]) -> tuple[RunResult, float]:
    """:func:`compute` as ``(result, seconds)`` (0 for a cached run)."""
    computed = compute(values)
    return computed.result, computed.seconds


class _StoppableModel(CeasefireModel):
    """The engine's model, asking before each day whether its run is still wanted."""

    superseded: Callable[[], bool] = staticmethod(lambda: False)

    def step(self) -> None:
        if self.superseded():
            raise Superseded
        super().step()


def run_stoppable(scenario: Scenario, superseded: Callable[[], bool]) -> RunResult:
    """``run_scenario(scenario, workers=1)``, record for record, but stopped (:class:`Superseded`) between
    two days as soon as ``superseded()`` is true. Built from the engine's public parts, as
    ``sim.engine.runner.simulate_block`` runs a block (``tests/test_app.py`` checks they agree)."""
    blocks = plan_blocks(scenario.replications)
    check_run_memory(scenario.replications, scenario.horizon_days, True, 1)
    start = time.perf_counter()
    if scenario.replications * scenario.horizon_days >= compiled.WORTH_FROM_WORLD_DAYS:
        compiled.want()
    runs, trajectories = [], []
    for block in blocks:
        if superseded():
            raise Superseded
        model = _StoppableModel(scenario, block.worlds, rng=block_seed(scenario.seed, (), block),
                                record_trajectories=True, keys=block_keys(scenario.seed, (), block))
        model.superseded = superseded
        try:
            model.run()
        finally:
            model.release()
        runs.append(run_records(model, block.first))
        trajectories.append(model.trajectories)
    records = RunRecords(scenario=scenario, runs=pd.concat(runs, ignore_index=True), trajectories=trajectories,
                         wall_seconds=time.perf_counter() - start, workers=1)
    return run_result(records)


def timing(computed: Computed) -> str:
    """How the page got its numbers: ``2,000 worlds × 730 days simulated in 1.23 s`` or ``… from cache``."""
    scenario = computed.result.scenario
    size = f"{len(computed.result.runs):,} worlds \u00d7 {scenario.horizon_days:,} days"
    if computed.from_cache:
        return f"{size} from cache (simulated earlier in this session)"
    return f"{size} simulated in {computed.seconds:.2f} s"


def hold_day(result: RunResult) -> int:
    """The day P(holding) is quoted for: one year, or the horizon when it is shorter."""
    return min(HOLD_DAY, result.scenario.horizon_days)


def p_holding(result: RunResult, day: int) -> float:
    """Share of all worlds whose ceasefire holds at the end of ``day`` (0-1)."""
    return float(result.survival["p_holding"].iloc[day])


def hold_interval(result: RunResult, day: int) -> str:
    """P(holding) at the end of ``day`` with its Wilson 95 % interval: ``0.67 (95 % CI 0.65–0.69)``."""
    row = result.survival.iloc[day]
    return f"{row['p_holding']:.2f} (95 % CI {row['ci_low']:.2f}\u2013{row['ci_high']:.2f})"


def headline(result: RunResult) -> str:
    """``P(deal) 0.774 (95 % CI 0.755-0.790)``."""
    row = result.summary.iloc[0]
    return (f"P(deal) {row['p_agreed']:.3f} (95 % CI {row['p_agreed_ci_low']:.3f}\u2013"
            f"{row['p_agreed_ci_high']:.3f})")


def describe_change(path: str, old: Any, new: Any) -> str:
    """``UK troops 10,000 → 20,000`` or ``objection saturating → linear``."""
    control = _BY_PATH[path]
    label = path.split(".")[-1] if control.is_select else control.label
    return f"{label} {describe_value(old)} \u2192 {describe_value(new)}"


def sentence(values: dict[str, Any], variant: RunResult, baseline: RunResult) -> str:
    """What changed against the baseline, in one sentence, e.g. ``UK troops 10,000 → 20,000 and objection
    saturating → linear: P(deal) 0.79 → 0.74, P(hold 1 y) 0.67 (95 % CI 0.65–0.69) → 0.70 (95 % CI
    0.68–0.72)``, P(hold) with its Wilson interval."""
    defaults = default_values()
    day = hold_day(variant)
    when = "1 y" if day == HOLD_DAY else f"{day} d"
    base_deal = baseline.summary.iloc[0]["p_agreed"]
    deal = variant.summary.iloc[0]["p_agreed"]
    differences = changed(values, defaults)
    if not differences:
        return f"The baseline: P(deal) {deal:.2f}, P(hold {when}) {hold_interval(variant, day)}"
    listed = change_list(values)
    return (f"{listed}: P(deal) {base_deal:.2f} \u2192 {deal:.2f}, "
            f"P(hold {when}) {hold_interval(baseline, day)} \u2192 {hold_interval(variant, day)}")


def change_list(values: dict[str, Any]) -> str:
    """The changes against the baseline in words (``UK troops 10,000 → 20,000 and …``), or ``the baseline``."""
    defaults = default_values()
    changes = [describe_change(path, defaults[path], value) for path, value in changed(values, defaults).items()]
    if not changes:
        return "the baseline"
    return changes[0] if len(changes) == 1 else ", ".join(changes[:-1]) + " and " + changes[-1]


def plain_name(text: Any) -> str:
    """``text`` made a valid scenario name (letters, digits, ``_ - .``; 1-80 characters), else ``dashboard``
    (also for anything that is not text, as a hand-made websocket message may send)."""
    if not isinstance(text, str):
        return DEFAULT_NAME
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", text[:10_000].strip())[:80].lstrip("._-")
    return name if re.fullmatch(PLAIN_NAME, name) else DEFAULT_NAME


def scenario_document(values: dict[str, Any], name: str, description: str) -> dict[str, Any]:
    """A standalone scenario: run settings plus only the fields that differ from the commitments' defaults.

    No ``extends``: the file validates wherever it is saved, its other fields coming from the commitments.
    """
    scenario = baseline_scenario()
    document: dict[str, Any] = {
        "name": plain_name(name), "description": description,
        "horizon_days": scenario.horizon_days, "replications": APP_WORLDS, "seed": scenario.seed,
    }
    defaults = _commitment_defaults()
    for path, value in values.items():
        if path == "horizon_days":
            document[path] = value
        elif value != get_path(defaults, path):
            _set_nested(document, path, value)
    return document


def scenario_yaml(values: dict[str, Any], name: str, description: str) -> str:
    """:func:`scenario_document` as YAML text that ``ceasefire validate`` and ``ceasefire run`` accept."""
    return yaml.safe_dump(scenario_document(values, name, description), sort_keys=False, allow_unicode=True,
                          width=100)


def _set_nested(document: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = document
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def _ordered(values: dict[str, Any]) -> list[str]:
    """Paths in the page's order (controls first, anything else after)."""
    known = [control.path for control in CONTROLS if control.path in values]
    return known + [path for path in values if path not in _BY_PATH]


def describe_value(value: Any) -> str:
    """A control's value as the page shows it: ``10,000`` for whole numbers, ``0.65`` for fractions, names
    as they are."""
    if isinstance(value, str):
        return value
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.2f}".rstrip("0").rstrip(".") if not math.isnan(value) else "n/a"
