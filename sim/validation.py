"""Validation against the empirical record: each anchor's figure beside the model's, with intervals.

An anchor is a published (or, where stated, derived) figure, the citation it comes from, and the
statistic of a bundled scenario's run that corresponds to it. ``run_validation`` runs the scenarios
once each and returns one row per anchor; ``ceasefire validation`` writes the table, a figure, and
(with ``--update-docs``) refreshes the table in docs/VALIDATION.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.metrics import Z_95, wilson_interval
from sim.runner import RunResult, run_scenario
from sim.scenario import load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
VALIDATION_DOC = Path(__file__).resolve().parent.parent / "docs" / "VALIDATION.md"
BEGIN, END = "<!-- validation:begin -->", "<!-- validation:end -->"

MINSK_I_DAYS = 138
"""Minsk Protocol (5 Sep 2014) to the loss of Donetsk airport's terminal (21-22 Jan 2015)."""
MINSK_II_DAYS = 2566
"""Minsk II ceasefire (15 Feb 2015) to the full-scale invasion (24 Feb 2022)."""


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95 % interval (NaN bounds where none applies)."""

    value: float
    low: float = float("nan")
    high: float = float("nan")


@dataclass(frozen=True)
class Run:
    """A validation run: a bundled scenario at a given size and horizon."""

    key: str
    scenario: str
    replications: int
    horizon_days: int


@dataclass(frozen=True)
class Anchor:
    """One empirical figure and the model statistic compared with it."""

    key: str
    measure: str
    citation: str
    empirical: Estimate
    run: str
    statistic: Callable[[Mapping[str, RunResult]], Estimate]
    note: str = ""


SEED = 20261125
RUNS: tuple[Run, ...] = (
    Run("baseline", "baseline", 20_000, 730),
    Run("no_troops", "no_european_troops", 20_000, 730),
    Run("no_troops_long", "no_european_troops", 20_000, MINSK_II_DAYS),
)


def failed_within(run: str, days: int) -> Callable[[Mapping[str, RunResult]], Estimate]:
    """P(the ceasefire breaks down within ``days`` | a deal was reached), with a Wilson interval."""

    def statistic(results: Mapping[str, RunResult]) -> Estimate:
        runs = results[run].runs
        agreed = runs["agreed"].to_numpy(bool)
        day = runs["breakdown_day"].to_numpy(float, na_value=np.nan)
        failed = int(np.sum(agreed & (day <= days)))
        return _proportion(failed, int(agreed.sum()))

    return statistic


def no_offensive_through(run: str, days: int) -> Callable[[Mapping[str, RunResult]], Estimate]:
    """P(no major offensive within ``days`` | deal), counting other breakdowns as censoring (Kaplan-Meier)."""

    def statistic(results: Mapping[str, RunResult]) -> Estimate:
        runs = results[run].runs
        deals = runs[runs["agreed"]]
        day = deals["breakdown_day"].to_numpy(float, na_value=np.nan)
        offensive = (deals["cause"] == "major_offensive").to_numpy()
        return kaplan_meier(np.where(np.isnan(day), days, np.minimum(day, days)), offensive & (day <= days), days)

    return statistic


def hazard_reduction(run: str, reference: str, days: int) -> Callable[[Mapping[str, RunResult]], Estimate]:
    """1 − (breakdown rate in ``run``) / (rate in ``reference``), given a deal, over the first ``days``.

    Rates are breakdowns per world-day at risk; the interval uses the log rate ratio's standard error
    sqrt(1/events₁ + 1/events₂).
    """

    def statistic(results: Mapping[str, RunResult]) -> Estimate:
        e1, t1 = _events_and_exposure(results[run].runs, days)
        e0, t0 = _events_and_exposure(results[reference].runs, days)
        if min(e0, e1) == 0:
            return Estimate(float("nan"))
        ratio = (e1 / t1) / (e0 / t0)
        spread = Z_95 * np.sqrt(1 / e1 + 1 / e0)
        return Estimate(1 - ratio, 1 - ratio * np.exp(spread), 1 - ratio * np.exp(-spread))

    return statistic


def detected_per_day(run: str) -> Callable[[Mapping[str, RunResult]], Estimate]:
    """Detected (recorded) violations per day of ceasefire: a ratio estimator with its standard error."""

    def statistic(results: Mapping[str, RunResult]) -> Estimate:
        result = results[run]
        deals = result.runs[result.runs["agreed"]]
        horizon = result.scenario.horizon_days
        days = deals["breakdown_day"].to_numpy(float, na_value=np.nan)
        days = np.where(np.isnan(days), horizon, days)
        detected = deals["detected_violations"].to_numpy(float)
        rate = detected.sum() / days.sum()
        n = len(days)
        residual = detected - rate * days
        se = np.sqrt(np.sum(residual**2) / (n * (n - 1))) / days.mean() if n > 1 else np.nan
        return Estimate(rate, rate - Z_95 * se, rate + Z_95 * se)

    return statistic


FORTNA_DATA = (
    "Fortna's civil-war cease-fires 1989-1999 (pk&pkept_old.dta) as distributed with Gelman, Hill and Vehtari, "
    "Regression and Other Stories (CUP 2020), Peacekeeping example; counts computed by the authors of this model"
)


def fortna_anchor(peacekeepers: bool, days: int, failed: int, cases: int) -> Anchor:
    """An anchor from Fortna's civil-war cease-fires: ``failed`` of ``cases`` broke down within ``days``.

    Cease-fires with peacekeepers are compared with the baseline (European troops), those without with
    ``no_european_troops``.
    """
    period = {90: "90d", 365: "1y", 730: "2y"}[days]
    force = "with a third-party force" if peacekeepers else "no third-party force"
    run = "baseline" if peacekeepers else "no_troops"
    return Anchor(
        f"{'' if peacekeepers else 'no_'}peacekeepers_fail_{period}",
        f"P(breakdown within {days} days | deal), {force}",
        f"{FORTNA_DATA}: {failed} of {cases} cease-fires {'with' if peacekeepers else 'without'} peacekeepers "
        f"failed within {days} days",
        Estimate(failed / cases, *wilson_interval(failed, cases)), run, failed_within(run, days),
    )


ANCHORS: tuple[Anchor, ...] = (
    fortna_anchor(False, 90, 12, 62),
    fortna_anchor(False, 365, 24, 62),
    fortna_anchor(False, 730, 28, 62),
    fortna_anchor(True, 90, 1, 34),
    fortna_anchor(True, 365, 7, 34),
    fortna_anchor(True, 730, 11, 34),
    Anchor("peacekeeping_hazard_reduction",
           "reduction of the breakdown hazard by third-party forces (baseline vs no_european_troops, given a deal, "
           "first 730 days)",
           "Fortna (2004, ISQ 48(2); 2008, Does Peacekeeping Work?) as summarised by Wall and Cortright (Kroc "
           "Institute, 2012): peacekeepers reduced the risk of renewed war 'by between 55 and 85 percent'",
           Estimate(0.70, 0.55, 0.85), "baseline", hazard_reduction("baseline", "no_troops", 730),
           note="the range is the reported span across model specifications, not a confidence interval"),
    Anchor("minsk_recorded_violations_per_day",
           "recorded (detected) violations per day of a monitoring-only ceasefire",
           "OSCE SMM, press briefings of A. Hug: 'almost 400,000' violations recorded by 22 Dec 2017 (UCMC, "
           "22 Dec 2017) and at least 401,000 in 2017 (Interfax-Ukraine, Jan 2018), i.e. about 1,100 a day; "
           "about 10,500 in the two weeks of 4-17 May 2020 (SMM biweekly report, as quoted by censor.net), "
           "i.e. about 750 a day",
           Estimate(401_000 / 365, 10_500 / 14, 401_000 / 365), "no_troops", detected_per_day("no_troops"),
           note="range: 2017 and spring 2020; the count fell to about 23 a day after the 27 July 2020 measures"),
    Anchor("minsk_i_collapse_138d",
           f"P(breakdown within {MINSK_I_DAYS} days | deal), monitoring only",
           "Minsk Protocol of 5 Sep 2014; large-scale fighting resumed and the Donetsk airport terminal was lost on "
           "21-22 Jan 2015 (USA Today, 22 Jan 2015); Minsk II (from 15 Feb 2015) did not collapse that fast: "
           "1 of the 2 Minsk ceasefires",
           Estimate(1 / 2, *wilson_interval(1, 2)), "no_troops", failed_within("no_troops", MINSK_I_DAYS),
           note="two cases: the interval is wide"),
    Anchor("minsk_ii_no_offensive_7y",
           f"P(no major offensive within {MINSK_II_DAYS} days | deal), monitoring only",
           "Minsk II: ceasefire from 15 Feb 2015 (Package of Measures, 12 Feb 2015) until the full-scale invasion "
           "of 24 Feb 2022, with daily violations but no full-scale offensive: 1 of the 2 Minsk ceasefires",
           Estimate(1 / 2, *wilson_interval(1, 2)), "no_troops_long", no_offensive_through("no_troops_long",
                                                                                          MINSK_II_DAYS),
           note="Kaplan-Meier, other breakdowns censored; two cases: the interval is wide"),
)


def run_validation(workers: int = 1, progress: Callable[[int], None] | None = None,
                   scale: float = 1.0) -> pd.DataFrame:
    """Run the validation scenarios and compare every anchor; one row per anchor.

    Args:
        workers: local processes per run.
        progress: called with the number of worlds as blocks finish.
        scale: multiplies every run's replications (1.0 reproduces docs/VALIDATION.md).
    """
    results = {
        run.key: run_scenario(
            load_scenario(SCENARIO_DIR / f"{run.scenario}.yaml", {
                "replications": max(1, round(run.replications * scale)),
                "horizon_days": run.horizon_days,
                "seed": SEED,
            }),
            workers=workers, progress=progress, record_trajectories=False,
        )
        for run in RUNS
    }
    return validation_table(results)


def validation_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """Every anchor against its model statistic."""
    rows = []
    for anchor in ANCHORS:
        model = anchor.statistic(results)
        run = next(r for r in RUNS if r.key == anchor.run)
        overlap = _intervals_overlap(anchor.empirical, model)
        rows.append({
            "anchor": anchor.key,
            "measure": anchor.measure,
            "empirical": anchor.empirical.value,
            "empirical_low": anchor.empirical.low,
            "empirical_high": anchor.empirical.high,
            "scenario": run.scenario,
            "replications": results[anchor.run].scenario.replications,
            "model": model.value,
            "model_ci_low": model.low,
            "model_ci_high": model.high,
            "difference": model.value - anchor.empirical.value,
            "consistent": overlap,
            "citation": anchor.citation,
            "note": anchor.note,
        })
    table = pd.DataFrame(rows)
    numeric = ["empirical", "empirical_low", "empirical_high", "model", "model_ci_low", "model_ci_high", "difference"]
    table[numeric] = table[numeric].astype(float).round(4)
    return table


def markdown(table: pd.DataFrame) -> str:
    """The validation table as Markdown, as it stands in docs/VALIDATION.md."""
    lines = [
        "| anchor | empirical (range) | model [95 % CI] | scenario | consistent |",
        "|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| `{row.anchor}` | {_fmt(row.empirical, row.empirical_low, row.empirical_high)} "
            f"| {_fmt(row.model, row.model_ci_low, row.model_ci_high)} | `{row.scenario}` "
            f"| {'yes' if row.consistent else '**no**'} |"
        )
    return "\n".join(lines)


def refreshed(document: str, table: pd.DataFrame) -> str:
    """``document`` with the generated table between the validation markers."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{markdown(table)}\n{END}{tail}"


