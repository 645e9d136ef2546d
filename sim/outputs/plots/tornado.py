"""The tornado chart, drawn from ``tornado.csv`` alone: horizontal bars from the baseline P(holding) to P at
each parameter's low and high value, largest swing on top (``ceasefire tornado``, ``ceasefire plot DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.tornado import HOLD_DAY, TORNADO_COLUMNS
from sim.outputs.plots.runs import BAND_ALPHA, PlotInputError, check_columns, finish_figure, new_figure, read_table

TORNADO_TABLE = "tornado.csv"
TORNADO_FIGURE = "tornado.png"

SIDE_STYLE: dict[str, tuple[str, str]] = {"low": ("tab:blue", "low value"), "high": ("tab:orange", "high value")}
"""Side -> (colour, legend label) in the chart."""


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw ``tornado.png`` into ``folder`` from its ``tornado.csv``; returns the file names written.

    Raises:
        PlotInputError: ``tornado.csv`` is missing, unreadable, empty, lacks columns, or holds text,
            nothing or a probability outside [0, 1] where a number belongs (names the column and line).
    """
    if TORNADO_FIGURE not in figures:
        return []
    probabilities = [c for c in TORNADO_COLUMNS if c.startswith("p_")]
    numbers = [c for c in TORNADO_COLUMNS if c not in ("parameter", "scenario")]
    table = read_table(Path(folder) / TORNADO_TABLE, TORNADO_COLUMNS, numbers=numbers, probabilities=probabilities)
    plot_tornado(table, Path(folder) / TORNADO_FIGURE).clear()
    return [TORNADO_FIGURE]


def plot_tornado(table: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Horizontal bars from the baseline P(holding) to P at each parameter's low and high value.

    Rows are sorted by swing, largest at the top; each row has a bar for the low value (upper) and
    one for the high value (lower), with Wilson 95 % error bars and the value and P written at the
    end. The baseline is a vertical line with its 95 % interval shaded.

    Args:
        table: in the ``tornado.csv`` format (probabilities in [0, 1]).
        path: PNG file to write, if given.

    Raises:
        PlotInputError: the table lacks a column or has no rows.
    """
    check_columns(table, TORNADO_COLUMNS, "tornado table")
    if table.empty:
        raise PlotInputError("tornado table: no rows")
    table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    first = table.iloc[0]
    day, base = int(first["day"]), float(first["p_baseline"])
    fig, axes = new_figure(10.0, 1.9 + 0.6 * len(table))
    ax = axes[0, 0]
    ax.axvspan(first["p_baseline_ci_low"], first["p_baseline_ci_high"], color="0.5", alpha=BAND_ALPHA, lw=0,
               label="baseline 95% CI")
    ax.axvline(base, color="0.15", lw=1.2, label=f"baseline P = {base:.3f}")
    rows = np.arange(len(table))
    for side, offset in (("low", -0.2), ("high", 0.2)):
        _draw_side(ax, table, side, rows + offset, base)
    ax.set_yticks(rows, [f"{name}\n(baseline {_fmt(value)})"
                         for name, value in zip(table["parameter"], table["baseline_value"], strict=True)],
                  fontsize=8.5)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.set_xlim(*_x_limits(table))
    ax.set_xticks([t for t in ax.get_xticks() if -1e-9 <= t <= 1 + 1e-9])  # no ticks at impossible P
    ax.set_xlabel(hold_label(day))
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=4, fontsize=8.5, frameon=False)
    fig.suptitle(f"{first['scenario']}: which parameter moves P(ceasefire holding at {day} days)?")
    ax.set_title(
        "one parameter at a time, the others at the scenario's values; sorted by swing |P(high) − P(low)|\n"
        f"{int(first['replications']):,} worlds per point, the same seed ({int(first['seed'])}) for every point; "
        "labels: parameter value → P; error bars: Wilson 95% CI", fontsize=8.5, color="0.3",
    )
    return finish_figure(fig, path)


def hold_label(day: int) -> str:
    """The x-axis label: P at 365 days, or says that the horizon was shorter."""
    if day >= HOLD_DAY:
        return f"P(ceasefire holding at {HOLD_DAY} days)"
    return f"P(ceasefire holding at {day} days: the horizon, shorter than {HOLD_DAY})"


def _draw_side(ax: Any, table: pd.DataFrame, side: str, y: np.ndarray, base: float) -> None:
    """Bars of one side from the baseline, error bars, and ``value → P`` written past the error bar."""
    colour, label = SIDE_STYLE[side]
    p = table[f"p_{side}"].to_numpy(float)
    low, high = table[f"p_{side}_ci_low"].to_numpy(float), table[f"p_{side}_ci_high"].to_numpy(float)
    ax.barh(y, p - base, left=base, height=0.38, color=colour, label=label)
    ax.errorbar(p, y, xerr=np.vstack([p - low, high - p]).clip(min=0), fmt="none", ecolor="0.2", capsize=2.5,
                lw=0.9)
    for yi, pi, lo, hi, value in zip(y, p, low, high, table[f"{side}_value"], strict=True):
        right = pi >= base
        ax.annotate(f"{_fmt(value)} → {pi:.3f}", xy=(hi if right else lo, yi), xytext=(4 if right else -4, 0),
                    textcoords="offset points", ha="left" if right else "right", va="center", fontsize=8)


def _x_limits(table: pd.DataFrame) -> tuple[float, float]:
    """Room for every interval and its label, within a little more than [0, 1]."""
    lows = table[["p_low_ci_low", "p_high_ci_low", "p_baseline_ci_low"]].to_numpy(float)
    highs = table[["p_low_ci_high", "p_high_ci_high", "p_baseline_ci_high"]].to_numpy(float)
    left, right = float(np.nanmin(lows)), float(np.nanmax(highs))
    pad = max(0.08, 0.3 * (right - left))
    return max(-0.3, left - pad), min(1.3, right + pad)


def _fmt(value: float) -> str:
    """A parameter value for a label: 10,000 / 0.6 / 0.00075."""
    value = float(value)
    if value.is_integer() and abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"
