"""Sweep definitions: which scenario parameters vary, over which values, in which design.

A sweep file names a base scenario, the worlds per point, a seed, a design and its axes::

    name: troops_vs_monitoring
    scenario: ../baseline.yaml          # relative to this file
    replications: 1000                  # worlds per point
    seed: 20261125
    design: grid                        # grid | lhs | sobol
    axes:
      - name: coalition_troops          # one axis moving UK and France together
        set: {agents.UK.troops: 0.5, agents.FR.troops: 0.5}
        values: "0:60000:21"            # start:stop:steps, both ends included
      - set: agents.US.detection_probability
        values: [0.2, 0.5, 0.9]

Everything here is a pure function of the file and its seed: the points of a design, the
scenario of each point and the hash that ``--resume`` compares.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.core.bundled import is_bare_name, scenario_names, scenario_path
from sim.core.errors import InputError, one_line, shown
from sim.core.strict_yaml import reject_bools_for_numbers
from sim.engine.streams import StreamKey, generator
from sim.spec.scenario import (
    PLAIN_NAME,
    Scenario,
    describe_error,
    get_path,
    numeric_paths,
    read_yaml_mapping,
    resolve_document,
    set_path,
    suggest,
    validate_document,
)
from sim.stats.metrics import CAUSES
from sim.stats.sensitivity import latin_hypercube, saltelli_sample

if TYPE_CHECKING:
    from sim.stats.posterior import PosteriorChoice

Design = Literal["grid", "lhs", "sobol"]
SWEEP_SETTINGS: tuple[str, ...] = ("replications", "seed", "horizon_days")
"""Scenario fields a sweep sets once for all points; they cannot be axes."""

MAX_POINTS = 1_000_000
"""Largest number of points a design may have (a guard against typos such as ``0:1:10000000``);
counted from the ranges before any value is built."""

MAX_AXES = 50
"""Most axes of a sweep, in a file or as ``--param`` options."""

SOBOL_MIN_SAMPLES = 8
"""Fewest Saltelli base samples of a Sobol design.

The 95 % intervals of the indices come from bootstrapping the ``samples`` base rows, and ``N`` rows
have only C(2N-1, N) distinct resamples: 1 for N = 1 (so the interval has zero width around an
arbitrary number), 35 for N = 4, 462 for N = 6 -- fewer than the
:data:`sim.stats.sensitivity.SOBOL_RESAMPLES` drawn, so
the interval would be built from repeats. N = 7 is the first with more (1,716); 8 is the first
power of 2 above it. At 8 the intervals are wide but honest; use 256 or more to rank parameters.
"""

SOBOL_OUTPUTS: tuple[str, ...] = ("p_agreed", "p_hold_90", "p_hold_365", "p_hold_horizon")
"""Columns of ``sweep.csv`` whose Sobol indices go into ``sobol.csv``."""

METRIC_COLUMNS: tuple[str, ...] = (
    "horizon_days", "replications",
    *(f"{p}{s}" for p in SOBOL_OUTPUTS for s in ("", "_ci_low", "_ci_high")),
    "median_breakdown_day",
    *(f"share_{cause}" for cause in CAUSES),
)
"""Columns of ``sweep.csv`` after ``point`` and the axis columns, in order."""

POSTERIOR_COLUMNS: tuple[str, ...] = tuple(
    f"{p}{s}" for p in SOBOL_OUTPUTS for s in ("_parameter_sd", "_mc_ci_low", "_mc_ci_high"))
"""Columns a sweep with ``--posterior`` adds after :data:`METRIC_COLUMNS` (then ``interval``): the spread of
each probability across the posterior, and its Monte-Carlo-only Wilson interval; the ``*_ci_*`` columns of
:data:`METRIC_COLUMNS` then hold parameter and Monte Carlo uncertainty (``sim.stats.posterior.pooled_interval``)."""

_AXIS_NAME = r"^[A-Za-z][A-Za-z0-9_.+-]*$"
Label = Callable[[str], str]
"""Names a field of one axis in messages: ``label("values")`` -> ``sweep.yaml: axes.0.values``."""
_RANGE_HINT = "a list of numbers or 'start:stop:steps'"


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AxisSpec(_FileModel):
    """One axis as written in a sweep file; the fields are checked by :func:`build_axis`."""

    name: Annotated[str, Field(pattern=_AXIS_NAME, max_length=80)] | None = None
    set: Any = None
    scale: Any = None
    values: Any = None
    bounds: Any = None


class SweepSpec(_FileModel):
    """A sweep file as written."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=PLAIN_NAME)]
    description: str = ""
    scenario: Annotated[str, Field(min_length=1)]
    replications: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    horizon_days: Annotated[int, Field(ge=1, le=36_500)] | None = None
    design: Design = "grid"
    samples: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = None
    fixed: dict[str, Any] = Field(default_factory=dict)
    axes: Annotated[list[AxisSpec], Field(min_length=1, max_length=MAX_AXES)]


