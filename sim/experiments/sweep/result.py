"""A finished sweep: its tables (``sweep.csv``, ``survival.csv`` and, for a Sobol design, ``sobol.csv``),
built from the points' records, and what its output folder holds (:meth:`SweepResult.artefacts`)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim.experiments.result import Artefacts
from sim.experiments.sweep.design import METRIC_COLUMNS, POSTERIOR_COLUMNS, SOBOL_OUTPUTS, Sweep
from sim.stats.metrics import wilson_interval
from sim.stats.sensitivity import binomial_noise_share, sobol_table
from sim.stats.validity import run_validity

SURVIVAL_COLUMNS: tuple[str, ...] = ("point", "day", "n_holding", "p_holding", "ci_low", "ci_high")
"""Columns of ``survival.csv`` (long form: one row per point and day)."""

FIGURES = {"hold": "hold.png", "heatmap": "heatmap.png", "main_effects": "main_effects.png", "sobol": "sobol.png"}
"""Figure kind -> file name in a sweep folder (drawn by ``sim.outputs.plots.sweep``)."""

EXTRA_PACKAGES = ("SALib", "distributed")
"""Packages a sweep may use beyond those every manifest records."""


class Records(Protocol):
    """Where the records of a sweep's finished points are kept (:mod:`sim.experiments.sweep.records`):
    in memory (:class:`KeptRecords`) or on disk while the sweep runs (``sim.outputs.partial``)."""

    done: set[int]

    def append(self, record: dict[str, Any]) -> None: ...

    def read(self, point: int) -> dict[str, Any]: ...


@dataclass
class KeptRecords:
    """Records kept in memory, by point."""

    records: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def done(self) -> set[int]:
        return set(self.records)

    def append(self, record: dict[str, Any]) -> None:
        self.records.setdefault(int(record["point"]), record)

    def read(self, point: int) -> dict[str, Any]:
        return self.records[point]


@dataclass
class SweepResult:
    """A finished sweep and how it ran.

    Attributes:
        sweep: the sweep.
        records: every point's record.
        points_run, points_resumed: points computed now, and found already saved.
        wall_seconds: time spent running points.
        workers: worker slots used (0 when every point was already saved).
        executor: where the points ran, e.g. ``2 local processes``.
    """

    sweep: Sweep
    records: Records
    points_run: int
    points_resumed: int
    wall_seconds: float
    workers: int
    executor: str

    @cached_property
    def table(self) -> pd.DataFrame:
        """``sweep.csv``: point, axis values, then ``METRIC_COLUMNS`` (and with a posterior
        ``POSTERIOR_COLUMNS`` and ``interval``), one row per point."""
        records = [self.records.read(point) for point in range(self.sweep.n_points)]
        metrics = pd.DataFrame([r["summary"] for r in records], columns=list(METRIC_COLUMNS))
        parts = [self.sweep.axis_table(), metrics]
        if self.sweep.posterior is not None:  # the spread and Monte-Carlo-only intervals; *_ci_* are pooled
            from sim.stats.posterior import INTERVAL_KIND

            extra = pd.DataFrame([r["posterior"] for r in records], columns=list(POSTERIOR_COLUMNS))
            parts.append(extra.assign(interval=INTERVAL_KIND))
        return pd.concat(parts, axis=1)

    def survival(self) -> pd.DataFrame:
        """``survival.csv`` in long form: each point's worlds holding on each day, with Wilson intervals."""
        days = np.arange(self.sweep.base.horizon_days + 1)
        frames = [_survival_rows(self.records.read(point), days) for point in range(self.sweep.n_points)]
        return pd.concat(frames, ignore_index=True)

    def sobol(self) -> pd.DataFrame | None:
        """``sobol.csv`` of a Sobol design (None for other designs): S1 and ST of each axis per output of
        :data:`~sim.experiments.sweep.design.SOBOL_OUTPUTS`, with ``noise_share`` per output
        (:func:`sim.stats.sensitivity.binomial_noise_share`: the level every ST reaches from the finite
        worlds per point alone)."""
        if self.sweep.design != "sobol":
            return None
        table = self.table
        outputs = {name: table[name].to_numpy(float) for name in SOBOL_OUTPUTS}
        bounds = [axis.bounds for axis in self.sweep.axes if axis.bounds is not None]
        indices = sobol_table(self.sweep.axis_names, bounds, outputs, self.sweep.base.seed)
        worlds = table["replications"].to_numpy(float)
        indices["noise_share"] = [binomial_noise_share(outputs[name], worlds) for name in indices["output"]]
        return indices

    def figures(self) -> tuple[str, ...]:
        """The file names of the figures of this sweep: P(holding) against one axis, a heat map over a two-axis
        grid, otherwise main effects; and the Sobol indices of a Sobol design."""
        axes = len(self.sweep.axes)
        kind = "hold" if axes == 1 else "heatmap" if axes == 2 and self.sweep.design == "grid" else "main_effects"
        return tuple(FIGURES[k] for k in (*(("sobol",) if self.sweep.design == "sobol" else ()), kind))

    def artefacts(self) -> Artefacts:
        """The folder of the sweep: its tables, figures and manifest fields."""
        tables = {"sweep.csv": self.table, "survival.csv": self.survival()}
        sobol = self.sobol()
        if sobol is not None:
            tables["sobol.csv"] = sobol
        return Artefacts("sweep", tables, manifest=self.manifest(),
                         figures=self.figures(),
                         scenario=self.sweep.base, source=self.sweep.scenario_file)

    def manifest(self) -> dict[str, Any]:
        """What a reader needs to reproduce the sweep: the resolved definition and its hash, how it ran, and what
        the empirical record covers of its headlines (``validity``: every point shares the base scenario's
        structure and horizon, so it is stated once here rather than as a column of ``sweep.csv``)."""
        sweep = self.sweep
        validity = run_validity(sweep.base.horizon_days, sweep.base.structure)
        return {
            "name": sweep.name,
            "description": sweep.description,
            "sweep_file": sweep.source,
            "design": sweep.design,
            "axes": sweep.axis_names,
            "n_points": sweep.n_points,
            "sweep_hash": sweep.digest(),
            "sweep": sweep.definition(),
            **_interval_fields(sweep),
            "workers": self.workers,
            "executor": self.executor,
            "points_run": self.points_run,
            "points_resumed": self.points_resumed,
            "wall_seconds": round(self.wall_seconds, 3),
            "packages": _package_versions(),
            "validity": {"code": validity.code, "note": validity.note},
        }


