"""Figures of a ``ceasefire validation`` folder, drawn from its CSV tables alone.

``validation.png``: each anchor's empirical figure beside the model's (:func:`sim.outputs.plots.runs.
plot_validation`, from ``validation.csv``). ``discrimination.png`` (with ``--discriminate``): each model's
held-out fit and the p-values of its held-out anchors, from ``discrimination.csv`` (its ``p_<anchor>``
columns) and the roles of ``validation.csv``. ``km.png``: per mission group, Fortna's record as a Kaplan-Meier
step curve with its interval, the default model's survival among deals and the posterior band (``km.csv``);
``hazards.png``: failures per year at risk per life-table interval, record against model (``hazard_bands.csv``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from sim.experiments.validation.anchors import ALPHA
from sim.experiments.validation.survival_curves import CONFIDENCE, HAZARD_COLUMNS, KM_COLUMNS, PANELS
from sim.outputs.plots.runs import (
    BAND_ALPHA,
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
        elif name == "km.png":
            km = read_table(folder / "km.csv", KM_COLUMNS, numbers=("day", "survival", "n"),
                            optional_numbers=("low", "high", "at_risk", "failures"),
                            probabilities=("survival", "low", "high"))
            plot_km(km, folder / name).clear()
        elif name == "hazards.png":
            hazards = read_table(folder / "hazard_bands.csv", HAZARD_COLUMNS,
                                 numbers=("start_day", "end_day", "failures", "years_at_risk"),
                                 optional_numbers=("per_year", "low", "high"))
            plot_hazards(hazards, folder / name).clear()
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


# --------------------------------------------------------------------------- the record by mission type

DAYS_PER_YEAR = 365.25
RECORD_COLOUR, MODEL_COLOUR = "black", "tab:blue"
LEVEL = f"{CONFIDENCE:.0%}"
"""The level of the intervals in ``km.csv`` and ``hazard_bands.csv``."""


def _panel_title(group: str, role: str) -> str:
    """A panel's title: the mission group, and whether its record spells are calibration or held out."""
    name = PANELS[group].title if group in PANELS else group
    return f"{name}\n" + ("HELD OUT: spells with a mission" if role == "held_out" else "calibration spells")


def plot_km(km: pd.DataFrame, path: Path | None = None) -> Figure:
    """One panel per mission group: the record's Kaplan-Meier (step, with its interval shaded grey), the
    model's posterior band (shaded blue) and pooled curve (dashed), and the default parameters' curve (line)."""
    groups = list(dict.fromkeys(km["group"]))
    fig, axes = new_figure(4.6 * len(groups), 4.9, ncols=len(groups))
    level = LEVEL
    for ax, group in zip(axes[0], groups, strict=True):
        of_group = km[km["group"] == group]
        posterior = of_group[of_group["source"] == "model_posterior"]
        if len(posterior):
            years = posterior["day"].to_numpy(float) / DAYS_PER_YEAR
            ax.fill_between(years, posterior["low"], posterior["high"], color=MODEL_COLOUR, alpha=BAND_ALPHA, lw=0,
                            label=f"model, calibrated posterior: {level} band")
            ax.plot(years, posterior["survival"], color=MODEL_COLOUR, lw=1.2, ls="--", label="model, posterior pooled")
        default = of_group[of_group["source"] == "model_default"]
        ax.plot(default["day"].to_numpy(float) / DAYS_PER_YEAR, default["survival"], color=MODEL_COLOUR, lw=1.8,
                label="model, default parameters")
        record = of_group[of_group["source"] == "record"]
        years = record["day"].to_numpy(float) / DAYS_PER_YEAR
        ax.fill_between(years, record["low"], record["high"], step="post", color="0.5", alpha=0.22, lw=0,
                        label=f"record: {level} CI (log-log)")
        failures = int(record["failures"].sum())
        ax.step(years, record["survival"], where="post", color=RECORD_COLOUR, lw=1.8,
                label="Fortna's record, Kaplan-Meier (left-truncated segments)")
        ax.text(0.98, 0.97, f"record: {int(record['n'].iloc[0])} segments, {failures} failures\n"
                f"model: {int(default['n'].iloc[0]):,} deals (default)", transform=ax.transAxes, ha="right",
                va="top", fontsize=8, color="0.25")
        ax.set_xlim(0, 10)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("years since the ceasefire")
        ax.set_ylabel("share of ceasefires holding (survival)")
        ax.set_title(_panel_title(group, str(of_group["role"].iloc[0])), fontsize=10)
        ax.grid(alpha=0.3)
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle("Fortna's ceasefires by mission type against the model (primary analogue; model: among deals, "
                 "mapped scenario)", fontsize=11)
    return finish_figure(fig, path)


