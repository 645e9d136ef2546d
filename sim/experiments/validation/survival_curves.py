"""Fortna's spells by mission type as survival curves and hazards, beside the model's: the checks a reader can see.

Two tables for ``ceasefire validation`` (``km.csv``, ``hazard_bands.csv``) and the figures drawn from them
(``km.png``, ``hazards.png``, :mod:`sim.outputs.plots.validation`):

- **Kaplan-Meier of the record by mission group** (:data:`PANELS`, the groups of
  :mod:`sim.experiments.validation.spell_level`, primary analogue): the segments of the group, left-truncated at
  their entry (a spell whose mission changes enters a group on the day it changes), right-censored at their exit
  and at the ten-year horizon, by :func:`sim.stats.survival.kaplan_meier` with its log-log interval at
  :data:`CONFIDENCE`. The no-mission panel is the calibration spells (``pkop`` 0 and 1); monitoring (2) and
  armed missions (3-5) are held-out spells. The no-mission segments of mission spells (``spells_mission_gaps``)
  are in no panel: the plan scores them on their own (:func:`sim.experiments.validation.spell_level.spell_table`).
- **The model's survival among deals** (day 0 = the ceasefire) in each group's mapped scenario
  (:data:`~sim.experiments.validation.spell_level.MISSION_SCENARIOS`): the default parameters' curve, from the
  spell runs ``ceasefire validation`` already makes (``model_default``, with a Wilson interval of its Monte Carlo
  error), and a **posterior-predictive band** (``model_posterior``): :data:`BAND_DRAWS` draws of the calibrated
  posterior (``seeds/posterior/posterior.csv``), :data:`BAND_WORLDS_PER_DRAW` worlds each, world ``r`` on draw
  ``r % draws`` (:func:`sim.stats.posterior.posterior_world_values`), the three scenarios packed into one batch
  (:func:`sim.engine.packing.run_packed`). The band is the pooled curve ± z of its spread across the posterior
  (the between-draw variance less the within-draw binomial variance) and of its Monte Carlo error
  (:func:`sim.stats.posterior.pooled_interval`, the method of ``run``/``sweep``/``bet --posterior``) at
  :data:`CONFIDENCE`.
- **Failures per year at risk** on the life-table intervals
  (:data:`~sim.experiments.validation.spell_level.BREAKS_DAYS`): the record's (exact Poisson interval), the default
  model's (exact Poisson interval of its Monte Carlo error) and the posterior's (pooled rate ± z of its spread
  across draws, less the within-draw Poisson variance, and of its Monte Carlo error).

The band's worlds are seeded by :data:`BAND_SEED`: the tables depend on it, the posterior file and the sizes,
never on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.core.bundled import scenario_path
from sim.engine.packing import run_packed
from sim.experiments.validation import spell_level
from sim.spec.evidence_plan import EvidencePlan, bundled_plan
from sim.spec.scenario import Scenario, load_scenario
from sim.spec.spells import load_segments
from sim.stats.metrics import grouped_holding_counts, wilson_interval
from sim.stats.posterior import DEFAULT_POSTERIOR, Posterior, load_posterior, pooled_interval, posterior_world_values
from sim.stats.survival import DAYS_PER_YEAR, censor_at, failures_and_exposure, kaplan_meier, life_table

CONFIDENCE = 0.90
"""Level of every interval and band here (the record's Kaplan-Meier, the model's bands, the rates')."""
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
BAND_DRAWS = 40
"""Posterior draws of the band."""
BAND_WORLDS_PER_DRAW = 200
"""Worlds per draw and mission group (8,000 worlds a group, 24,000 in all, at ten years; about 10 s in one
process). With 100, the hazards' spread across draws was too often lost in each draw's Monte Carlo noise."""
BAND_SEED = spell_level.SEED
"""Seeds the band's draws and worlds (world ``r`` shares its streams with the default spell run's world ``r``)."""
SOURCES = ("record", "model_default", "model_posterior")
"""Values of the ``source`` column, in the order the tables list them."""
KM_COLUMNS = ("group", "role", "item", "source", "day", "survival", "low", "high", "at_risk", "failures", "n")
HAZARD_COLUMNS = ("group", "role", "item", "source", "start_day", "end_day", "failures", "years_at_risk",
                  "per_year", "low", "high")
REPORT_DAYS = (365, 1826)
"""Days at which :func:`km_markdown` reads the curves off (1 and 5 years)."""


@dataclass(frozen=True)
class Panel:
    """One mission group of the figures: its record segments (own ``pkop``, spell role) and plan item."""

    group: str
    item: str
    pkop: tuple[int, ...]
    spells: str
    title: str


PANELS: dict[str, Panel] = {
    "none": Panel("none", "hazard_shape", spell_level.SHAPE_PKOP, "calibration",
                  "no mission or a political one (pkop 0-1)"),
    "monitoring": Panel("monitoring", "spells_monitoring", (2,), "held_out", "unarmed monitoring (pkop 2)"),
    "armed": Panel("armed", "spells_armed", (3, 4, 5), "held_out", "armed missions (pkop 3-5)"),
}
"""Mission group (a key of ``spell_level.MISSION_SCENARIOS``) -> its panel; the gaps of mission spells are left out."""


def grid_days(horizon: int = spell_level.HORIZON_DAYS) -> np.ndarray:
    """Days the model's curves are tabulated on: every day of the first quarter, then every week, the breaks and
    the horizon."""
    return np.unique(np.concatenate([np.arange(0, 92), np.arange(91, horizon + 1, 7), spell_level.BREAKS_DAYS,
                                     [horizon]])).astype(np.int64)


# --------------------------------------------------------------------------- the posterior's worlds


@dataclass
class BandRuns:
    """The posterior band's worlds: per mission group its ``runs`` table, and the draw each replication ran."""

    runs: dict[str, pd.DataFrame]
    draw_of_world: np.ndarray
    draws: int
    worlds_per_draw: int
    seed: int
    posterior_file: str
    posterior_sha256: str

    def describe(self) -> dict[str, Any]:
        """Manifest fields: the posterior file and its SHA-256, draws, worlds, seed, what the band holds."""
        return {"file": self.posterior_file, "sha256": self.posterior_sha256, "draws": self.draws,
                "worlds_per_draw": self.worlds_per_draw, "seed": self.seed, "confidence": CONFIDENCE,
                "groups": {group: spell_level.MISSION_SCENARIOS[group].key for group in self.runs},
                "band": "pooled curve +/- z sqrt(parameter variance across draws + Monte Carlo variance)"}


def band_worlds(draws: int = BAND_DRAWS, worlds_per_draw: int = BAND_WORLDS_PER_DRAW) -> int:
    """Worlds the band simulates (for a progress bar)."""
    return draws * worlds_per_draw * len(PANELS)


def band_scenarios(replications: int, seed: int = BAND_SEED) -> dict[str, Scenario]:
    """Each panel's mapped scenario to ten years with ``replications`` worlds."""
    out = {}
    for group in PANELS:
        mapped = spell_level.MISSION_SCENARIOS[group]
        values = {**mapped.overrides, "replications": replications, "horizon_days": spell_level.HORIZON_DAYS,
                  "seed": seed}
        out[group] = load_scenario(scenario_path(mapped.scenario), values)
    return out


def posterior_available() -> bool:
    """Whether the committed posterior (``seeds/posterior/posterior.csv``) is there: a checkout, not an installed
    package; without it ``ceasefire validation`` draws no band (the manifest's ``posterior_band`` is null)."""
    return DEFAULT_POSTERIOR.is_file()


def simulate_band(workers: int = 1, progress: Callable[[int], None] | None = None,
                  posterior: Posterior | None = None, draws: int = BAND_DRAWS,
                  worlds_per_draw: int = BAND_WORLDS_PER_DRAW, seed: int = BAND_SEED) -> BandRuns:
    """The band's worlds: every panel's scenario, world ``r`` on posterior draw ``r % draws``, packed.

    Args:
        posterior: the particles (default: the committed ``seeds/posterior/posterior.csv``).
        workers: local processes; the runs do not depend on it. At the band's size 1 is fastest: with more,
            :func:`sim.engine.packing.run_packed` splits the worlds into smaller packs, each paying a day's
            fixed cost.

    Raises:
        InputError: the posterior file cannot be read or a drawn value is invalid.
    """
    posterior = load_posterior(DEFAULT_POSTERIOR) if posterior is None else posterior
    replications = draws * worlds_per_draw
    scenarios = band_scenarios(replications, seed)
    first = next(iter(scenarios.values()))
    values, draw_of_world = posterior_world_values(posterior, draws, seed, replications, template=first)

    def done(_: int, runs: pd.DataFrame) -> None:
        if progress is not None:
            progress(len(runs))

    runs = run_packed(list(scenarios.values()), [()] * len(scenarios), workers=workers,
                      world_values=[values] * len(scenarios), done=done)
    by_group = {group: table.sort_values("replication", kind="stable").reset_index(drop=True)
                for group, table in zip(scenarios, runs, strict=True)}
    return BandRuns(by_group, draw_of_world, draws, worlds_per_draw, seed, _shown_path(posterior.source),
                    posterior.sha256)


def _shown_path(path: Path) -> str:
    """The posterior file relative to the checkout when it is in it (manifests should not hold home folders)."""
    root = DEFAULT_POSTERIOR.parents[2]
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- the record


def panel_segments(segments: pd.DataFrame, panel: Panel) -> pd.DataFrame:
    """The primary analogue's segments of one panel (:func:`sim.experiments.validation.spell_level.group_segments`)."""
    return spell_level.group_segments(segments, panel.pkop, panel.spells, "primary")


def record_curve(rows: pd.DataFrame, horizon: int = spell_level.HORIZON_DAYS) -> pd.DataFrame:
    """Kaplan-Meier of the segments (left-truncated at entry, censored at exit and ``horizon``) at
    :data:`CONFIDENCE`, with a last row at the last exit (failures 0) so that the step runs to where the record
    does: columns ``day``, ``survival``, ``low``, ``high``, ``at_risk``, ``failures``."""
    start, stop, event = censor_at(rows["entry_day"], rows["exit_day"], rows["event"], horizon)
    km = kaplan_meier(start, stop, event, CONFIDENCE)
    curve = pd.DataFrame({"day": km["day"], "survival": km["survival"], "low": km["ci_low"], "high": km["ci_high"],
                          "at_risk": km["at_risk"], "failures": km["failures"]})
    last = float(stop.max())
    if last > curve["day"].iloc[-1]:
        at_risk = int(((start < last) & (stop >= last)).sum())
        tail = curve.iloc[[-1]].assign(day=last, at_risk=at_risk, failures=0)
        curve = pd.concat([curve, tail], ignore_index=True)
    return curve


# --------------------------------------------------------------------------- the model's curves


def default_curve(runs: pd.DataFrame, grid: np.ndarray, horizon: int = spell_level.HORIZON_DAYS) -> pd.DataFrame:
    """Share of the deals holding on each day of ``grid`` (a breakdown on day b ends holding from b), with a
    Wilson interval of its Monte Carlo error at :data:`CONFIDENCE`."""
    held, agreed = grouped_holding_counts(runs, horizon, np.zeros(len(runs), dtype=np.int64), 1)
    held, n = held[0, grid], int(agreed[0])
    low, high = wilson_interval(held, n, z=Z)
    survival = held / n if n else np.full(len(grid), np.nan)
    return pd.DataFrame({"day": grid, "survival": survival, "low": low, "high": high, "n": n})


def posterior_curve(runs: pd.DataFrame, draw_of_world: np.ndarray, draws: int, grid: np.ndarray,
                    horizon: int = spell_level.HORIZON_DAYS) -> pd.DataFrame:
    """The pooled share of deals holding on each day of ``grid`` over the posterior draws, and its band
    (:func:`sim.stats.posterior.pooled_interval` at :data:`CONFIDENCE`)."""
    draw = np.asarray(draw_of_world)[runs["replication"].to_numpy()]
    held, agreed = grouped_holding_counts(runs, horizon, draw, draws)
    trials = np.repeat(agreed[:, None], len(grid), axis=1)
    p, low, high, _ = pooled_interval(held[:, grid], trials, z=Z)
    return pd.DataFrame({"day": grid, "survival": p, "low": low, "high": high, "n": int(agreed.sum())})


def km_table(spell_runs: Mapping[str, Any], band: BandRuns | None = None, segments: pd.DataFrame | None = None,
             plan: EvidencePlan | None = None) -> pd.DataFrame:
    """``km.csv``: per panel the record's Kaplan-Meier, the default model's curve and (with ``band``) the
    posterior band; columns :data:`KM_COLUMNS`.

    Args:
        spell_runs: the default spell runs by scenario key (:func:`sim.experiments.validation.spell_level.simulate`).
    """
    segments = load_segments() if segments is None else segments
    plan = plan or bundled_plan()
    grid = grid_days()
    parts = []
    for group, panel in PANELS.items():
        labels = {"group": group, "role": plan.role(panel.item), "item": panel.item}
        rows = panel_segments(segments, panel)
        parts.append(record_curve(rows).assign(**labels, source="record", n=len(rows)))
        default = default_curve(spell_runs[spell_level.MISSION_SCENARIOS[group].key].runs, grid)
        parts.append(default.assign(**labels, source="model_default"))
        if band is not None:
            parts.append(posterior_curve(band.runs[group], band.draw_of_world, band.draws, grid)
                         .assign(**labels, source="model_posterior"))
    table = pd.concat(parts, ignore_index=True)[list(KM_COLUMNS)]
    return _rounded(table, ("survival", "low", "high"), 6)


# --------------------------------------------------------------------------- hazards


def _exact_rate(failures: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Failures per year at risk and its exact (Garwood) Poisson interval at :data:`CONFIDENCE`."""
    years = np.asarray(days, float) / DAYS_PER_YEAR
    tail = (1 - CONFIDENCE) / 2
    failures = np.asarray(failures, float)
    low = np.where(failures > 0, stats.chi2.ppf(tail, 2 * failures) / 2, 0.0)
    high = stats.chi2.ppf(1 - tail, 2 * failures + 2) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.where(years > 0, failures / years, np.nan), np.where(years > 0, low / years, np.nan),
                np.where(years > 0, high / years, np.nan))


def deal_failures(runs: pd.DataFrame, horizon: int = spell_level.HORIZON_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """Failures and days at risk per life-table interval among the deals of ``runs`` (as
    :func:`sim.experiments.validation.spell_level.model_hazard`)."""
    deals = runs[runs["agreed"].to_numpy(bool)]
    day = deals["breakdown_day"].to_numpy(float, na_value=np.nan)
    broke = ~np.isnan(day) & (day <= horizon)
    exit_day = np.maximum(np.where(broke, day, horizon), 0.5)
    if not len(exit_day):
        return np.zeros(len(spell_level.BREAKS_DAYS)), np.zeros(len(spell_level.BREAKS_DAYS))
    failures, exposure = failures_and_exposure(np.zeros(len(exit_day)), exit_day, broke.astype(int),
                                               spell_level.BREAKS_DAYS)
    return failures.astype(float), exposure


def pooled_rate(failures: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled failures per year at risk over draws and its band at :data:`CONFIDENCE`.

    ``failures`` and ``exposure`` (days) are (draws, intervals). The rate is r = sum D / sum E. The parameters'
    share of its variance is the spread of the draws' rates D_d / E_d less the Poisson variance each would have
    at the pooled rate, r / E_d (the method-of-moments estimate of overdispersion, floored at 0: where the
    draws differ by no more than Monte Carlo noise, the band is that noise alone); the pooled rate's own Poisson
    variance, r / sum E, is added. The band is r ± z of the root, floored at 0.
    """
    failures, exposure = np.asarray(failures, float), np.asarray(exposure, float)
    total_d, total_e = failures.sum(axis=0), exposure.sum(axis=0)
    rate = np.divide(total_d, total_e, out=np.full(total_d.shape, np.nan), where=total_e > 0)
    variance = np.zeros(total_d.shape)
    for k in range(failures.shape[1]):
        usable = exposure[:, k] > 0
        if usable.sum() > 1:
            per_draw = failures[usable, k] / exposure[usable, k]
            noise = np.mean(rate[k] / exposure[usable, k])
            variance[k] = max(0.0, float(np.var(per_draw, ddof=1)) - noise)
    with np.errstate(invalid="ignore"):
        half = Z * np.sqrt(variance + np.divide(rate, total_e, out=np.full(rate.shape, np.nan), where=total_e > 0))
    return rate * DAYS_PER_YEAR, np.maximum(rate - half, 0.0) * DAYS_PER_YEAR, (rate + half) * DAYS_PER_YEAR


def hazard_band_table(spell_runs: Mapping[str, Any], band: BandRuns | None = None,
                      segments: pd.DataFrame | None = None, plan: EvidencePlan | None = None) -> pd.DataFrame:
    """``hazard_bands.csv``: failures per year at risk per life-table interval and panel, for the record
    (calibration spells for no mission, held-out spells for the missions: ``role`` says which), the default
    model and (with ``band``) the posterior; columns :data:`HAZARD_COLUMNS`."""
    segments = load_segments() if segments is None else segments
    plan = plan or bundled_plan()
    edges = np.asarray(spell_level.BREAKS_DAYS)
    ends = np.append(edges[1:], spell_level.HORIZON_DAYS)
    rows = []

    def add(labels: dict[str, Any], source: str, failures: np.ndarray, days: np.ndarray,
            rate: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        for k in range(len(edges)):
            rows.append({**labels, "source": source, "start_day": int(edges[k]), "end_day": int(ends[k]),
                         "failures": float(failures[k]), "years_at_risk": float(days[k] / DAYS_PER_YEAR),
                         "per_year": rate[0][k], "low": rate[1][k], "high": rate[2][k]})

    for group, panel in PANELS.items():
        labels = {"group": group, "role": plan.role(panel.item), "item": panel.item}
        chosen = panel_segments(segments, panel)
        start, stop, event = censor_at(chosen["entry_day"], chosen["exit_day"], chosen["event"],
                                       spell_level.HORIZON_DAYS)
        table = life_table(start, stop, event, spell_level.BREAKS_DAYS, CONFIDENCE)
        add(labels, "record", table["failures"].to_numpy(float), table["exposure_days"].to_numpy(),
            (table["failures_per_year"].to_numpy(), table["rate_low"].to_numpy(), table["rate_high"].to_numpy()))
        failures, days = deal_failures(spell_runs[spell_level.MISSION_SCENARIOS[group].key].runs)
        add(labels, "model_default", failures, days, _exact_rate(failures, days))
        if band is not None:
            runs = band.runs[group]
            draw = np.asarray(band.draw_of_world)[runs["replication"].to_numpy()]
            per_draw = [deal_failures(runs[draw == d]) for d in range(band.draws)]
            failures = np.array([f for f, _ in per_draw])
            days = np.array([e for _, e in per_draw])
            add(labels, "model_posterior", failures.sum(axis=0), days.sum(axis=0), pooled_rate(failures, days))
    table = pd.DataFrame(rows, columns=list(HAZARD_COLUMNS))
    return _rounded(table, ("years_at_risk", "per_year", "low", "high"), 6)


def _rounded(table: pd.DataFrame, columns: tuple[str, ...], digits: int) -> pd.DataFrame:
    """``table`` with ``columns`` rounded (short, stable CSVs)."""
    return table.assign(**{c: table[c].astype(float).round(digits) for c in columns})


# --------------------------------------------------------------------------- reading them off


def value_at(curve: pd.DataFrame, day: float) -> pd.Series:
    """The row of a step curve (sorted by ``day``) in force on ``day``: the last row at or before it."""
    return curve[curve["day"] <= day].iloc[-1]


def km_summary(km: pd.DataFrame, days: tuple[int, ...] = REPORT_DAYS) -> pd.DataFrame:
    """Per panel and day: the record's survival and interval, the default model's, the posterior band, and
    whether the record's estimate lies inside the band (NaN where the record has no one at risk any more)."""
    rows = []
    for group in PANELS:
        of_group = km[km["group"] == group]
        record = of_group[of_group["source"] == "record"].sort_values("day", kind="stable")
        role = of_group["role"].iloc[0]
        for day in days:
            row = {"group": group, "role": role, "day": day}
            observed = record["day"].max() >= day
            hit = value_at(record, day)
            row.update(record=hit["survival"] if observed else np.nan, record_low=hit["low"] if observed else np.nan,
                       record_high=hit["high"] if observed else np.nan)
            for source, prefix in (("model_default", "default"), ("model_posterior", "posterior")):
                curve = of_group[of_group["source"] == source].sort_values("day", kind="stable")
                found = value_at(curve, day) if len(curve) else None
                row[prefix] = np.nan if found is None else found["survival"]
                row[f"{prefix}_low"] = np.nan if found is None else found["low"]
                row[f"{prefix}_high"] = np.nan if found is None else found["high"]
            row["record_in_band"] = (row["posterior_low"] <= row["record"] <= row["posterior_high"]
                                     if observed and not np.isnan(row["posterior_low"]) else np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


def km_markdown(km: pd.DataFrame, hazards: pd.DataFrame) -> str:
    """The survival at 1 and 5 years per panel and the hazards per year at risk, as Markdown tables."""
    summary = km_summary(km)
    level = f"{CONFIDENCE:.0%}"
    lines = [f"| mission group | role | at | record [{level} CI] | model, default [{level} MC] "
             f"| model, posterior [{level} band] | record inside band? |", "|---|---|---|---|---|---|---|"]
    for row in summary.itertuples():
        inside = "—" if pd.isna(row.record_in_band) else ("yes" if row.record_in_band else "**no**")
        lines.append(f"| {row.group} | {row.role} | {row.day / DAYS_PER_YEAR:.0f} y | "
                     f"{_interval(row.record, row.record_low, row.record_high)} | "
                     f"{_interval(row.default, row.default_low, row.default_high)} | "
                     f"{_interval(row.posterior, row.posterior_low, row.posterior_high)} | {inside} |")
    lines += ["", f"| mission group | role | days | record failures / years at risk | record per year [{level} CI] "
              f"| model, default | model, posterior [{level} band] |", "|---|---|---|---|---|---|---|"]
    for (group, start), part in hazards.groupby(["group", "start_day"], sort=False):
        by = part.set_index("source")
        record = by.loc["record"]
        posterior = (_interval(by.loc["model_posterior", "per_year"], by.loc["model_posterior", "low"],
                               by.loc["model_posterior", "high"]) if "model_posterior" in by.index else "—")
        lines.append(f"| {group} | {record['role']} | {start}-{record['end_day']} | "
                     f"{record['failures']:.0f} / {record['years_at_risk']:.1f} | "
                     f"{_interval(record['per_year'], record['low'], record['high'])} | "
                     f"{by.loc['model_default', 'per_year']:.3f} | {posterior} |")
    return "\n".join(lines)


def _interval(value: float, low: float, high: float) -> str:
    """``0.512 [0.401, 0.620]``; a dash for no value."""
    if pd.isna(value):
        return "—"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]" if not (pd.isna(low) or pd.isna(high)) else f"{value:.3f}"
