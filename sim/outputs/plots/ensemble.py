"""The structural ensemble's figure, drawn from ``ensemble.csv`` alone: P(deal) and P(holding at 365 days)
of every combination of forms, with the pooled mean and interval behind (``ceasefire ensemble``,
``ceasefire plot DIR``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.ensemble import MECHANISM_NAMES, OUTPUTS
from sim.outputs.plots.runs import DPI, PlotInputError, finish_figure, read_table

ENSEMBLE_TABLE = "ensemble.csv"
ENSEMBLE_FIGURE = "ensemble.png"

DRAWN: tuple[str, ...] = ("p_hold_365", "p_deal")
"""The headline numbers of the two panels, left to right."""

STATISTICS_DRAWN: tuple[str, ...] = ("mean", "p05", "p95", "low", "high")

REQUIRED: tuple[str, ...] = ("row", *MECHANISM_NAMES, "is_default", "legacy_forms", "draws", "replications",
                             "parameter_source", *(f"{o}_{s}" for o in DRAWN for s in STATISTICS_DRAWN))
"""Columns of ``ensemble.csv`` the figure reads."""


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw ``ensemble.png`` into ``folder`` from its ``ensemble.csv``; returns the file names written.

    Raises:
        PlotInputError: the table is missing, damaged, lacks columns, holds an impossible probability or
            has no pooled row.
    """
    if ENSEMBLE_FIGURE not in figures:
        return []
    path = Path(folder) / ENSEMBLE_TABLE
    probabilities = [c for c in REQUIRED if c.startswith(DRAWN)]
    table = read_table(path, REQUIRED, numbers=("draws", "replications"), optional_numbers=probabilities,
                       probabilities=probabilities)
    if not (table["row"] == "pooled").any():
        raise PlotInputError(f"{path}: no pooled row (row = pooled)")
    plot_ensemble(table, Path(folder) / ENSEMBLE_FIGURE).clear()
    return [ENSEMBLE_FIGURE]


def combination_label(row: Mapping[str, Any]) -> str:
    """Forms of a combination, short: ``logistic/relative/bayesian/spiral/bargaining``."""
    return "/".join(str(row[name]) for name in MECHANISM_NAMES)


def plot_ensemble(table: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Dot/interval plot of P(deal) and P(holding at 365 days) per combination, sorted by P(hold 365).

    Dots: the mean over draws; bars: 5-95 % of the draws; the default combination in red, the legacy
    forms as a square; the pooled mean (line) and 2.5-97.5 % interval (band) behind.
    """
    combos = table[table["row"] == "combination"]
    pooled = table[table["row"] == "pooled"].iloc[0]
    order = combos.sort_values("p_hold_365_mean", na_position="first").reset_index(drop=True)
    rows = np.arange(len(order))
    fig = Figure(figsize=(11, max(3.5, 0.17 * len(order) + 1.6)), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, output in zip(axes, DRAWN, strict=True):
        ax.axvspan(pooled[f"{output}_low"], pooled[f"{output}_high"], color="0.9", label="pooled 2.5-97.5 %")
        ax.axvline(pooled[f"{output}_mean"], color="0.4", linewidth=1, label="pooled mean")
        colours = np.where(order["is_default"], "tab:red", "tab:blue")
        ax.hlines(rows, order[f"{output}_p05"], order[f"{output}_p95"], colors=colours, linewidth=1,
                  alpha=0.7)
        plain = ~order["legacy_forms"].to_numpy(bool)
        ax.scatter(order[f"{output}_mean"][plain], rows[plain], c=colours[plain], s=12, zorder=3)
        if (~plain).any():
            ax.scatter(order[f"{output}_mean"][~plain], rows[~plain], c=colours[~plain], marker="s", s=30,
                       zorder=3, label="legacy forms (v1)")
        ax.scatter([], [], c="tab:red", s=12, label="default combination")
        ax.set_xlim(0, 1)
        ax.set_xlabel(OUTPUTS[output])
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(rows, [combination_label(r) for _, r in order.iterrows()], fontsize=6)
    axes[0].set_ylabel("forms: " + "/".join(MECHANISM_NAMES), fontsize=8)
    axes[0].legend(loc="lower right", fontsize=7)
    first = table.iloc[0]
    fig.suptitle(f"Structural ensemble: {len(order)} combinations x {int(first['draws'])} parameter draws "
                 f"({first['parameter_source']}), {int(first['replications'])} worlds each\n"
                 "dot: mean over draws; bar: 5-95 % of draws; sorted by P(holding at 365 days)", fontsize=10)
    return finish_figure(fig, path)