@dataclass(frozen=True)
class Axis:
    """A resolved axis.

    Attributes:
        name: column name in ``sweep.csv``.
        mode: ``set``: each target parameter = weight × axis value; ``scale``: each target =
            its base value × axis value (a dimensionless factor).
        targets: (dotted path, weight) pairs; weights are 1 in ``scale`` mode.
        values: the grid's values (grid designs only).
        bounds: (low, high) sampled uniformly (Latin hypercube and Sobol designs only).
    """

    name: str
    mode: Literal["set", "scale"]
    targets: tuple[tuple[str, float], ...]
    values: tuple[float, ...] | None = None
    bounds: tuple[float, float] | None = None

    def assign(self, value: float, base: Mapping[str, Any]) -> dict[str, float | int]:
        """Parameter values at axis value ``value``; ``base`` maps path -> base value (ints stay ints)."""
        out: dict[str, float | int] = {}
        for path, weight in self.targets:
            raw = weight * value if self.mode == "set" else base[path] * value
            out[path] = round(raw) if isinstance(base[path], int) else float(raw)
        return out

    def describe(self) -> dict[str, Any]:
        """The axis as plain data (for the manifest and the hash)."""
        return {
            "name": self.name, "mode": self.mode, "targets": dict(self.targets),
            "values": list(self.values) if self.values is not None else None,
            "bounds": list(self.bounds) if self.bounds is not None else None,
        }