def _survival_rows(record: dict[str, Any], days: np.ndarray) -> pd.DataFrame:
    n_holding = np.asarray(record["n_holding"], dtype=np.int64)
    worlds = int(record["summary"]["replications"])
    low, high = wilson_interval(n_holding, worlds)
    return pd.DataFrame({"point": record["point"], "day": days, "n_holding": n_holding,
                         "p_holding": n_holding / worlds, "ci_low": low, "ci_high": high},
                        columns=list(SURVIVAL_COLUMNS))


def _interval_fields(sweep: Sweep) -> dict[str, Any]:
    """What the intervals of ``sweep.csv`` and ``survival.csv`` hold, and the posterior they come from."""
    if sweep.posterior is None:
        return {"interval": "monte_carlo"}
    from sim.stats.posterior import INTERVAL_KIND

    return {"interval": INTERVAL_KIND, "posterior": sweep.posterior.describe(sweep.base.replications),
            "intervals": {"sweep.csv": f"{INTERVAL_KIND}: *_ci_low/_ci_high pooled over the posterior draws; "
                                       "*_mc_ci_* Monte Carlo only (Wilson); *_parameter_sd the spread across "
                                       "the posterior",
                          "survival.csv": "monte_carlo: Wilson, over all the point's worlds"}}


def _package_versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for package in EXTRA_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    return found
