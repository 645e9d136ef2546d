"""The article's bet, shown: P(deal) and P(holding) against coalition troops, for each structural form.

The troop grid, seed, worlds and horizon come from ``scenarios/sweeps/the_bet.yaml`` (UK and France
moving together, half each, 0 to 60,000). Each *variant* is that grid run on a scenario file with some
overrides: the default structure, each non-default form switched on alone, and the first version of
the model (``scenarios/legacy_v1.yaml``). Every point runs the same worlds from the same seed (common
random numbers), so differences between troop levels and between variants are paired, not the luck of
two samples.

Outcomes per (variant, troops), each with a Wilson 95 % interval:

- ``p_deal``: P(a ceasefire is agreed), the bet at the table;
- ``p_hold_1y_given_deal``: P(still holding at 365 days | agreed), the bet after the table;
- ``p_hold_1y`` and ``p_hold_5y``: P(holding at 365 and 1,825 days) over all worlds (no deal = not
  holding); ``p_hold_5y`` is NaN when the horizon is shorter than five years.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.bundled import scenario_path, sweep_path
from sim.metrics import holding_counts, intent_table, wilson_interval
from sim.runner import run_scenario
from sim.scenario import Scenario, load_scenario
from sim.sweep import Sweep, load_sweep

BET_SWEEP = sweep_path("the_bet")
"""The sweep that defines the troop grid, worlds, seed and horizon of the bet."""

ONE_YEAR, FIVE_YEARS = 365, 1825
"""Days at which P(holding) is reported."""

OUTCOMES: dict[str, str] = {
    "p_deal": "P(deal)",
    "p_hold_1y_given_deal": "P(holding at 1 year | deal)",
    "p_hold_1y": "P(holding at 1 year)",
    "p_hold_5y": "P(holding at 5 years)",
}
"""Outcome column -> panel title, in panel order."""

TABLE_COLUMNS: tuple[str, ...] = (
    "variant", "structure", "troops", "replications", "seed", "horizon_days", "n_agreed",
    *(f"{name}{suffix}" for name in OUTCOMES for suffix in ("", "_ci_low", "_ci_high")),
)
"""Columns of the bet table (``the_bet.csv``), in order."""


@dataclass(frozen=True)
class Variant:
    """One line of the bet: a scenario file plus overrides by dotted path.

    Attributes:
        name: short label, e.g. ``default`` or ``objection=linear``.
        scenario: scenario YAML; None means the sweep's own base scenario (the baseline).
        overrides: e.g. ``{"structure.objection": "linear"}``.
    """

    name: str
    scenario: Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)


def structure_variant(mechanism: str, form: str) -> Variant:
    """The default structure with one mechanism switched to ``form``."""
    return Variant(f"{mechanism}={form}", None, {f"structure.{mechanism}": form})


DEFAULT_VARIANT = Variant("default")
LEGACY_VARIANT = Variant("legacy_v1", scenario_path("legacy_v1"))
STRUCTURE_VARIANTS: tuple[Variant, ...] = (
    DEFAULT_VARIANT,
    structure_variant("objection", "linear"),
    structure_variant("objection", "categorical"),
    structure_variant("capability", "absolute"),
    structure_variant("credibility", "reputation"),
    structure_variant("credibility", "commitment"),
    structure_variant("escalation", "threshold"),
    structure_variant("acceptance", "independent"),
    LEGACY_VARIANT,
)
"""The default structure, each non-default form alone, and the first version of the model."""

SIDE_VARIANTS: tuple[Variant, ...] = (
    Variant("deterrence_wins", scenario_path("bet_deterrence_wins")),
    Variant("provocation_wins", scenario_path("bet_provocation_wins")),
)
"""The two documented parameter sets under which each side of the bet wins at the table."""

CATALOGUE: dict[str, Variant] = {v.name: v for v in (*STRUCTURE_VARIANTS, *SIDE_VARIANTS)}
"""Every named variant ``ceasefire bet --variants`` accepts."""


@dataclass
class BetResult:
    """The bet's tables: one row per (variant, troops), and P(hold | deal) by intent quartile."""

    table: pd.DataFrame
    intent: pd.DataFrame
    sweep: Sweep
    variants: tuple[Variant, ...]
    wall_seconds: float


def troop_grid(sweep: Sweep) -> list[tuple[float, dict[str, float | int]]]:
    """(total coalition troops, parameter overrides) of each point of the bet's one-axis sweep."""
    return [(float(sweep.points[i, 0]), sweep.overrides(i)) for i in range(sweep.n_points)]


def variant_scenario(variant: Variant, sweep: Sweep, point: dict[str, float | int]) -> Scenario:
    """The scenario of one variant at one troop level, with the sweep's worlds, seed and horizon."""
    settings = {"replications": sweep.base.replications, "seed": sweep.base.seed,
                "horizon_days": sweep.base.horizon_days}
    path = variant.scenario if variant.scenario is not None else sweep.scenario_file
    return load_scenario(path, {**settings, **variant.overrides, **point})


