"""The figures of a decide folder, drawn from its CSVs alone (``ceasefire decide``, ``ceasefire plot DIR``):

- ``regret.png``: a heatmap of each option's regret per criterion statistic and outcome (expected, 90th-percentile
  and maximum regret), the option each criterion picks outlined;
- ``boxes.png``: the PRIM boxes of each discovery question (restricted dimensions with their limits or kept
  categories, and each box's coverage and density) beside the peeling trajectories (coverage against density);
- ``evppi.png``: EVPPI bars per factor for each outcome, largest first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.plots.runs import PlotInputError, finish_figure, read_table

REGRET_FIGURE, BOXES_FIGURE, EVPPI_FIGURE = "regret.png", "boxes.png", "evppi.png"
REGRET_STATS = ("expected_regret", "p90_regret", "max_regret")
LABELS = {"p_deal": "P(deal)", "p_hold_1y": "P(hold 1 y)", "p_hold_5y": "P(hold 5 y)"}


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw the named figures into ``folder`` from its tables; returns the file names written.

    Raises:
        PlotInputError: a table is missing, damaged or lacks columns.
    """
    folder = Path(folder)
    written = []
    if REGRET_FIGURE in figures:
        table = read_table(folder / "regret.csv", ("outcome", "option", *REGRET_STATS, "picked_by"),
                           numbers=REGRET_STATS)
        plot_regret(table, folder / REGRET_FIGURE).clear()
        written.append(REGRET_FIGURE)
    if BOXES_FIGURE in figures:
        boxes = read_table(folder / "boxes.csv", ("question", "label", "box", "coverage", "density", "dimension",
                                                  "kind", "lower", "upper", "categories"), numbers=("box",))
        path = folder / "peeling.csv"
        peeling = pd.read_csv(path) if path.is_file() and path.stat().st_size > 0 else pd.DataFrame()
        plot_boxes(boxes, peeling, folder / BOXES_FIGURE).clear()
        written.append(BOXES_FIGURE)
    if EVPPI_FIGURE in figures:
        table = read_table(folder / "evppi.csv", ("outcome", "factor", "group", "evppi", "evpi"),
                           numbers=("evppi", "evpi"))
        plot_evppi(table, folder / EVPPI_FIGURE).clear()
        written.append(EVPPI_FIGURE)
    return written


def plot_regret(table: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Heatmap: options (rows) x (outcome, regret statistic) (columns), in the outcome's units."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    options = list(dict.fromkeys(table["option"]))
    columns = [(o, s) for o in outcomes for s in REGRET_STATS]
    grid = np.full((len(options), len(columns)), np.nan)
    picked = np.zeros_like(grid, dtype=bool)
    pick_of = {"expected_regret": "expected value", "p90_regret": "90th-percentile regret",
               "max_regret": "minimax regret"}
    for j, (outcome, stat) in enumerate(columns):
        part = table[table["outcome"] == outcome].set_index("option")
        for i, option in enumerate(options):
            if option in part.index:
                grid[i, j] = part.loc[option, stat]
                picked[i, j] = pick_of[stat] in str(part.loc[option, "picked_by"])
    height = max(4.0, 0.22 * len(options) + 1.6)
    fig = Figure(figsize=(1.0 * len(columns) + 3.2, height))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(grid, aspect="auto", cmap="magma_r", vmin=0.0)
    ax.set_yticks(range(len(options)), options, fontsize=7)
    ax.set_xticks(range(len(columns)), [f"{LABELS.get(o, o)}\n{s.replace('_regret', '')}" for o, s in columns],
                  fontsize=7, rotation=45, ha="right")
    for i, j in zip(*np.nonzero(picked), strict=True):
        ax.add_patch(_outline(j, i))
    fig.colorbar(image, ax=ax, label="regret (probability points)")
    ax.set_title("Regret of each option across futures (outlined: the option the criterion picks)", fontsize=9)
    fig.tight_layout()
    return finish_figure(fig, path)


def _outline(x: float, y: float) -> object:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="cyan", linewidth=1.5)


def plot_boxes(boxes: pd.DataFrame, peeling: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Per question: the restricted dimensions of each box as text and the peeling trajectory."""
    questions = list(dict.fromkeys(boxes["question"]))
    fig = Figure(figsize=(11, 3.2 * max(1, len(questions))))
    for row, question in enumerate(questions):
        part = boxes[boxes["question"] == question]
        text_ax = fig.add_subplot(len(questions), 2, 2 * row + 1)
        text_ax.axis("off")
        lines = [str(part["label"].iloc[0])]
        for box, rows in part.groupby("box", sort=True):
            first = rows.iloc[0]
            if box == 0 or not np.isfinite(first["coverage"]):
                lines.append("  no box: " + str(first.get("note", "")))
                continue
            lines.append(f"  box {int(box)}: coverage {first['coverage']:.2f}, density {first['density']:.2f}")
            for limit in rows.itertuples():
                if not isinstance(limit.dimension, str) or not limit.dimension:
                    continue
                if limit.kind == "categorical":
                    lines.append(f"    {limit.dimension} in {{{str(limit.categories).replace('|', ', ')}}}")
                else:
                    low = "" if pd.isna(limit.lower) else f"{limit.lower:.3g} <= "
                    high = "" if pd.isna(limit.upper) else f" <= {limit.upper:.3g}"
                    lines.append(f"    {low}{limit.dimension}{high}")
        text_ax.text(0.0, 1.0, "\n".join(lines[:18]), va="top", ha="left", fontsize=7, family="monospace",
                     transform=text_ax.transAxes)
        ax = fig.add_subplot(len(questions), 2, 2 * row + 2)
        if not peeling.empty and "question" in peeling:
            for box, steps in peeling[peeling["question"] == question].groupby("box"):
                ax.plot(steps["coverage"], steps["density"], marker=".", label=f"box {box}")
                chosen = steps[steps["selected"].astype(str) == "True"]
                ax.scatter(chosen["coverage"], chosen["density"], s=60, facecolors="none", edgecolors="k")
            ax.legend(fontsize=7)
        ax.set_xlabel("coverage", fontsize=8)
        ax.set_ylabel("density", fontsize=8)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title("peeling trajectory (circled: the chosen step)", fontsize=8)
    fig.tight_layout()
    return finish_figure(fig, path)


def plot_evppi(table: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Horizontal EVPPI bars per factor, one panel per outcome; the EVPI as a dashed line."""
    outcomes = list(dict.fromkeys(table["outcome"]))
    colours = {"mechanism": "tab:blue", "parameter": "tab:orange", "structure": "tab:green",
               "parameters": "tab:red"}
    n_factors = table.groupby("outcome").size().max()
    fig = Figure(figsize=(4.2 * len(outcomes) + 1.5, 0.2 * n_factors + 1.8))
    for k, outcome in enumerate(outcomes):
        part = table[table["outcome"] == outcome].sort_values("evppi")
        ax = fig.add_subplot(1, len(outcomes), k + 1)
        ax.barh(range(len(part)), part["evppi"], color=[colours.get(g, "grey") for g in part["group"]])
        ax.set_yticks(range(len(part)), [str(f).replace("agents.", "").replace("model.", "") for f in part["factor"]],
                      fontsize=7)
        ax.axvline(float(part["evpi"].iloc[0]), color="k", linestyle="--", linewidth=0.8)
        ax.set_title(f"{LABELS.get(outcome, outcome)} (dashed: EVPI)", fontsize=9)
        ax.set_xlabel("EVPPI (probability points)", fontsize=8)
    fig.tight_layout()
    return finish_figure(fig, path)


__all__ = ["PlotInputError", "draw"]