INTERVAL_LABELS = {0: "0-3 mo", 91: "3-12 mo", 365: "1-2 y", 730: "2-3 y", 1095: "3-5 y", 1826: "5-10 y"}


def plot_hazards(hazards: pd.DataFrame, path: Path | None = None) -> Figure:
    """One panel per mission group: failures per year at risk in each life-table interval: the record (points,
    exact Poisson interval), the default model (solid line), the posterior band (shaded box) and its pooled rate
    (dashed line)."""
    groups = list(dict.fromkeys(hazards["group"]))
    fig, axes = new_figure(4.6 * len(groups), 5.0, ncols=len(groups))
    level = LEVEL
    for ax, group in zip(axes[0], groups, strict=True):
        of_group = hazards[hazards["group"] == group]
        starts = list(dict.fromkeys(of_group["start_day"]))
        x = np.arange(len(starts))
        by_source = {source: of_group[of_group["source"] == source].set_index("start_day").reindex(starts)
                     for source in ("record", "model_default", "model_posterior")}
        posterior = by_source["model_posterior"]
        if posterior["per_year"].notna().any():
            for k, (low, high) in enumerate(zip(posterior["low"], posterior["high"], strict=True)):
                ax.fill_between([k - 0.35, k + 0.35], low, high, color=MODEL_COLOUR, alpha=BAND_ALPHA, lw=0,
                                label=f"model, calibrated posterior: {level} band" if k == 0 else None)
            ax.hlines(posterior["per_year"].to_numpy(float), x - 0.35, x + 0.35, color=MODEL_COLOUR, lw=1.2,
                      linestyles="--", label="model, posterior pooled")
        default = by_source["model_default"]["per_year"].to_numpy(float)
        ax.hlines(default, x - 0.35, x + 0.35, color=MODEL_COLOUR, lw=2.0, label="model, default parameters")
        record = by_source["record"]
        rate = record["per_year"].to_numpy(float)
        errors = np.vstack([rate - record["low"].to_numpy(float), record["high"].to_numpy(float) - rate])
        ax.errorbar(x, rate, yerr=errors, fmt="o", color=RECORD_COLOUR, capsize=3,
                    label=f"Fortna's record, failures per year at risk: {level} exact Poisson CI")
        top = np.nanmax([np.nanmax(rate), np.nanmax(default), np.nanmax(posterior["high"].to_numpy(float))
                         if posterior["high"].notna().any() else 0.0])
        ax.set_ylim(0, max(0.5, 1.35 * top))
        ticks = [f"{INTERVAL_LABELS.get(int(start), f'{start}- d')}\n{d:.0f} / {years:.1f} y"
                 for start, d, years in zip(starts, record["failures"], record["years_at_risk"], strict=True)]
        ax.set_xticks(x, ticks, fontsize=8)
        ax.set_xlabel("time since the ceasefire (life-table interval;\nrecord: failures / years at risk)")
        ax.set_ylabel("failures per year at risk")
        ax.set_title(_panel_title(group, str(of_group["role"].iloc[0])), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
    fig.suptitle("Failures per year at risk, record against model (primary analogue; record bars may run off "
                 "the top)", fontsize=11)
    return finish_figure(fig, path)
