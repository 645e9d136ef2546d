"""The bet's figure, drawn from ``the_bet.csv`` alone: four panels against coalition troops, one line per
variant with its 95 % band (``ceasefire bet``, ``ceasefire plot DIR``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.bet import DEFAULT_VARIANT, LEGACY_VARIANT, OUTCOMES, TABLE_COLUMNS
from sim.outputs.plots.runs import DPI, check_columns, finish_figure, read_table

BET_TABLE = "the_bet.csv"
BET_FIGURE = "the_bet.png"

PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
           "tab:cyan")
"""Line colours of the other variants; grey and black are kept for legacy and the default."""

NUMBERS: tuple[str, ...] = ("troops", "replications", "seed", "horizon_days", "n_agreed", "p_deal", "p_deal_ci_low",
                            "p_deal_ci_high")
"""Columns of ``the_bet.csv`` holding a number on every line; the holding columns are empty beyond the horizon."""


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw ``the_bet.png`` into ``folder`` from its ``the_bet.csv``; returns the file names written.

    Raises:
        PlotInputError: the table is missing, damaged, lacks columns or holds an impossible probability.
    """
    if BET_FIGURE not in figures:
        return []
    probabilities = [c for c in TABLE_COLUMNS if c.startswith("p_")]
    table = read_table(Path(folder) / BET_TABLE, TABLE_COLUMNS, numbers=NUMBERS,
                       optional_numbers=[c for c in probabilities if c not in NUMBERS], probabilities=probabilities)
    plot_bet(table, Path(folder) / BET_FIGURE).clear()
    return [BET_FIGURE]


def _style(name: str, index: int) -> dict[str, Any]:
    """Default drawn bold in black, legacy dashed, the others in the tab10 colours."""
    if name == DEFAULT_VARIANT.name:
        return {"color": "black", "lw": 2.8, "ls": "-", "zorder": 5}
    if name == LEGACY_VARIANT.name:
        return {"color": "tab:gray", "lw": 1.8, "ls": "--", "zorder": 4}
    return {"color": PALETTE[index % len(PALETTE)], "lw": 1.4, "ls": "-", "zorder": 3}


def plot_bet(table: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Four panels against coalition troops (thousands), one line per variant with its 95 % band.

    Args:
        table: a bet table (``sim.experiments.bet.TABLE_COLUMNS``), e.g. read back from ``the_bet.csv``.
        path: PNG file to write, if given.

    Raises:
        PlotInputError: the table lacks one of its columns.
    """
    check_columns(table, TABLE_COLUMNS, "bet table")
    fig = Figure(figsize=(12.0, 8.5), dpi=DPI, layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).ravel()
    for ax, (outcome, title) in zip(axes, OUTCOMES.items(), strict=True):
        for index, (name, rows) in enumerate(table.groupby("variant", sort=False)):
            rows = rows.sort_values("troops")
            x = rows["troops"].to_numpy(float) / 1000.0
            style = _style(str(name), index)
            ax.plot(x, rows[outcome].to_numpy(float), label=str(name), **style)
            ax.fill_between(x, rows[f"{outcome}_ci_low"].to_numpy(float), rows[f"{outcome}_ci_high"].to_numpy(float),
                            color=style["color"], alpha=0.15, lw=0)
        if table[outcome].isna().all():
            ax.text(0.5, 0.5, "beyond the horizon", transform=ax.transAxes, ha="center", va="center", color="gray")
        ax.set_title(title)
        ax.set_ylabel("probability")
        ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3)
    for ax in axes[2:]:
        ax.set_xlabel("coalition troops in Ukraine, UK + France (thousands)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(5, len(labels)), frameon=False)
    first = table.iloc[0]
    fig.suptitle(f"The bet: does a European force buy a ceasefire, and does it last? "
                 f"({int(first['replications']):,} worlds per point, seed {int(first['seed'])}, 95 % bands)")
    return finish_figure(fig, path)
