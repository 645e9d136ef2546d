"""Many parameter points at once, for a modeller's own designs: ``sim.evaluate`` and ``sim.parameter_space``.

:func:`evaluate` takes points as dotted scenario paths (a DataFrame, or a list of dicts), runs every point's
worlds on the packed runner of sweeps (:func:`sim.engine.packing.run_packed`: many points to a batch) with
common random numbers (every point's worlds are replications ``0 .. replications - 1`` of the streams of
``ceasefire run``, so neighbouring points differ only through their parameters), and returns one row per point
with the headline probabilities and their Wilson 95 % intervals (:func:`sim.stats.metrics.summary_row`).
A point's figures are those ``run_scenario`` gives for the same scenario, whatever ``workers``.

:func:`parameter_space` lists every parameter of the schema with its prior (``sim.spec.space``), with adapters
to SALib (:meth:`ParameterSpace.to_salib_problem`) and EMA Workbench (:meth:`ParameterSpace.to_ema_model`,
``pip install 'ceasefire[ema]'``). docs/PYTHON.md shows both.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError, shown
from sim.engine.packing import run_packed
from sim.engine.resources import check_memory, point_memory_bytes
from sim.spec.scenario import Scenario, load_scenario, set_path, suggest_path, validate_document
from sim.spec.space import Parameter, forms, parameters
from sim.stats.metrics import P_DEAL, p_hold, summary_row

DEFAULT_OUTPUTS: tuple[str, ...] = (P_DEAL, p_hold(90), p_hold(365), p_hold("horizon"), f"{p_hold(365)}_given_deal")
"""The headlines :func:`evaluate` returns by default: P(deal), P(hold 90 days), P(hold 1 year), P(hold at the
horizon) and P(hold 1 year | deal); each with ``<name>_ci_low`` and ``<name>_ci_high``."""

INTERVAL_SUFFIXES = ("_ci_low", "_ci_high")

Points = pd.DataFrame | Sequence[Mapping[str, Any]]


def evaluate(points: Points, *, outputs: Sequence[str] | None = None, replications: int | None = None,
             seed: int | None = None, workers: int = 1, structure: Mapping[str, str] | None = None,
             scenario: str | Path | Scenario = "baseline", horizon_days: int | None = None) -> pd.DataFrame:
    """Simulate every point and return one row per point: its values, then each output and its interval.

    Args:
        points: a DataFrame whose columns are dotted paths (``agents.UK.troops``, ``model.entry_cost``,
            ``structure.objection``), or a list of dicts of them (a path missing from a dict keeps the
            scenario's value). ``sim.parameter_space().paths`` lists every path.
        outputs: headline columns of ``summary.csv`` (``p_agreed``, ``p_hold_365``, ``share_held`` …); default
            :data:`DEFAULT_OUTPUTS`. Each probability comes with its Wilson 95 % interval columns.
        replications: worlds per point (default: the scenario's).
        seed: the seed of every point's worlds (default: the scenario's); the same worlds at every point.
        workers: local processes (>= 1); the results do not depend on it.
        structure: forms applied to every point, e.g. ``{"objection": "linear"}`` (a point's own
            ``structure.<mechanism>`` column wins).
        scenario: the base scenario: a bundled name, a scenario file or a ``Scenario``.
        horizon_days: days simulated (default: the scenario's).

    Raises:
        InputError: one line for an unknown path or output (with the closest valid one), a value out of
            range (naming the point and the path), or a batch that would not fit in memory.
    """
    rows, columns = _rows(points)
    wanted = _check_outputs(outputs)
    _check_paths(columns)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"evaluate: workers: must be a whole number >= 1 (got {shown(workers)})")
    base = _base(scenario, replications, seed, structure, horizon_days)
    scenarios = [_point_scenario(base, row, index) for index, row in enumerate(rows)]
    check_memory(point_memory_bytes(base.replications, workers), f"replications {base.replications} x workers "
                 f"{workers}", "replications or workers")
    results = run_packed(scenarios, [()] * len(scenarios), workers=workers) if scenarios else []
    if isinstance(points, pd.DataFrame):
        table = points.reset_index(drop=True)
    else:  # a path a dict leaves out shows the value the point ran with
        dumps = [s.model_dump() for s in scenarios]
        table = pd.DataFrame([[_current(d, c) for c in columns] for d in dumps], columns=columns)
    figures = [_figures(point, runs, wanted) for point, runs in zip(scenarios, results, strict=True)]
    out = pd.DataFrame(figures, columns=[c for name in wanted for c in _columns(name)], index=table.index)
    return pd.concat([table, out], axis=1)


def _rows(points: Points) -> tuple[list[dict[str, Any]], list[str]]:
    """The points as dicts, and the paths they set in first-seen order."""
    if isinstance(points, pd.DataFrame):
        columns = [str(c) for c in points.columns]
        return [dict(zip(columns, values, strict=True)) for values in points.itertuples(index=False)], columns
    if isinstance(points, (str, bytes, Mapping)) or not isinstance(points, Sequence):
        raise InputError(f"evaluate: points: must be a DataFrame or a list of dicts (got {type(points).__name__})")
    columns: dict[str, None] = {}
    for index, point in enumerate(points):
        if not isinstance(point, Mapping):
            raise InputError(f"evaluate: point {index}: must be a dict of dotted paths (got {type(point).__name__})")
        columns.update(dict.fromkeys(str(key) for key in point))
    return [{str(k): v for k, v in point.items()} for point in points], list(columns)


def valid_paths() -> list[str]:
    """Every path a point may set: the schema's parameters and the structural forms."""
    return [p.path for p in parameters()] + [p.path for p in forms()]


def _check_paths(columns: Sequence[str]) -> None:
    valid = valid_paths()
    known = set(valid)
    for column in columns:
        if column not in known:
            raise InputError(f"evaluate: unknown parameter {shown(column)}{suggest_path(column, valid)}")


def _check_outputs(outputs: Sequence[str] | None) -> tuple[str, ...]:
    if outputs is None:
        return DEFAULT_OUTPUTS
    if isinstance(outputs, str):
        outputs = [outputs]
    valid = output_names()
    for name in outputs:
        if name not in valid:
            close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (outputs: {', '.join(valid)})"
            raise InputError(f"evaluate: unknown output {shown(name)}{hint}")
    return tuple(outputs)


def output_names(horizon_days: int = 3650) -> list[str]:
    """The headline columns :func:`evaluate` can return (intervals come with every probability)."""
    runs = pd.DataFrame({"agreed": [True], "breakdown_day": [np.nan], "cause": ["held"]})
    row = summary_row(runs, horizon_days, "x", 0)
    return [k for k in row if k not in ("scenario", "replications", "seed", "horizon_days")
            and not k.endswith(INTERVAL_SUFFIXES)]


def _columns(name: str) -> list[str]:
    return [name, *(f"{name}{s}" for s in INTERVAL_SUFFIXES)] if name.startswith("p_") else [name]


def _figures(scenario: Scenario, runs: pd.DataFrame, wanted: Sequence[str]) -> list[float]:
    row = summary_row(runs, scenario.horizon_days, scenario.name, scenario.seed)
    return [float(row.get(column, math.nan)) for name in wanted for column in _columns(name)]


def _base(scenario: str | Path | Scenario, replications: int | None, seed: int | None,
          structure: Mapping[str, str] | None, horizon_days: int | None) -> Scenario:
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    document = base.model_dump()
    source = Path("evaluate")
    for path, value in (("replications", replications), ("seed", seed), ("horizon_days", horizon_days)):
        if value is not None:
            set_path(document, path, _plain(value), source)
    for mechanism, form in (structure or {}).items():
        set_path(document, f"structure.{mechanism}", form, Path("evaluate: structure"))
    return validate_document(document, source)


def _point_scenario(base: Scenario, row: Mapping[str, Any], index: int) -> Scenario:
    document = base.model_dump()
    source = Path(f"evaluate: point {index}")
    for path, value in row.items():
        set_path(document, path, _plain(value, _current(document, path)), source)
    return validate_document(document, source)


def _current(document: Mapping[str, Any], path: str) -> Any:
    node: Any = document
    for key in path.split("."):
        node = node[key]
    return node


def _plain(value: Any, current: Any = None) -> Any:
    """A numpy scalar as a Python one; a whole float for a whole-number parameter as an int (a DataFrame
    column of mixed values, or a SALib sample, holds floats)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(current, int) and not isinstance(current, bool) and isinstance(value, float) \
            and value.is_integer():
        return int(value)
    return value


# --------------------------------------------------------------------------- the parameter space


class ParameterSpace:
    """Every parameter of the scenario schema and every structural form (``sim.spec.space``).

    Attributes:
        parameters: the schema's parameters (:class:`sim.spec.space.Parameter`), in schema order.
        forms: one ``structure.<mechanism>`` entry per contested mechanism, its forms in ``choices``.
    """

    def __init__(self) -> None:
        self.parameters: list[Parameter] = parameters()
        self.forms: list[Parameter] = forms()

    @property
    def paths(self) -> list[str]:
        """Every path a point of :func:`evaluate` may set."""
        return [p.path for p in (*self.parameters, *self.forms)]

    @property
    def table(self) -> pd.DataFrame:
        """One row per parameter and per mechanism: path, kind, default, low, high, distribution, provenance …"""
        return pd.DataFrame([p.row() for p in (*self.parameters, *self.forms)])

    def __getitem__(self, path: str) -> Parameter:
        for parameter in (*self.parameters, *self.forms):
            if parameter.path == path:
                return parameter
        raise KeyError(f"{path}: unknown parameter{suggest_path(path, self.paths)}")

    def __len__(self) -> int:
        return len(self.parameters) + len(self.forms)

    def __repr__(self) -> str:
        uncertain = sum(1 for p in self.parameters if p.distribution)
        return (f"<ParameterSpace: {len(self.parameters)} parameters ({uncertain} with a prior), "
                f"{len(self.forms)} mechanisms; .table lists them>")

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, max_rows=200)

    def uncertain(self, names: Sequence[str] | None = None, kinds: Sequence[str] = ("float", "int", "bool")
                  ) -> list[Parameter]:
        """The parameters ``names`` (each must have a prior), or every parameter of ``kinds`` with a prior."""
        if names is None:
            return [p for p in self.parameters if p.distribution and p.kind in kinds]
        chosen = []
        for name in names:
            try:
                parameter = self[name]
            except KeyError as exc:
                raise InputError(f"parameter_space: {exc.args[0]}") from None
            if not parameter.distribution and parameter.kind != "form":
                raise InputError(f"parameter_space: {name}: has no prior range (its value is "
                                 f"{parameter.provenance}); give bounds yourself")
            chosen.append(parameter)
        return chosen

    def to_salib_problem(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """A SALib problem (``num_vars``, ``names``, ``bounds``, ``dists``) over ``names`` (default: every
        continuous parameter with a prior). A loguniform prior becomes SALib's ``logunif``; SALib samples
        floats, so an ``int`` parameter's samples need rounding before :func:`evaluate`."""
        kinds = ("float",) if names is None else ("float", "int")
        chosen = self.uncertain(names, kinds)
        for parameter in chosen:
            if parameter.kind not in ("float", "int"):
                raise InputError(f"parameter_space: {parameter.path}: a {parameter.kind} parameter has no "
                                 "SALib bounds; fix it with evaluate(..., structure=) or a column")
        return {"num_vars": len(chosen), "names": [p.path for p in chosen],
                "bounds": [[p.low, p.high] for p in chosen],
                "dists": ["logunif" if p.distribution == "loguniform" else "unif" for p in chosen]}

    def to_ema_model(self, function: Callable[..., Mapping[str, Any]] | None = None,
                     names: Sequence[str] | None = None, outputs: Sequence[str] | None = None,
                     name: str = "ceasefire", **evaluate_options: Any) -> Any:
        """An EMA Workbench ``Model`` whose uncertainties are ``names`` (default: every parameter with a prior;
        ``structure.<mechanism>`` entries become categorical), and whose outcomes are ``outputs``.

        Args:
            function: called with one keyword per uncertainty (the dotted paths), returning a dict of the
                outputs; default: :func:`evaluate` of that one point with ``evaluate_options``.
            outputs: outcome names (default :data:`DEFAULT_OUTPUTS`).

        Raises:
            InputError: EMA Workbench is not installed (``pip install 'ceasefire[ema]'``).
        """
        try:
            import ema_workbench as ema
        except ImportError:
            raise InputError("to_ema_model: needs EMA Workbench (pip install 'ceasefire[ema]')") from None
        wanted = _check_outputs(outputs)
        if function is None:
            function = _OnePoint(wanted, evaluate_options)
        model = ema.Model(name, function=function)
        model.uncertainties = [_ema_parameter(ema, p) for p in self.uncertain(names)]
        model.outcomes = [ema.ScalarOutcome(output) for output in wanted]
        return model


class _OnePoint:
    """EMA's model function: one point through :func:`evaluate` (a class, so worker processes can pickle it)."""

    def __init__(self, outputs: Sequence[str], options: Mapping[str, Any]) -> None:
        self.outputs, self.options = tuple(outputs), dict(options)

    def __call__(self, **point: Any) -> dict[str, float]:
        row = evaluate([point], outputs=self.outputs, **self.options).iloc[0]
        return {name: float(row[name]) for name in self.outputs}


def _ema_parameter(ema: Any, parameter: Parameter) -> Any:
    if parameter.kind == "form":
        return ema.CategoricalParameter(parameter.path, list(parameter.choices))
    if parameter.kind == "bool":
        return ema.BooleanParameter(parameter.path)
    if parameter.kind == "int":
        return ema.IntegerParameter(parameter.path, int(parameter.low), int(parameter.high))
    return ema.RealParameter(parameter.path, parameter.low, parameter.high)


def parameter_space() -> ParameterSpace:
    """Every parameter of the scenario schema (path, kind, default, prior range, provenance) and every
    structural form; ``.table`` as a DataFrame, ``.to_salib_problem()``, ``.to_ema_model()``."""
    return ParameterSpace()