def structure_label(scenario: Scenario) -> str:
    """The scenario's forms as ``mechanism=form`` pairs separated by spaces."""
    return " ".join(f"{k}={v}" for k, v in scenario.structure.model_dump().items())


def _proportion(name: str, successes: int, trials: int) -> dict[str, float]:
    low, high = wilson_interval(successes, trials)
    value = successes / trials if trials else np.nan
    return {name: value, f"{name}_ci_low": float(low), f"{name}_ci_high": float(high)}


def bet_row(runs: pd.DataFrame, horizon_days: int) -> dict[str, float | int]:
    """The four outcomes of one point from its ``runs`` table (one row per world)."""
    n_holding, n_agreed_arr = holding_counts(runs, horizon_days)
    n, n_agreed = len(runs), int(n_agreed_arr)
    hold_1y = int(n_holding[ONE_YEAR]) if horizon_days >= ONE_YEAR else 0
    row: dict[str, float | int] = {"n_agreed": n_agreed}
    row.update(_proportion("p_deal", n_agreed, n))
    for name, successes, trials in (("p_hold_1y_given_deal", hold_1y, n_agreed), ("p_hold_1y", hold_1y, n)):
        row.update(_proportion(name, successes, trials) if horizon_days >= ONE_YEAR else _missing(name))
    if horizon_days >= FIVE_YEARS:
        row.update(_proportion("p_hold_5y", int(n_holding[FIVE_YEARS]), n))
    else:
        row.update(_missing("p_hold_5y"))
    return row


def _missing(name: str) -> dict[str, float]:
    return {name: np.nan, f"{name}_ci_low": np.nan, f"{name}_ci_high": np.nan}


def run_bet(
    replications: int | None = None,
    seed: int | None = None,
    variants: Sequence[Variant] = STRUCTURE_VARIANTS,
    horizon: int | None = None,
    sweep_file: Path = BET_SWEEP,
    progress: Callable[[int], None] | None = None,
) -> BetResult:
    """Run the bet's troop grid for each variant; every point uses the same seed (paired comparisons).

    Args:
        replications, seed, horizon: worlds per point, seed and horizon in days (default: the sweep file's).
        variants: the lines of the figure.
        progress: called with 1 after each point.
    """
    start = time.perf_counter()
    settings = {k: v for k, v in (("replications", replications), ("seed", seed), ("horizon_days", horizon))
                if v is not None}
    sweep = load_sweep(sweep_file, settings)
    grid = troop_grid(sweep)
    for variant in variants:  # check every scenario before anything runs
        variant_scenario(variant, sweep, grid[0][1])
    rows, intents = [], []
    for variant in variants:
        for troops, point in grid:
            scenario = variant_scenario(variant, sweep, point)
            result = run_scenario(scenario, record_trajectories=False)
            keys = {"variant": variant.name, "structure": structure_label(scenario), "troops": troops}
            rows.append({**keys, "replications": scenario.replications, "seed": scenario.seed,
                         "horizon_days": scenario.horizon_days, **bet_row(result.runs, scenario.horizon_days)})
            intents.append(intent_table(result.runs, scenario.horizon_days).assign(**keys))
            if progress is not None:
                progress(1)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    intent = pd.concat(intents, ignore_index=True)
    leading = ["variant", "structure", "troops"]
    intent = intent[leading + [c for c in intent.columns if c not in leading]]
    return BetResult(table, intent, sweep, tuple(variants), time.perf_counter() - start)


def bet_table(
    replications: int | None = None,
    seed: int | None = None,
    variants: Sequence[Variant] = STRUCTURE_VARIANTS,
    horizon: int | None = None,
) -> pd.DataFrame:
    """One row per (variant, troops): P(deal), P(hold 1 y | deal), P(hold 1 y), P(hold 5 y), Wilson 95 %."""
    return run_bet(replications, seed, variants, horizon).table


def best_troops(table: pd.DataFrame, outcome: str = "p_hold_1y") -> pd.DataFrame:
    """Per variant, the troop level maximising ``outcome`` and its value with interval."""
    picks = table.loc[table.groupby("variant", sort=False)[outcome].idxmax()]
    return picks[["variant", "troops", outcome, f"{outcome}_ci_low", f"{outcome}_ci_high"]].reset_index(drop=True)


# --------------------------------------------------------------------------- figure


PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
           "tab:cyan")
"""Line colours of the other variants; grey and black are kept for legacy and the default."""


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
        table: a bet table (``TABLE_COLUMNS``), e.g. read back from ``the_bet.csv``.
        path: PNG file to write, if given.
    """
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"bet table: missing columns {', '.join(missing)}")
    fig = Figure(figsize=(12.0, 8.5), dpi=120, layout="constrained")
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
    if path is not None:
        fig.savefig(Path(path), dpi=120, format="png")
    return fig