@dataclass(frozen=True)
class Sweep:
    """A resolved sweep: a validated base scenario, axes and the matrix of points.

    Attributes:
        source: where the sweep came from, for messages (the file, or ``--param``).
        base: the base scenario with the sweep's replications, seed, horizon and fixed values.
        points: (n_points, n_axes) axis values; row ``p`` is point ``p``.
        common_random_numbers: every point runs the same worlds' streams (paired comparisons);
            off, each point has streams of its own (:func:`point_stream`).
        posterior: ``--posterior``: the posterior's parameters are drawn per world, world ``r`` running
            draw ``r % draws`` at every point (:meth:`world_draws`); None: the scenario's values.
    """

    name: str
    description: str
    source: str
    scenario_file: Path
    base: Scenario
    design: Design
    samples: int | None
    axes: tuple[Axis, ...]
    points: np.ndarray = field(repr=False, compare=False)
    common_random_numbers: bool = True
    posterior: PosteriorChoice | None = field(default=None, compare=False)

    @property
    def n_points(self) -> int:
        """Number of points (rows of ``sweep.csv``)."""
        return int(self.points.shape[0])

    @property
    def axis_names(self) -> list[str]:
        """Axis column names, in order."""
        return [axis.name for axis in self.axes]

    def overrides(self, index: int) -> dict[str, float | int]:
        """Parameter values (by dotted path) of point ``index``."""
        base = _base_values(self.base, self.axes)
        out: dict[str, float | int] = {}
        for axis, value in zip(self.axes, self.points[index], strict=True):
            out.update(axis.assign(float(value), base))
        return out

    def scenario_at(self, index: int) -> Scenario:
        """The validated scenario of point ``index``."""
        document = self.base.model_dump(mode="python")
        for path, value in self.overrides(index).items():
            set_path(document, path, value, source=Path(self.source))
        return validate_document(document, source=Path(self.source))

    def definition(self) -> dict[str, Any]:
        """Everything that determines the results, as plain data (names and descriptions excluded)."""
        points = np.ascontiguousarray(self.points, dtype="<f8")
        return {
            "format": 2,  # 2: per-world random streams (sim.engine.streams)
            "design": self.design,
            "samples": self.samples,
            "replications": self.base.replications,
            "seed": self.base.seed,
            "horizon_days": self.base.horizon_days,
            "random_numbers": "common" if self.common_random_numbers else "independent",
            "base_scenario": self.base.model_dump(mode="json", exclude={"name", "description"}),
            "axes": [axis.describe() for axis in self.axes],
            "n_points": self.n_points,
            "points_sha256": hashlib.sha256(points.tobytes()).hexdigest(),
            **({"posterior": self.posterior.key()} if self.posterior is not None else {}),
        }

    def world_draws(self, check: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
        """With a posterior: (per-world values, draw of each world), the same at every point; else None.

        Args:
            check: validate each drawn particle against the base scenario (once, before any work).
        """
        if self.posterior is None:
            return None
        return self.posterior.world_values(self.base.seed, self.base.replications,
                                           template=self.base if check else None)

    def digest(self) -> str:
        """SHA-256 of :meth:`definition` (canonical JSON): equal hashes, interchangeable results."""
        return _sha256(self.definition())

    def stream(self, index: int) -> tuple[int, ...]:
        """The stream key of point ``index``'s worlds (:func:`point_stream`)."""
        return point_stream(index, self.common_random_numbers)

    def point_digest(self, index: int, scenario: Scenario | None = None) -> str:
        """SHA-256 of everything that determines point ``index``'s figures: its scenario (parameters,
        structure, seed, worlds, horizon), its random streams and the posterior its worlds draw from.

        Args:
            scenario: :meth:`scenario_at` of ``index``, when already built.
        """
        scenario = scenario if scenario is not None else self.scenario_at(index)
        return _sha256({"scenario": scenario.model_dump(mode="json", exclude={"name", "description"}),
                        "stream": list(self.stream(index)),
                        "posterior": self.posterior.key() if self.posterior is not None else None})

    def axis_table(self) -> pd.DataFrame:
        """``point`` and one column per axis: the leading columns of ``sweep.csv``."""
        table = pd.DataFrame(self.points, columns=self.axis_names)
        table.insert(0, "point", np.arange(self.n_points))
        return table


def point_stream(index: int, common_random_numbers: bool = True) -> tuple[int, ...]:
    """The stream key of the worlds of point ``index``: ``()`` (the streams of ``ceasefire run``) with
    common random numbers, else ``(index,)``."""
    return () if common_random_numbers else (index,)


def _sha256(document: Any) -> str:
    """SHA-256 of ``document`` as canonical JSON (keys sorted, no spaces)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def with_posterior(sweep: Sweep, choice: PosteriorChoice) -> Sweep:
    """``sweep`` with its worlds' parameters drawn from a posterior (``--posterior``), checked before any work.

    Raises:
        InputError: an axis moves a parameter the posterior draws, or a drawn value is invalid.
    """
    for axis in sweep.axes:
        choice.check_free([path for path, _ in axis.targets], f"axis '{axis.name}'")
    sweep = replace(sweep, posterior=choice)
    sweep.world_draws(check=True)  # each drawn particle against the schema; axes are disjoint, so every point
    return sweep


# --------------------------------------------------------------------------- loading


def load_sweep(path: str | Path, settings: Mapping[str, int] | None = None) -> Sweep:
    """Read and resolve a sweep file.

    Args:
        path: the sweep YAML; its ``scenario`` is relative to it.
        settings: ``replications``, ``seed`` or ``horizon_days`` overriding the file's (from the CLI).

    Raises:
        InputError: one line ``FILE: FIELD: what to fix``.
    """
    path = Path(path)
    document = read_yaml_mapping(path)
    if "axes" not in document and "scenario" not in document:
        raise InputError(f"{path}: axes: is required (if this is a scenario, give --param PATH=VALUES "
                         "for a quick sweep)")
    reject_bools_for_numbers(document, SweepSpec, path)
    try:
        spec = SweepSpec.model_validate(document)
    except ValidationError as exc:
        raise InputError(f"{path}: {describe_error(exc.errors()[0], SweepSpec)}") from None
    scenario_file = path.parent / spec.scenario
    try:
        found = "\x00" not in spec.scenario and scenario_file.exists()
    except OSError:  # e.g. a name too long
        found = False
    if not found and is_bare_name(spec.scenario) and spec.scenario in scenario_names():
        scenario_file, found = scenario_path(spec.scenario), True  # `scenario: baseline`, the bundled one
    if not found:
        raise InputError(f"{path}: scenario: no such file {shown(spec.scenario)} (relative to this file; "
                         f"or a bundled scenario: {', '.join(scenario_names())})")
    return build_sweep(spec, scenario_file, source=str(path), settings=settings)


def quick_sweep(scenario_file: str | Path, params: Sequence[str], settings: Mapping[str, int] | None = None,
                name: str | None = None) -> Sweep:
    """A grid sweep from ``--param PATHS=VALUES`` options over a scenario file.

    Args:
        scenario_file: the base scenario YAML.
        params: e.g. ``"agents.UK.troops=0:20000:5"``, ``"agents.US.detection_probability=0.2,0.5"``;
            several comma-separated paths before ``=`` move together.
        settings: ``replications``, ``seed`` or ``horizon_days`` overriding the scenario's.
        name: sweep name (default ``<scenario name>_sweep``).
    """
    scenario_file = Path(scenario_file)
    if len(params) > MAX_AXES:
        raise InputError(f"--param: at most {MAX_AXES} axes (got {len(params)})")
    if "axes" in read_yaml_mapping(scenario_file):
        raise InputError(f"{scenario_file}: --param: this is a sweep file; --param sweeps a scenario file")
    axes = []
    for raw in params:
        paths, sep, values = raw.partition("=")
        if not sep or not paths.strip():
            raise InputError(f"--param {one_line(raw, 80)}: must be PATH=VALUES, e.g. agents.UK.troops=0:20000:5")
        targets = [p.strip() for p in paths.split(",")]
        axes.append(AxisSpec.model_construct(name="+".join(targets), set=targets, scale=None,
                                             values=values.strip(), bounds=None))
    spec = SweepSpec.model_construct(
        name=name or "sweep", description=f"quick sweep of {scenario_file}",
        scenario=str(scenario_file), replications=None, seed=None, horizon_days=None, design="grid",
        samples=None, fixed={}, axes=axes,
    )
    labels = [_fixed_label(f"--param {one_line(raw, 80)}") for raw in params]
    sweep = build_sweep(spec, scenario_file, source=str(scenario_file), settings=settings, labels=labels)
    return sweep if name else replace(sweep, name=f"{sweep.base.name}_sweep")


def build_sweep(spec: SweepSpec, scenario_file: Path, source: str, settings: Mapping[str, int] | None = None,
                labels: Sequence[Label] | None = None) -> Sweep:
    """Resolve a parsed sweep: base scenario, axes, points; the extreme points are validated.

    Args:
        labels: how to name each axis's fields in messages (default ``FILE: axes.N.FIELD``).
    """
    base = _base_scenario(spec, scenario_file, source, settings or {})
    _check_samples(spec, source)
    if spec.design == "grid":
        _check_count(spec.design, math.prod(declared_count(axis.values) for axis in spec.axes), source)
    valid = [p for p in numeric_paths(base) if p not in SWEEP_SETTINGS]
    document = base.model_dump(mode="python")
    labels = labels or [_field_label(f"{source}: axes.{i}") for i in range(len(spec.axes))]
    axes = [build_axis(axis_spec, spec.design, valid, document, label)
            for axis_spec, label in zip(spec.axes, labels, strict=True)]
    _check_axes_disjoint(axes, labels)
    _check_whole_numbers(axes, spec.design, document, labels)
    for axis, label in zip(axes, labels, strict=True):
        fixed = [path for path, _ in axis.targets if path in spec.fixed]
        if fixed:
            raise InputError(f"{label(axis.mode)}: {fixed[0]} is also under 'fixed'; keep one")
    _check_size(spec.design, axes, spec.samples, source)
    points = design_points(spec.design, axes, spec.samples, base.seed)
    sweep = Sweep(spec.name, spec.description, source, scenario_file, base, spec.design, spec.samples,
                  tuple(axes), points)
    check_points(sweep)
    return sweep


def _base_scenario(spec: SweepSpec, scenario_file: Path, source: str, settings: Mapping[str, int]) -> Scenario:
    """The scenario file (its own errors name it), then the sweep's settings and ``fixed`` values
    (whose errors name the sweep)."""
    document = resolve_document(scenario_file)
    validate_document(copy.deepcopy(document), source=scenario_file)
    for key in SWEEP_SETTINGS:
        value = settings.get(key, getattr(spec, key))
        if value is not None:
            document[key] = value
    for path, value in spec.fixed.items():
        if path in SWEEP_SETTINGS:
            raise InputError(f"{source}: fixed.{path}: set it at the top of the sweep file")
        set_path(document, path, value, source=Path(f"{source}: fixed"))
    return validate_document(document, source=Path(source))


def _field_label(prefix: str) -> Label:
    return lambda name: f"{prefix}.{name}"


def _fixed_label(text: str) -> Label:
    return lambda name: text


def build_axis(spec: AxisSpec, design: Design, valid: Sequence[str], document: Mapping[str, Any],
               label: Label) -> Axis:
    """Check one axis of a sweep file and resolve it.

    Args:
        valid: the dotted paths an axis may address.
        document: the base scenario as a mapping (to read base values and types).
        label: names the axis's fields in messages.
    """
    if (spec.set is None) == (spec.scale is None):
        raise InputError(f"{label('set')}: give exactly one of 'set' (parameters take the value) or 'scale' "
                         "(parameters are multiplied by it)")
    mode: Literal["set", "scale"] = "set" if spec.set is not None else "scale"
    targets = _targets(spec.set if mode == "set" else spec.scale, mode, valid, document, label(mode))
    name = spec.name or (targets[0][0] if len(targets) == 1 else None)
    if name is None:
        raise InputError(f"{label('name')}: is required when an axis moves several parameters")
    if name == "point" or name in METRIC_COLUMNS:
        raise InputError(f"{label('name')}: '{name}' is a column of sweep.csv; choose another name")
    if design == "grid":
        if spec.bounds is not None:
            raise InputError(f"{label('bounds')}: only for 'lhs' and 'sobol' designs; a grid takes 'values'")
        if spec.values is None:
            raise InputError(f"{label('values')}: is required for a grid design ({_RANGE_HINT})")
        return Axis(name, mode, targets, values=parse_values(spec.values, label("values")))
    if spec.values is not None:
        raise InputError(f"{label('values')}: only for grid designs; a {design} design takes 'bounds: [low, high]'")
    if spec.bounds is None:
        raise InputError(f"{label('bounds')}: is required for a {design} design, e.g. bounds: [0, 1]")
    return Axis(name, mode, targets, bounds=parse_bounds(spec.bounds, label("bounds")))


def _targets(raw: Any, mode: str, valid: Sequence[str], document: Mapping[str, Any],
             label: str) -> tuple[tuple[str, float], ...]:
    """Parse ``set``/``scale``: a path, a list of paths, or (``set`` only) a mapping path -> weight."""
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, list):
        pairs = [(path, 1.0) for path in raw]
    elif isinstance(raw, dict) and mode == "set":
        pairs = list(raw.items())
    else:
        shape = "a path or a list of paths" + (", or a mapping path: weight" if mode == "set" else "")
        raise InputError(f"{label}: must be {shape} (got {shown(raw)})")
    if not pairs:
        raise InputError(f"{label}: names no parameter")
    seen = set()
    for path, weight in pairs:
        _check_path(path, valid, document, label)
        if path in seen:
            raise InputError(f"{label}: {path} is named twice")
        seen.add(path)
        if not _is_number(weight):
            raise InputError(f"{label}: {path}: weight must be a number (got {shown(weight)})")
    return tuple((path, float(weight)) for path, weight in pairs)


def _check_path(path: Any, valid: Sequence[str], document: Mapping[str, Any], label: str) -> None:
    if not isinstance(path, str):
        raise InputError(f"{label}: parameter paths must be text (got {shown(path)})")
    if path in valid:
        return
    if path in SWEEP_SETTINGS:
        raise InputError(f"{label}: {path} is a sweep setting, not a parameter (set it at the top of a sweep "
                         "file or with --replications/--seed/--horizon)")
    if isinstance(get_path(document, path), bool):
        raise InputError(f"{label}: {path} is yes/no, not numeric; fix it in the scenario or under 'fixed'")
    raise InputError(f"{label}: unknown parameter {shown(path)}{suggest(path, list(valid))}")


def _base_values(base: Scenario, axes: Sequence[Axis]) -> dict[str, Any]:
    document = base.model_dump(mode="python")
    return {path: get_path(document, path) for axis in axes for path, _ in axis.targets}


def _check_axes_disjoint(axes: Sequence[Axis], labels: Sequence[Label]) -> None:
    owner: dict[str, int] = {}
    for i, axis in enumerate(axes):
        for path, _ in axis.targets:
            if path in owner:
                raise InputError(f"{labels[i]('set')}: {path} is already moved by axis '{axes[owner[path]].name}'")
            owner[path] = i
    names = [axis.name for axis in axes]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InputError(f"{labels[i]('name')}: two axes are named '{name}'")


def _check_samples(spec: SweepSpec, source: str) -> None:
    if spec.design == "grid":
        if spec.samples is not None:
            raise InputError(f"{source}: samples: only for 'lhs' and 'sobol' designs (a grid runs every combination)")
        return
    if spec.samples is None:
        raise InputError(f"{source}: samples: is required for a {spec.design} design")
    if spec.design == "sobol" and spec.samples < SOBOL_MIN_SAMPLES:
        raise InputError(f"{source}: samples: at least {SOBOL_MIN_SAMPLES} for a Sobol design (got {spec.samples}; "
                         "fewer give confidence intervals made of repeats; 256 or more to rank parameters)")
    if spec.design == "sobol" and spec.samples & (spec.samples - 1):
        suggestion = 1 << max(1, round(math.log2(spec.samples)))
        raise InputError(f"{source}: samples: must be a power of 2 for a Sobol design (got {spec.samples}; "
                         f"try {suggestion})")


def _check_size(design: Design, axes: Sequence[Axis], samples: int | None, source: str) -> None:
    _check_count(design, design_size(design, axes, samples), source)


def _check_count(design: Design, count: int, source: str) -> None:
    if count > MAX_POINTS:
        hint = " (use an 'lhs' design)" if design == "grid" else ""
        raise InputError(f"{source}: {design} design of {count:,} points; at most {MAX_POINTS:,}{hint}")


def design_size(design: Design, axes: Sequence[Axis], samples: int | None) -> int:
    """Number of points of a design, without building it."""
    if design == "grid":
        return math.prod(len(axis.values or ()) for axis in axes)
    return int(samples or 0) * (len(axes) + 2 if design == "sobol" else 1)


def declared_count(raw: Any) -> int:
    """How many values a grid axis's ``values`` declares, counted without building them.

    ``"0:1:10000000"`` counts 10,000,000 from its ``steps`` alone; something unreadable counts 1
    (:func:`parse_values` then says what is wrong).
    """
    if isinstance(raw, list):
        return len(raw)
    if not isinstance(raw, str):
        return 1
    text = raw.strip()
    if ":" not in text:
        return text.count(",") + 1
    parts = text.split(":")
    try:
        return max(int(parts[2]), 1) if len(parts) == 3 else 1
    except ValueError:  # also digit strings longer than Python converts
        return 1


def _check_whole_numbers(axes: Sequence[Axis], design: Design, document: Mapping[str, Any],
                         labels: Sequence[Label]) -> None:
    """Whole-number parameters (days) take whole values at every point: no silent rounding.

    A grid's values must give whole numbers; a sampled design (``lhs``, ``sobol``) draws fractions,
    so it may not move them at all.
    """
    for axis, label in zip(axes, labels, strict=True):
        base = _base_values_of(document, axis)
        whole = [path for path, _ in axis.targets if isinstance(base[path], int)]
        if not whole:
            continue
        if axis.values is None:
            raise InputError(f"{label('bounds')}: {whole[0]} takes whole numbers (days) and a {design} design "
                             "draws fractions; sweep it on a grid of whole values")
        for value in axis.values:
            assigned = {path: (weight * value if axis.mode == "set" else base[path] * value)
                        for path, weight in axis.targets if path in whole}
            for path, raw in assigned.items():
                if abs(raw - round(raw)) > 1e-9 * max(1.0, abs(raw)):
                    gives = "" if raw == value else f" gives {raw:g}"
                    raise InputError(f"{label('values')}: {path} takes whole numbers (days); value {value:g}"
                                     f"{gives} is not one")


def _base_values_of(document: Mapping[str, Any], axis: Axis) -> dict[str, Any]:
    return {path: get_path(document, path) for path, _ in axis.targets}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --------------------------------------------------------------------------- values


def parse_values(raw: Any, label: str) -> tuple[float, ...]:
    """Grid values: a YAML list, ``"start:stop:steps"`` (``steps`` values, ends included) or ``"a,b,c"``.

    Raises:
        InputError: on an empty list or range, ``steps < 1``, repeated or non-numeric values.
    """
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise InputError(f"{label}: empty range (give {_RANGE_HINT})")
        values = parse_range(text, label) if ":" in text else [_number(part, label) for part in text.split(",")]
    elif isinstance(raw, list):
        values = [_number(item, label) for item in raw]
    else:
        raise InputError(f"{label}: must be {_RANGE_HINT} (got {shown(raw)})")
    if not values:
        raise InputError(f"{label}: empty list of values")
    seen: set[float] = set()
    for value in values:  # a set: linear in the number of values (a range holds up to MAX_POINTS)
        if value in seen:
            raise InputError(f"{label}: value {value:g} is repeated")
        seen.add(value)
    return tuple(values)


def parse_range(text: str, label: str) -> list[float]:
    """``"start:stop:steps"`` -> ``steps`` evenly spaced values from start to stop inclusive.

    Raises:
        InputError: on a malformed range or more than :data:`MAX_POINTS` steps (checked before
            any value is built).
    """
    parts = text.split(":")
    if len(parts) != 3:
        raise InputError(f"{label}: range must be start:stop:steps (got {shown(text)})")
    start, stop = _number(parts[0], label), _number(parts[1], label)
    try:
        steps = int(parts[2])
    except ValueError:
        raise InputError(f"{label}: steps must be a whole number (got {shown(parts[2])})") from None
    if steps < 1:
        raise InputError(f"{label}: steps must be >= 1 (got {shown(steps)})")
    if steps > MAX_POINTS:
        raise InputError(f"{label}: {steps:,} steps; a design has at most {MAX_POINTS:,} points")
    if steps > 1 and start == stop:
        raise InputError(f"{label}: empty range {shown(text)} (start equals stop; give one value instead)")
    return [float(v) for v in np.linspace(start, stop, steps)]


def parse_bounds(raw: Any, label: str) -> tuple[float, float]:
    """``[low, high]`` with ``low < high``."""
    if not isinstance(raw, list) or len(raw) != 2:
        raise InputError(f"{label}: must be [low, high] (got {shown(raw)})")
    low, high = (_number(v, label) for v in raw)
    if not low < high:
        raise InputError(f"{label}: low must be < high (got {shown(raw)})")
    return low, high


def _number(raw: Any, label: str) -> float:
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            raise InputError(f"{label}: not a number: {shown(raw.strip())}") from None
    if not _is_number(raw):
        raise InputError(f"{label}: not a finite number: {shown(raw)}")
    return float(raw)


# --------------------------------------------------------------------------- designs


def design_points(design: Design, axes: Sequence[Axis], samples: int | None, seed: int) -> np.ndarray:
    """The (n_points, n_axes) matrix of axis values of a design.

    Grid: every combination, the first axis varying slowest. Latin hypercube: ``samples`` points.
    Sobol: ``samples × (n_axes + 2)`` points of Saltelli's scheme (first and total order). The sampled
    designs draw from the stream ``StreamKey.SWEEP_DESIGN`` of ``seed``.
    """
    if design == "grid":
        return grid_points([axis.values or () for axis in axes])
    bounds = [axis.bounds for axis in axes if axis.bounds is not None]
    rng = generator(seed, StreamKey.SWEEP_DESIGN)
    if design == "lhs":
        return latin_hypercube(int(samples or 0), bounds, rng)
    return saltelli_sample(int(samples or 0), bounds, rng)


def grid_points(values: Sequence[Sequence[float]]) -> np.ndarray:
    """Full factorial of the axes' values; row-major (last axis fastest)."""
    count = math.prod(len(v) for v in values)
    return np.array(list(itertools.product(*values)), dtype=float).reshape(count, len(values))


def check_points(sweep: Sweep) -> None:
    """Validate every point's scenario before any work, naming the point and its axis values.

    Raises:
        InputError: e.g. ``sweep.yaml: point 12 (detection=1.2): agents.US.detection_probability: must be <= 1``.
    """
    document = sweep.base.model_dump(mode="python")
    base = _base_values(sweep.base, sweep.axes)
    for index in _extreme_points(sweep.points):
        candidate = copy.deepcopy(document)
        for axis, value in zip(sweep.axes, sweep.points[index], strict=True):
            for path, assigned in axis.assign(float(value), base).items():
                set_path(candidate, path, assigned, source=Path(sweep.source))
        try:
            Scenario.model_validate(candidate)
        except ValidationError as exc:
            where = ", ".join(f"{n}={v:g}" for n, v in zip(sweep.axis_names, sweep.points[index], strict=True))
            raise InputError(f"{sweep.source}: point {index} ({where}): "
                             f"{describe_error(exc.errors()[0], Scenario)}") from None


def _extreme_points(points: np.ndarray) -> list[int]:
    """Rows holding each axis's minimum or maximum: axes move disjoint box-constrained fields,
    so if these points validate, every point does (ints are rounded, which keeps them in range)."""
    if points.size == 0:
        return []
    rows = set(np.argmin(points, axis=0).tolist()) | set(np.argmax(points, axis=0).tolist())
    return sorted(rows)

