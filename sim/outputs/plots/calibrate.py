"""The figure of a ``ceasefire calibrate`` folder, drawn from its CSV tables alone.

``posterior.png``: for each fitted parameter, the weighted posterior (histogram, ``posterior.csv``) against
its prior (dashed) and the current default (red), from ``posterior_summary.csv`` (whose ``prior`` column
reads ``uniform [low, high]`` or ``loguniform [low, high]``; loguniform parameters are shown in log10); the
title counts the generations of ``populations.csv``.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.plots.runs import PlotInputError, finish_figure, new_figure, read_table

PRIOR = re.compile(r"^(uniform|loguniform) \[([^,\]]+), ([^\]]+)\]$")
"""A continuous prior as ``Prior.describe`` writes it."""

SUMMARY_COLUMNS: tuple[str, ...] = ("parameter", "default", "prior")
COLUMNS_PER_ROW = 3


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw ``figures`` (only ``posterior.png``) into ``folder`` from its tables."""
    drawn = []
    for name in figures:
        if name != "posterior.png":
            raise PlotInputError(f"{folder}: not a figure of a calibrate folder: {name}")
        summary = read_table(folder / "posterior_summary.csv", SUMMARY_COLUMNS, numbers=("default",))
        posterior = read_table(folder / "posterior.csv", (*summary["parameter"], "weight"),
                               numbers=(*summary["parameter"], "weight"))
        generations = len(read_table(folder / "populations.csv", ("generation",), numbers=("generation",)))
        plot_posterior(posterior, summary, generations, folder / name).clear()
        drawn.append(name)
    return drawn


def prior_bounds(text: str, source: str) -> tuple[bool, float, float]:
    """(log scale, low, high) of a prior written ``uniform [low, high]`` or ``loguniform [low, high]``;
    the bounds of a loguniform prior in log10.

    Raises:
        PlotInputError: not such a prior.
    """
    match = PRIOR.match(str(text).strip())
    try:
        low, high = float(match.group(2)), float(match.group(3))  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise PlotInputError(f"{source}: prior: expected 'uniform [low, high]' or 'loguniform [low, high]' "
                             f"(got {str(text)[:40]!r})") from None
    log = match.group(1) == "loguniform"  # type: ignore[union-attr]
    if not low < high or (log and low <= 0):
        raise PlotInputError(f"{source}: prior: needs 0 < low < high for loguniform, low < high otherwise")
    return (True, math.log10(low), math.log10(high)) if log else (False, low, high)


def plot_posterior(posterior: pd.DataFrame, summary: pd.DataFrame, generations: int,
                   path: Path | None = None) -> Figure:
    """Prior (line) against weighted posterior (histogram) for each fitted parameter, default marked."""
    n = len(summary)
    ncols = min(COLUMNS_PER_ROW, n)
    fig, axes = new_figure(4.0 * ncols, 3.2 * math.ceil(n / ncols), math.ceil(n / ncols), ncols)
    weights = posterior["weight"].to_numpy(float)
    for ax, row in zip(axes.flat, summary.itertuples(), strict=False):
        log, low, high = prior_bounds(row.prior, f"posterior_summary.csv: {row.parameter}")
        x = posterior[row.parameter].to_numpy(float)
        ax.hist(np.log10(x) if log else x, bins=20, range=(low, high), weights=weights, density=True, alpha=0.6,
                label="posterior")
        ax.plot([low, high], [1 / (high - low)] * 2, color="black", linestyle="--", label="prior")
        ax.axvline(math.log10(row.default) if log else row.default, color="tab:red", label="current default")
        ax.set_xlabel(f"log10 {row.parameter}" if log else row.parameter, fontsize=8)
        ax.set_ylabel("density")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(f"Prior vs ABC-SMC posterior ({len(posterior)} particles, {generations} generations)")
    return finish_figure(fig, path)
