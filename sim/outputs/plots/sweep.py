"""Figures of a sweep folder, drawn from its CSV tables alone.

The figure depends on the sweep: one axis -> ``hold.png`` (P(holding) against the parameter,
one line per horizon, Wilson 95 % bands); two axes on a full grid -> ``heatmap.png`` (P(holding
at 365 days) with the 0.5 contour); otherwise -> ``main_effects.png`` (one panel per axis);
Sobol sweeps add ``sobol.png`` (S1 and ST with 95 % bootstrap error bars).

Each ``plot_*`` function returns the :class:`matplotlib.figure.Figure` and also saves it as PNG when given
a path; :func:`draw` writes the figures a sweep's manifest names (``ceasefire sweep``, ``ceasefire plot``),
:func:`plot_sweep_dir` those its tables call for, and returns their paths.

The axes of ``sweep.csv`` are its columns between ``point`` and ``horizon_days``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter, MaxNLocator

from sim.experiments.sweep.design import METRIC_COLUMNS, SOBOL_OUTPUTS
from sim.experiments.sweep.result import FIGURES
from sim.outputs.plots.runs import (
    HOLD_LABEL,
    PlotInputError,
    check_numbers,
    finish_figure,
    line_with_band,
    new_figure,
    read_table,
)
from sim.stats.metrics import HOLD_DAYS, wilson_interval

SWEEP_PLOTS: dict[str, str] = FIGURES
"""Figure kind -> file name in a sweep folder."""

SWEEP_REQUIRED: tuple[str, ...] = ("point", *METRIC_COLUMNS)
SWEEP_NUMBERS: tuple[str, ...] = ("point", "horizon_days", "replications", "p_agreed", "p_hold_horizon",
                                  "p_hold_horizon_ci_low", "p_hold_horizon_ci_high")
"""Columns of ``sweep.csv`` that hold a number on every line; the other metric columns may be empty."""
SWEEP_PROBABILITIES: tuple[str, ...] = tuple(
    c for c in METRIC_COLUMNS if c.startswith("share_") or any(c.startswith(p) for p in SOBOL_OUTPUTS))
SOBOL_REQUIRED: tuple[str, ...] = ("output", "parameter", "S1", "S1_conf", "ST", "ST_conf")
MAX_LEVELS = 25
"""An axis with more distinct values than this is binned (into ``BINS`` quantile bins) in main effects."""
BINS = 10
CMAP = "RdYlGn"
"""Red (breaks down) to green (holds)."""


def axis_columns(table: pd.DataFrame, source: str = "sweep.csv") -> list[str]:
    """The axis columns of a ``sweep.csv`` table: those between ``point`` and ``horizon_days``."""
    columns = list(table.columns)
    axes = columns[columns.index("point") + 1: columns.index("horizon_days")]
    if not axes:
        raise PlotInputError(f"{source}: no axis columns between 'point' and 'horizon_days'")
    return axes


def hold_metric(table: pd.DataFrame) -> tuple[str, str]:
    """(column, label) of P(holding at 365 days), or at the horizon when it is shorter than 365 days."""
    if table["p_hold_365"].notna().any():
        return "p_hold_365", "P(holding at 365 days)"
    return "p_hold_horizon", f"P(holding at {int(table['horizon_days'].iloc[0])} days)"


def _horizons(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(column prefix, legend label) for 90 days, 365 days and the horizon, skipping absent or repeated ones."""
    horizon = int(table["horizon_days"].iloc[0])
    out = [(f"p_hold_{day}", f"{day} days") for day in HOLD_DAYS
           if day < horizon and table[f"p_hold_{day}"].notna().any()]
    return out + [("p_hold_horizon", f"{horizon} days (horizon)")]


