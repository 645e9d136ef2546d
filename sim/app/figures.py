"""The dashboard's chart: a variant's run drawn next to the baseline's, as one Vega-Lite specification (a dict).

The browser draws it (Solara's Vega-Lite widget, the grammar Altair writes), so values can be read by
hovering: each panel has a tooltip at the day (or outcome) under the pointer with both runs' values and
their intervals. Building the specification is plain Python over the run's tables (no plotting library,
no Solara), a few milliseconds; the data are rounded to 4 decimals to keep the page's message small.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.run import RunResult
from sim.stats.metrics import CAUSES, wilson_interval

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
"""The version of the grammar the page's renderer (Vega-Lite 5, bundled with Solara) reads; only a name."""

VARIANT, BASELINE = "#1f77b4", "#737373"
"""Colours of the page's scenario and of the baseline."""

THIS, BASE = "this scenario", "baseline"
WIDTH, HEIGHT = 340, 200
DAY_TITLE = "days since ceasefire"
CAUSE_LABELS: dict[str, str] = {
    "no_deal": "no deal", "major_offensive": "major offensive", "escalation_spiral": "escalation spiral",
    "ukrainian_withdrawal": "Ukrainian withdrawal", "held": "ceasefire held",
}
"""Outcomes at the horizon in words (as in the run folder's figures)."""

DIGITS = 4


def dashboard_spec(variant: RunResult, baseline: RunResult, title: str = "") -> dict[str, Any]:
    """Survival with 95 % bands, outcomes with 95 % intervals, credibility and escalation: this scenario
    against the baseline, as a Vega-Lite specification. ``title`` names the scenario (what changed)."""
    days = max(variant.scenario.horizon_days, baseline.scenario.horizon_days)
    colour = {"field": "run", "type": "nominal", "title": None,
              "scale": {"domain": [BASE, THIS], "range": [BASELINE, VARIANT]}}
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {"text": title or "the baseline", "anchor": "start", "fontSize": 13,
                  "subtitle": "blue: this scenario; grey: the baseline (dashed below); hover to read values",
                  "subtitleColor": "#555"},
        "config": {"view": {"stroke": None}, "axis": {"gridOpacity": 0.5},
                   "legend": {"orient": "top", "direction": "horizontal"}},
        "vconcat": [
            {"hconcat": [survival_panel(variant, baseline, days, colour), causes_panel(variant, baseline, colour)]},
            {"hconcat": [trajectory_panel("credibility", "Credibility of the guarantee (0–1)", variant, baseline,
                                          days, (0.0, 1.0)),
                         trajectory_panel("escalation", "Escalation index (≥ 0)",
                                          variant, baseline, days, None)]},
        ],
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A small table as Vega-Lite's inline records (floats rounded, NaN as null)."""
    rounded = frame.round(DIGITS).astype(object).where(frame.notna(), None)
    return rounded.to_dict(orient="records")


def _csv_data(frame: pd.DataFrame) -> dict[str, Any]:
    """A table of numbers as Vega-Lite's inline CSV: a third of the size of records, read as numbers (an
    empty cell, NaN, as null)."""
    text = frame.to_csv(index=False, float_format=f"%.{DIGITS}g", lineterminator="\n")
    return {"values": text, "format": {"type": "csv", "parse": {column: "number" for column in frame.columns}}}


def _by_day(days: int, columns: dict[str, pd.Series]) -> pd.DataFrame:
    """Columns indexed by day, on days 0 .. ``days`` (NaN where a run has no such day)."""
    table = pd.DataFrame({"day": np.arange(days + 1)})
    for name, series in columns.items():
        table[name] = table["day"].map(series)
    return table


def _hover(fields: list[str]) -> dict[str, Any]:
    """A selection of the datum nearest the pointer (the tooltip's anchor), cleared when the pointer leaves."""
    return {"name": "hover", "select": {"type": "point", "fields": fields, "nearest": True, "on": "mouseover",
                                        "clear": "mouseout"}}


