"""The dashboard's figure: a variant's run drawn next to the baseline's, as one matplotlib Figure (no pyplot).

One figure of four panels rather than four figures: most of matplotlib's time goes into axes and ticks,
and a single PNG keeps the redraw within the page's budget (about 0.3 s for the figure).
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.experiments.run import RunResult
from sim.outputs.plots.runs import BAND_ALPHA, CAUSE_LABELS, DAY_LABEL, HOLD_LABEL, line_with_band
from sim.stats.metrics import CAUSES, wilson_interval

DPI = 72
"""The page shows the image at about this resolution; more pixels only cost time."""

VARIANT, BASELINE = "tab:blue", "0.45"
"""Colours of the page's scenario and of the baseline."""


def dashboard_figure(variant: RunResult, baseline: RunResult) -> Figure:
    """Survival with 95 % bands, causes of breakdown, credibility and escalation: this scenario and the baseline."""
    fig = Figure(figsize=(12.0, 7.0), dpi=DPI)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.95, bottom=0.08, wspace=0.32, hspace=0.38)
    (survival, causes), (credibility, escalation) = fig.subplots(2, 2)
    days = max(variant.scenario.horizon_days, baseline.scenario.horizon_days)
    survival_panel(survival, variant, baseline, days)
    causes_panel(causes, variant, baseline)
    trajectory_panel(credibility, "credibility", "Credibility of the guarantee (0–1)", variant, baseline, days)
    trajectory_panel(escalation, "escalation", "Escalation (≥ 0)", variant, baseline, days)
    return fig


def dashboard_png(variant: RunResult, baseline: RunResult) -> bytes:
    """:func:`dashboard_figure` rendered as PNG bytes."""
    buffer = io.BytesIO()
    dashboard_figure(variant, baseline).savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def survival_panel(ax: Axes, variant: RunResult, baseline: RunResult, days: int) -> None:
    """P(holding) by day over all worlds (no deal = not holding), each run with its Wilson 95 % band."""
    for result, label, colour in ((baseline, "baseline", BASELINE), (variant, "this scenario", VARIANT)):
        table = result.survival
        line_with_band(ax, table["day"], table["p_holding"], table["ci_low"], table["ci_high"],
                       label=label, colour=colour, step=True)
    ax.set_xlim(0, days)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(DAY_LABEL)
    ax.set_ylabel(HOLD_LABEL)
    ax.set_title("Survival of the ceasefire (shaded: 95 % CI)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=9)


def causes_panel(ax: Axes, variant: RunResult, baseline: RunResult) -> None:
    """Share of worlds by outcome at the horizon, this scenario beside the baseline, with 95 % error bars."""
    positions = np.arange(len(CAUSES))
    height = 0.38
    for offset, result, label, colour in ((-height / 2, baseline, "baseline", BASELINE),
                                          (height / 2, variant, "this scenario", VARIANT)):
        row = result.summary.iloc[0]
        n = int(row["replications"])
        shares = np.array([float(row[f"share_{cause}"]) for cause in CAUSES])
        low, high = wilson_interval(np.round(shares * n), n)
        errors = np.vstack([shares - low, high - shares]).clip(min=0)
        ax.barh(positions + offset, shares, height=height, xerr=errors, color=colour, label=label,
                error_kw={"lw": 1.0, "ecolor": "0.2"})
    ax.set_yticks(positions, [CAUSE_LABELS.get(cause, cause) for cause in CAUSES])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_title("Outcome at the horizon: causes of breakdown")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=9)


def trajectory_panel(ax: Axes, name: str, title: str, variant: RunResult, baseline: RunResult, days: int) -> None:
    """One state variable by day over holding worlds: this scenario's mean with its 10th-90th percentile
    band, the baseline's mean dashed. ``name`` is a trajectory variable (``credibility``, ``escalation``)."""
    if baseline.trajectories is not None:
        base = baseline.trajectories
        ax.plot(base["day"], base[f"{name}_mean"], color=BASELINE, ls="--", lw=1.4, label="baseline mean")
    if variant.trajectories is not None:
        table = variant.trajectories
        line_with_band(ax, table["day"], table[f"{name}_mean"], table[f"{name}_p10"], table[f"{name}_p90"],
                       label="this scenario, mean", colour=VARIANT)
    ax.plot([], [], color=VARIANT, alpha=BAND_ALPHA, lw=8, label="10th–90th percentile")
    ax.set_title(title)
    ax.set_xlabel(DAY_LABEL)
    ax.set_xlim(0, days)
    if name == "credibility":
        ax.set_ylim(0, 1)
    else:
        ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