def _format_axis(ax: Axes, name: str, values: pd.Series, which: str = "x", centres: bool = False) -> None:
    """Label an axis by the parameter name; thousands as 10k; ``centres``: ticks at the values (few only)."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    distinct = np.unique(values.to_numpy(float))
    if centres and len(distinct) <= 12:
        axis.set_ticks(distinct)
    if float(np.abs(distinct).max()) >= 10_000:
        axis.set_major_formatter(EngFormatter(sep=""))
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(name)


def plot_hold_vs_axis(table: pd.DataFrame, axis: str, path: str | Path | None = None, title: str = "") -> Figure:
    """P(holding) against one parameter, one line per horizon, each with its Wilson 95 % band."""
    ordered = table.sort_values(axis, kind="stable")
    fig, axes = new_figure(8.0, 5.0)
    ax = axes[0, 0]
    n = int(ordered["replications"].iloc[0])
    for i, (column, label) in enumerate(_horizons(ordered)):
        line_with_band(ax, ordered[axis], ordered[column], ordered[f"{column}_ci_low"],
                        ordered[f"{column}_ci_high"], label=f"at {label}", colour=f"C{i}")
        ax.plot(ordered[axis], ordered[column], "o", ms=3, color=f"C{i}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel(HOLD_LABEL + " (all worlds)")
    _format_axis(ax, axis, ordered[axis])
    ax.grid(alpha=0.3)
    ax.legend(loc="best", title=f"shaded: Wilson 95% CI, N={n} worlds/point", fontsize=9, title_fontsize=9)
    ax.set_title(title or f"Probability the ceasefire holds against {axis}")
    return finish_figure(fig, path)


def is_full_grid(table: pd.DataFrame, axes: Sequence[str]) -> bool:
    """Whether the points are every combination of the axes' distinct values, each once."""
    distinct = [table[a].nunique() for a in axes]
    return int(np.prod(distinct)) == len(table) and not table.duplicated(list(axes)).any()


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centre values (midpoints; the ends extended by half a step)."""
    if len(values) == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mid = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mid[0]], mid, [2 * values[-1] - mid[-1]]])


def plot_heatmap(table: pd.DataFrame, x: str, y: str, path: str | Path | None = None, title: str = "") -> Figure:
    """P(holding at 365 days) over a two-axis grid, with the contour where it equals 0.5."""
    column, label = hold_metric(table)
    grid = table.pivot(index=y, columns=x, values=column).sort_index().sort_index(axis=1)
    xs, ys, z = grid.columns.to_numpy(float), grid.index.to_numpy(float), grid.to_numpy(float)
    fig, axes = new_figure(8.0, 6.0)
    ax = axes[0, 0]
    mesh = ax.pcolormesh(_edges(xs), _edges(ys), z, cmap=CMAP, vmin=0.0, vmax=1.0, shading="flat")
    fig.colorbar(mesh, ax=ax, label=label)
    if min(z.shape) >= 2 and np.nanmin(z) < 0.5 < np.nanmax(z):
        lines = ax.contour(xs, ys, z, levels=[0.5], colors="black", linewidths=1.5)
        ax.clabel(lines, fmt={0.5: "P = 0.5"}, fontsize=9)
    _format_axis(ax, x, table[x], centres=True)
    _format_axis(ax, y, table[y], which="y", centres=True)
    n = int(table["replications"].iloc[0])
    ax.set_title(title or f"{label} (N={n} worlds per cell; black line: 0.5)")
    return finish_figure(fig, path)


def _levels(values: pd.Series) -> pd.Series:
    """Group key per point: the value itself, or its quantile bin when there are many distinct values."""
    if values.nunique() <= MAX_LEVELS:
        return values
    return pd.qcut(values, BINS, duplicates="drop").cat.codes


def plot_main_effects(
    table: pd.DataFrame, axes_names: Sequence[str], path: str | Path | None = None, title: str = ""
) -> Figure:
    """One panel per axis: P(holding) pooled over the other axes at each level (or bin), Wilson 95 % band.

    Dots are the individual points; the line pools their worlds (successes and trials add up).
    """
    column, label = hold_metric(table)
    cols = min(3, len(axes_names))
    rows = -(-len(axes_names) // cols)
    fig, grid = new_figure(4.2 * cols, 3.6 * rows, rows, cols)
    held = (table[column] * table["replications"]).round()
    for ax, name in zip(grid.flat, axes_names, strict=False):
        groups = pd.DataFrame({"x": table[name], "held": held, "n": table["replications"]}).groupby(
            _levels(table[name]).to_numpy())
        pooled = groups.agg(x=("x", "mean"), held=("held", "sum"), n=("n", "sum")).sort_values("x")
        low, high = wilson_interval(pooled["held"].to_numpy(), pooled["n"].to_numpy())
        ax.plot(table[name], table[column], ".", ms=3, color="0.6", alpha=0.5, label="points")
        line_with_band(ax, pooled["x"], pooled["held"] / pooled["n"], pd.Series(low), pd.Series(high),
                        label="pooled mean", colour="tab:blue")
        ax.set_ylim(-0.02, 1.02)
        _format_axis(ax, name, table[name])
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    for ax in list(grid.flat)[len(axes_names):]:
        ax.set_visible(False)
    grid.flat[0].legend(loc="best", fontsize=8, title="band: Wilson 95% CI", title_fontsize=8)
    fig.suptitle(title or f"Main effects on {label}")
    return finish_figure(fig, path)


def plot_sobol(sobol: pd.DataFrame, path: str | Path | None = None, title: str = "") -> Figure:
    """First-order (S1) and total (ST) Sobol indices per parameter, one panel per output, 95 % error bars.

    A dashed line marks ``noise_share`` when the table has it: the ST a parameter without effect gets.
    """
    outputs = list(dict.fromkeys(sobol["output"]))
    cols = min(2, len(outputs))
    rows = -(-len(outputs) // cols)
    fig, grid = new_figure(6.5 * cols, rows * (1.5 + 0.5 * sobol["parameter"].nunique()), rows, cols)
    for ax, output in zip(grid.flat, outputs, strict=False):
        part = sobol[sobol["output"] == output]
        y = np.arange(len(part))
        for offset, key, colour in ((-0.2, "S1", "tab:blue"), (0.2, "ST", "tab:orange")):
            ax.barh(y + offset, part[key], height=0.4, xerr=part[f"{key}_conf"], capsize=3, color=colour,
                    label={"S1": "first order S1", "ST": "total ST"}[key], error_kw={"lw": 1, "ecolor": "0.2"})
        noise = float(part["noise_share"].iloc[0]) if "noise_share" in part else float("nan")
        if np.isfinite(noise):
            ax.axvline(noise, color="0.35", ls="--", lw=1, label="binomial noise share (ST floor)")
        ax.set_yticks(y, part["parameter"])
        ax.invert_yaxis()
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_xlim(min(-0.05, float((part["S1"] - part["S1_conf"]).min()) - 0.05),
                    max(1.0, float((part["ST"] + part["ST_conf"]).max()) + 0.05))
        ax.set_title(output)
        ax.set_xlabel("share of output variance")
        ax.grid(axis="x", alpha=0.3)
    for ax in list(grid.flat)[len(outputs):]:
        ax.set_visible(False)
    grid.flat[0].legend(loc="lower right", fontsize=8, title="error bars: 95% bootstrap CI", title_fontsize=8)
    fig.suptitle(title or "Sobol sensitivity indices")
    return finish_figure(fig, path)


def _design(sweep_dir: Path) -> str | None:
    """The design named in ``manifest.json``, if it is there and readable (plots never require it)."""
    try:
        return json.loads((sweep_dir / "manifest.json").read_text(encoding="utf-8")).get("design")
    except (OSError, ValueError, AttributeError):
        return None


def read_sweep_table(path: Path) -> pd.DataFrame:
    """``sweep.csv``, with numbers where numbers belong (axes included) and probabilities in [0, 1].

    Raises:
        PlotInputError: the table is missing or damaged; names the file, column and line.
    """
    optional = [c for c in METRIC_COLUMNS if c not in SWEEP_NUMBERS]
    table = read_table(path, SWEEP_REQUIRED, numbers=SWEEP_NUMBERS, optional_numbers=optional,
                       probabilities=SWEEP_PROBABILITIES)
    for axis in axis_columns(table, str(path)):
        table[axis] = check_numbers(table[axis], f"{path}: column {axis}")
    return table


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw ``figures`` (names of :data:`SWEEP_PLOTS`) of a sweep folder from its ``sweep.csv`` (and
    ``sobol.csv``) into it; returns their names.

    Raises:
        PlotInputError: a table is missing, unreadable, empty or lacks columns, or a figure is not one
            a sweep draws; says which.
    """
    folder = Path(folder)
    table = read_sweep_table(folder / "sweep.csv")
    axes = axis_columns(table, str(folder / "sweep.csv"))
    drawers: dict[str, Callable[[Path], Figure]] = {
        SWEEP_PLOTS["hold"]: lambda path: plot_hold_vs_axis(table, axes[0], path),
        SWEEP_PLOTS["heatmap"]: lambda path: plot_heatmap(table, *axes[:2], path=path),
        SWEEP_PLOTS["main_effects"]: lambda path: plot_main_effects(table, axes, path),
        SWEEP_PLOTS["sobol"]: lambda path: plot_sobol(read_sobol_table(folder / "sobol.csv"), path),
    }
    unknown = [name for name in figures if name not in drawers]
    if unknown:
        raise PlotInputError(f"{folder}: {unknown[0]}: not a figure of a sweep (one of {', '.join(drawers)})")
    for name in figures:
        drawers[name](folder / name).clear()
    return list(figures)