def _hover_rule(tooltip: list[dict[str, Any]]) -> dict[str, Any]:
    """A vertical rule at the day nearest the pointer, carrying the tooltip of that day."""
    return {"params": [_hover(["day"])], "mark": {"type": "rule", "color": "#444"},
            "encoding": {"x": {"field": "day", "type": "quantitative"},
                         "opacity": {"condition": {"param": "hover", "empty": False, "value": 0.6}, "value": 0},
                         "tooltip": [{"field": "day", "type": "quantitative"}, *tooltip]}}


def _tip(field: str, title: str) -> dict[str, Any]:
    """One tooltip line: a value to 3 decimals under ``title`` (titles must differ within a tooltip)."""
    return {"field": field, "type": "quantitative", "format": ".3f", "title": title}


def _runs_legend(fields: dict[str, str], colour: dict[str, Any], x: dict[str, Any], y: dict[str, Any],
                 dash: bool = False) -> dict[str, Any]:
    """Lines of both runs from wide columns (``fields``: run name -> column), folded so one legend names them."""
    folded = [{"fold": list(fields.values()), "as": ["column", "value"]},
              {"calculate": " : ".join(f"datum.column === '{column}' ? '{run}'" for run, column in fields.items())
               + " : ''", "as": "run"}]
    encoding: dict[str, Any] = {"x": x, "y": {**y, "field": "value"}, "color": colour}
    if dash:
        encoding["strokeDash"] = {"field": "run", "type": "nominal", "legend": None,
                                  "scale": {"domain": [BASE, THIS], "range": [[5, 3], [1, 0]]}}
    return {"transform": folded, "mark": {"type": "line", "interpolate": "step-after" if not dash else "linear"},
            "encoding": encoding}


def survival_panel(variant: RunResult, baseline: RunResult, days: int, colour: dict[str, Any]) -> dict[str, Any]:
    """P(holding) by day over all worlds (no deal = not holding), each run with its Wilson 95 % band; the
    tooltip reads both runs at the day under the pointer."""
    columns: dict[str, pd.Series] = {}
    for prefix, result in (("base", baseline), ("this", variant)):
        table = result.survival.set_index("day")
        columns.update({prefix: table["p_holding"], f"{prefix}_low": table["ci_low"],
                        f"{prefix}_high": table["ci_high"]})
    x = {"field": "day", "type": "quantitative", "title": DAY_TITLE, "scale": {"domain": [0, days]}}
    y = {"type": "quantitative", "title": "P(ceasefire holding)", "scale": {"domain": [0, 1]},
         "axis": {"format": ".0%"}}
    bands = [{"mark": {"type": "area", "interpolate": "step-after", "opacity": 0.2, "color": hue},
              "encoding": {"x": x, "y": {**y, "field": f"{prefix}_low"}, "y2": {"field": f"{prefix}_high"}}}
             for prefix, hue in (("base", BASELINE), ("this", VARIANT))]
    tooltip = [_tip("this", f"P(holding), {THIS}"), _tip("this_low", "95 % CI low"), _tip("this_high", "95 % CI high"),
               _tip("base", f"P(holding), {BASE}"), _tip("base_low", "95 % CI low "),
               _tip("base_high", "95 % CI high ")]
    return {"title": "Survival of the ceasefire (shaded: 95 % CI)", "width": WIDTH, "height": HEIGHT,
            "data": _csv_data(_by_day(days, columns)),
            "layer": [*bands, _runs_legend({BASE: "base", THIS: "this"}, colour, x, y), _hover_rule(tooltip)]}


def causes_table(result: RunResult, name: str) -> pd.DataFrame:
    """Share of worlds by outcome at the horizon with Wilson 95 % intervals, one row per outcome."""
    row = result.summary.iloc[0]
    n = int(row["replications"])
    shares = np.array([float(row[f"share_{cause}"]) for cause in CAUSES])
    worlds = np.round(shares * n)
    low, high = wilson_interval(worlds, n)
    return pd.DataFrame({"outcome": [CAUSE_LABELS.get(cause, cause) for cause in CAUSES], "run": name,
                         "share": shares, "low": low, "high": high, "worlds": worlds.astype(int)})