def kaplan_meier(times: np.ndarray, events: np.ndarray, at: float) -> Estimate:
    """Kaplan-Meier survival at ``at`` with a Greenwood log-log 95 % interval."""
    survival, greenwood = 1.0, 0.0
    for t in np.unique(times[events & (times <= at)]):
        at_risk = np.sum(times >= t)
        died = np.sum(events & (times == t))
        survival *= 1 - died / at_risk
        if at_risk > died:
            greenwood += died / (at_risk * (at_risk - died))
    if survival <= 0 or survival >= 1 or greenwood == 0:
        return Estimate(survival)
    spread = Z_95 * np.sqrt(greenwood) / abs(np.log(survival))
    return Estimate(survival, survival ** np.exp(spread), survival ** np.exp(-spread))


def _events_and_exposure(runs: pd.DataFrame, days: int) -> tuple[int, float]:
    deals = runs[runs["agreed"]]
    day = deals["breakdown_day"].to_numpy(float, na_value=np.nan)
    events = int(np.sum(day <= days))
    exposure = float(np.sum(np.where(np.isnan(day), days, np.minimum(day, days))))
    return events, exposure


def _proportion(successes: int, trials: int) -> Estimate:
    if trials == 0:
        return Estimate(float("nan"))
    low, high = wilson_interval(successes, trials)
    return Estimate(successes / trials, float(low), float(high))


def _intervals_overlap(empirical: Estimate, model: Estimate) -> bool:
    """Whether the model's interval meets the empirical one (or the point, where there is no interval)."""
    e_low = empirical.value if np.isnan(empirical.low) else empirical.low
    e_high = empirical.value if np.isnan(empirical.high) else empirical.high
    m_low = model.value if np.isnan(model.low) else model.low
    m_high = model.value if np.isnan(model.high) else model.high
    return bool(m_low <= e_high and e_low <= m_high)


def _fmt(value: float, low: float, high: float) -> str:
    def number(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.3f}"

    if np.isnan(value):
        return "n/a"
    if np.isnan(low) or np.isnan(high):
        return number(value)
    return f"{number(value)} [{number(low)}, {number(high)}]"
