"""Figures of a screening folder (``ceasefire screen``), drawn from its CSV tables alone.

``morris.png`` (mu* against sigma per output, from ``morris.csv``), and when the Sobol step ran
``sobol_top.png`` (S1 and ST per factor, from ``sobol.csv``) and ``sobol_structure.png`` (each output by
structural form over the Sobol points, from ``sobol_points.csv``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiments.screening import (
    MORRIS_FIGURE,
    OUTPUTS,
    SOBOL_FIGURES,
    STRUCTURE_PREFIX,
    noise_floor,
    short_name,
)
from sim.mechanisms import REGISTRY
from sim.outputs.plots.runs import PlotInputError, read_table

OUTPUT_TITLES = {"p_hold_365": "P(hold 365 days), all worlds", "p_deal": "P(deal)",
                 "p_hold_365_given_deal": "P(hold 365 days | deal)"}
LABELLED = 10
"""Parameters named on each panel of the Morris figure."""

DPI = 110
"""Resolution of the screening's figures (dots per inch)."""

MORRIS_REQUIRED = ("output", "parameter", "mu_star", "sigma", "rank", "trajectories", "noise_sd")
SOBOL_REQUIRED = ("output", "factor", "kind", "S1", "S1_conf", "ST", "ST_conf", "noise_share")


def draw(folder: Path, figures: tuple[str, ...]) -> list[str]:
    """Draw ``figures`` of a screening folder from its tables into it; returns their names.

    Raises:
        PlotInputError: a table is missing, unreadable or lacks columns, or a figure is not one a
            screening draws; says which.
    """
    folder = Path(folder)
    drawers: dict[str, Callable[[], Figure]] = {
        MORRIS_FIGURE: lambda: plot_morris(read_table(folder / "morris.csv", MORRIS_REQUIRED)),
        SOBOL_FIGURES[0]: lambda: plot_sobol(read_table(folder / "sobol.csv", SOBOL_REQUIRED)),
        SOBOL_FIGURES[1]: lambda: plot_structure(read_table(folder / "sobol_points.csv", OUTPUTS[:1])),
    }
    unknown = [name for name in figures if name not in drawers]
    if unknown:
        raise PlotInputError(f"{folder}: {unknown[0]}: not a figure of a screening (one of {', '.join(drawers)})")
    for name in figures:
        figure = drawers[name]()
        figure.savefig(folder / name)
        figure.clear()
    return list(figures)


def plot_morris(table: pd.DataFrame) -> Figure:
    """mu* against sigma, one panel per output, the top :data:`LABELLED` named, the noise floor dashed."""
    outputs = [o for o in OUTPUTS if o in set(table["output"])]
    fig = Figure(figsize=(6.0 * len(outputs), 6.0), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outputs)))
    for ax, output in zip(axes, outputs, strict=True):
        rows = table[table["output"] == output].sort_values("rank")
        ax.scatter(rows["mu_star"], rows["sigma"], s=18, color="tab:blue", alpha=0.7)
        for _, row in rows.head(LABELLED).iterrows():
            ax.annotate(short_name(row["parameter"]), (row["mu_star"], row["sigma"]), fontsize=8,
                        xytext=(4, 2), textcoords="offset points")
        floor = noise_floor(float(rows["noise_sd"].iloc[0])) if rows["noise_sd"].notna().any() else None
        if floor is not None:
            ax.axvline(floor, ls="--", color="gray", lw=1, label=f"noise floor, unpaired ({floor:.3f})")
            ax.legend(loc="upper left", fontsize=8, frameon=False)
        ax.set_title(OUTPUT_TITLES.get(output, output))
        ax.set_xlabel("mu* (mean |elementary effect| per prior range)")
        ax.set_ylabel("sigma (spread of elementary effects)")
        ax.grid(alpha=0.3)
    trajectories = int(table["trajectories"].max())
    fig.suptitle(f"Morris screening over {table['parameter'].nunique()} assumed parameters, "
                 f"{trajectories} trajectories")
    return fig


def plot_sobol(table: pd.DataFrame) -> Figure:
    """S1 and ST with 95 % intervals per factor, one panel per output; structural factors in orange."""
    outputs = [o for o in OUTPUTS if o in set(table["output"])]
    factors = list(dict.fromkeys(table["factor"]))
    fig = Figure(figsize=(5.0 * len(outputs) + 2.0, 0.45 * len(factors) + 2.0), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outputs), sharey=True))
    y = np.arange(len(factors))
    for ax, output in zip(axes, outputs, strict=True):
        rows = table[table["output"] == output].set_index("factor").loc[factors]
        colors = ["tab:orange" if k == "structure" else "tab:blue" for k in rows["kind"]]
        ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], color=colors, alpha=0.5, label="S1 (first order)")
        ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], color=colors, label="ST (total)")
        noise = float(rows["noise_share"].iloc[0])
        if not math.isnan(noise):
            ax.axvline(noise, ls="--", color="gray", lw=1, label=f"noise share ({noise:.3f})")
        ax.set_title(OUTPUT_TITLES.get(output, output))
        ax.set_xlabel("Sobol index (share of variance)")
        ax.grid(alpha=0.3, axis="x")
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    axes[0].set_yticks(y, [short_name(f) for f in factors])
    axes[0].invert_yaxis()
    fig.suptitle("Sobol indices: top parameters from Morris (blue) and structural switches (orange)")
    return fig


def plot_structure(points: pd.DataFrame) -> Figure:
    """Per mechanism, the mean of each output by form over the Sobol points, with the 10-90 % range."""
    mechanisms = [c for c in points.columns if c.startswith(STRUCTURE_PREFIX)]
    outputs = [o for o in OUTPUTS[:2] if o in points.columns]
    fig = Figure(figsize=(3.2 * len(mechanisms), 4.0 * len(outputs)), dpi=DPI, layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(outputs), len(mechanisms), sharey="row"))
    for i, output in enumerate(outputs):
        for j, mechanism in enumerate(mechanisms):
            ax = axes[i, j]
            groups = points.groupby(mechanism, sort=False)[output]
            order = list(REGISTRY[mechanism.removeprefix(STRUCTURE_PREFIX)])
            forms = sorted(groups.groups, key=order.index)
            means = [groups.get_group(f).mean() for f in forms]
            low = [groups.get_group(f).quantile(0.1) for f in forms]
            high = [groups.get_group(f).quantile(0.9) for f in forms]
            x = np.arange(len(forms))
            ax.vlines(x, low, high, color="tab:orange", lw=6, alpha=0.4)
            ax.plot(x, means, "o", color="black")
            ax.set_xticks(x, forms, rotation=20)
            ax.set_xlim(-0.6, len(forms) - 0.4)
            ax.set_ylim(0.0, 1.0)
            ax.grid(alpha=0.3, axis="y")
            if i == 0:
                ax.set_title(mechanism.removeprefix(STRUCTURE_PREFIX))
            if j == 0:
                ax.set_ylabel(OUTPUT_TITLES.get(output, output))
    fig.suptitle("Outputs by structural form over the Sobol design (dot: mean; bar: 10-90 % of points)")
    return fig
