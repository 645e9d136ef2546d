"""Figures of a ``ceasefire validation`` folder, drawn from its CSV tables alone.

``validation.png``: each anchor's empirical figure beside the model's (:func:`sim.outputs.plots.runs.
plot_validation`, from ``validation.csv``). ``discrimination.png`` (with ``--discriminate``): each model's
held-out fit and the p-values of its held-out anchors, from ``discrimination.csv`` (its ``p_<anchor>``
columns) and the roles of ``validation.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from sim.experiments.validation.anchors import ALPHA
from sim.outputs.plots.runs import (
    VALIDATION_COLUMNS,
    PlotInputError,
    check_columns,
    finish_figure,
    new_figure,
    plot_validation,
    read_table,
)

VALIDATION_OPTIONAL: tuple[str, ...] = ("empirical_low", "empirical_high", "model", "model_ci_low", "model_ci_high")
"""Columns of ``validation.csv`` that hold a number or nothing (no figure where the model reached no deal)."""
CODINGS: dict[str, tuple[str, float]] = {"held": ("tab:blue", 0.12), "debaltseve": ("tab:orange", -0.12)}
"""Minsk II coding -> (colour, vertical offset) of its points in the fit panel."""
FIT_COLUMNS: tuple[str, ...] = tuple(f"fit_{coding}{se}" for coding in CODINGS for se in ("", "_se"))


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw ``figures`` (``validation.png``, ``discrimination.png``) into ``folder`` from its tables."""
    table = read_table(folder / "validation.csv", (*VALIDATION_COLUMNS, "role"), numbers=("empirical",),
                       optional_numbers=VALIDATION_OPTIONAL)
    drawn = []
    for name in figures:
        if name == "validation.png":
            plot_validation(table, folder / name).clear()
        elif name == "discrimination.png":
            path = folder / "discrimination.csv"
            summary = read_table(path, ("variant", *FIT_COLUMNS), numbers=FIT_COLUMNS)
            check_columns(summary, [f"p_{anchor}" for anchor in held_out_anchors(table)], str(path))
            plot_discrimination(summary, table, folder / name).clear()
        else:
            raise PlotInputError(f"{folder}: not a figure of a validation folder: {name}")
        drawn.append(name)
    return drawn


def plot_discrimination(summary: pd.DataFrame, validation: pd.DataFrame, path: Path | None = None) -> Figure:
    """Left: each model's held-out fit, with ±2 Monte Carlo SE. Right: its held-out anchors' p-values."""
    fig, axes = new_figure(13.0, 0.6 * len(summary) + 2.5, ncols=2)
    left, right = axes[0]
    y = np.arange(len(summary))[::-1]
    for coding, (colour, offset) in CODINGS.items():
        left.errorbar(summary[f"fit_{coding}"], y + offset, xerr=2 * summary[f"fit_{coding}_se"], fmt="o",
                      color=colour, capsize=3, label=f"Minsk II {coding}")
    left.set_yticks(y, summary["variant"].str.replace("_", " "))
    left.set_xlabel("held-out fit: log predictive probability (higher is better; bars ±2 MC SE)")
    left.legend(fontsize=8)
    left.grid(axis="x", alpha=0.3)
    held_out = held_out_anchors(validation)
    p = summary[[f"p_{anchor}" for anchor in held_out]].to_numpy(float)
    image = right.imshow(np.clip(p, 1e-4, 1), cmap="RdYlGn", norm=LogNorm(1e-4, 1), aspect="auto")
    for (i, j), value in np.ndenumerate(p):
        right.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=7,
                   fontweight="bold" if value < ALPHA else "normal")
    right.set_xticks(range(len(held_out)), [a.replace("_", " ") for a in held_out], rotation=40, ha="right",
                     fontsize=8)
    right.set_yticks(range(len(summary)), summary["variant"].str.replace("_", " "))
    fig.colorbar(image, ax=right, label="p-value (bold: < 0.05)")
    fig.suptitle("Discrimination: can the record tell the published model from deliberately wrong ones?")
    return finish_figure(fig, path)


def held_out_anchors(validation: pd.DataFrame) -> list[str]:
    """The held-out anchors of a validation table, in its order."""
    return list(validation.loc[validation["role"] == "held_out", "anchor"])