def read_sobol_table(path: Path) -> pd.DataFrame:
    """``sobol.csv``: the indices of a Sobol sweep.

    Raises:
        PlotInputError: the table is missing or lacks columns.
    """
    if not path.exists():
        raise PlotInputError(f"{path}: file not found (a Sobol sweep needs it for {SWEEP_PLOTS['sobol']})")
    return read_table(path, SOBOL_REQUIRED, optional_numbers=SOBOL_REQUIRED[2:])


def figures_of(table: pd.DataFrame, sobol: bool) -> tuple[str, ...]:
    """The figures a sweep table calls for: P(holding) against one axis, a heat map over a full two-axis grid,
    otherwise main effects; and the indices when the sweep is a Sobol design (``sobol``)."""
    axes = axis_columns(table)
    if len(axes) == 1:
        kind = "hold"
    elif len(axes) == 2 and is_full_grid(table, axes):
        kind = "heatmap"
    else:
        kind = "main_effects"
    return tuple(SWEEP_PLOTS[k] for k in (*(("sobol",) if sobol else ()), kind))


def plot_sweep_dir(sweep_dir: str | Path) -> list[Path]:
    """Redraw the figures of a sweep folder from ``sweep.csv`` (and ``sobol.csv``), choosing them from the
    tables (:func:`figures_of`).

    Returns:
        Paths of the PNG files written.

    Raises:
        PlotInputError: a table is missing, unreadable, empty or lacks columns; says which.
    """
    sweep_dir = Path(sweep_dir)
    table = read_sweep_table(sweep_dir / "sweep.csv")
    sobol = (sweep_dir / "sobol.csv").exists() or _design(sweep_dir) == "sobol"
    return [sweep_dir / name for name in draw(sweep_dir, figures_of(table, sobol))]