def causes_panel(variant: RunResult, baseline: RunResult, colour: dict[str, Any]) -> dict[str, Any]:
    """Outcome at the horizon, this scenario beside the baseline, with 95 % intervals; hover a bar to read it."""
    table = pd.concat([causes_table(baseline, BASE), causes_table(variant, THIS)], ignore_index=True)
    order = [CAUSE_LABELS.get(cause, cause) for cause in CAUSES]
    y = {"field": "outcome", "type": "nominal", "sort": order, "title": None}
    x = {"field": "share", "type": "quantitative", "title": "share of worlds", "scale": {"domain": [0, 1]},
         "axis": {"format": ".0%"}}
    tooltip = [{"field": "run", "type": "nominal"}, {"field": "outcome", "type": "nominal"},
               _tip("share", "share"), _tip("low", "95 % CI low"), _tip("high", "95 % CI high"),
               {"field": "worlds", "type": "quantitative", "title": "worlds"}]
    return {
        "title": "Outcome at the horizon (bars: 95 % CI)", "width": WIDTH - 90, "height": HEIGHT,
        "data": {"values": _records(table)},
        "encoding": {"y": y, "yOffset": {"field": "run", "sort": [BASE, THIS]}},
        "layer": [
            {"mark": {"type": "bar"}, "encoding": {"x": x, "color": colour, "tooltip": tooltip}},
            {"mark": {"type": "rule", "color": "#333"},
             "encoding": {"x": {"field": "low", "type": "quantitative"}, "x2": {"field": "high"}}},
        ],
    }


def trajectory_panel(name: str, title: str, variant: RunResult, baseline: RunResult, days: int,
                     domain: tuple[float, float] | None) -> dict[str, Any]:
    """One state variable by day over holding worlds: this scenario's mean with its 10th–90th percentile
    band, the baseline's mean dashed; the tooltip reads both at the day under the pointer."""
    columns: dict[str, pd.Series] = {}
    for prefix, result in (("base", baseline), ("this", variant)):
        if result.trajectories is not None:
            table = result.trajectories.set_index("day")
            stats = ("mean",) if prefix == "base" else ("mean", "p10", "p90")
            columns.update({f"{prefix}_{stat}": table[f"{name}_{stat}"] for stat in stats})
    x = {"field": "day", "type": "quantitative", "title": DAY_TITLE, "scale": {"domain": [0, days]}}
    y = {"type": "quantitative", "title": name, "scale": {"domain": list(domain)} if domain else {"zero": True}}
    layers: list[dict[str, Any]] = []
    if "this_p10" in columns:
        layers.append({"mark": {"type": "area", "opacity": 0.2, "color": VARIANT},
                       "encoding": {"x": x, "y": {**y, "field": "this_p10"}, "y2": {"field": "this_p90"}}})
    runs = {run: f"{prefix}_mean" for run, prefix in ((BASE, "base"), (THIS, "this")) if f"{prefix}_mean" in columns}
    colour = {"field": "run", "type": "nominal", "title": None,
              "scale": {"domain": [BASE, THIS], "range": [BASELINE, VARIANT]}}
    if runs:
        layers.append(_runs_legend(runs, colour, x, y, dash=True))
    labels = {"this_mean": f"mean, {THIS}", "this_p10": f"10th percentile, {THIS}",
              "this_p90": f"90th percentile, {THIS}", "base_mean": f"mean, {BASE}"}
    layers.append(_hover_rule([_tip(field, label) for field, label in labels.items() if field in columns]))
    return {"title": {"text": title, "subtitle": "holding worlds: mean, band 10th–90th percentile; baseline dashed"},
            "width": WIDTH, "height": HEIGHT, "data": _csv_data(_by_day(days, columns)), "layer": layers}
