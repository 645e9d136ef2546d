"""Validation against the empirical record: a test that can fail for every anchor, and a fit statistic.

An anchor is an observed figure (as counts wherever the record gives them), the citation it comes from,
the statistic of a bundled scenario's run that corresponds to it, and its role: ``calibration`` (the
model's assumptions may be fitted to it) or ``held_out`` (never used in fitting). The role is the
pre-registered plan's (``seeds/evidence_plan.yaml``, :mod:`sim.spec.evidence_plan`): :data:`ANCHORS` takes
it from there, whatever the definitions below say, and an anchor the plan does not list is refused.

Tests. For an anchor of ``k`` events in ``N`` cases the model's probability is estimated from ``s`` of
``T`` simulated deals; the observed ``k`` is compared with its posterior predictive distribution, a
beta-binomial ``BB(N, s + 1/2, T - s + 1/2)`` (Jeffreys prior, so the model's Monte Carlo error is
included), by an exact two-sided test: the p-value is the probability of every outcome no more likely
than the observed one. Nested counts of the same cases (failures within 90 days, 1 year, 2 years) are
tested jointly by the same exact test on the Dirichlet-multinomial of the intervals. Anchors known
only as a range across studies (the hazard reduction, violations per day) get a z-test on the log
scale, with the range read as if it were a 95 % interval.

Fit. The held-out fit is the log predictive probability of the held-out record: the sum of the
log-likelihoods of independent held-out components (the peacekeepers' timing, jointly; Minsk I;
Minsk II in one coding; the two Minsk deals). Higher is better; differences between variants are log
likelihood ratios.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import gammaln
from scipy.stats import norm

from sim.core.bundled import scenario_path
from sim.experiments.run import RunResult, run_scenario
from sim.spec.evidence_plan import bundled_plan, commitments_calibrated_to, contaminating_parameters
from sim.spec.scenario import load_scenario
from sim.stats.metrics import Z_95, wilson_interval

MINSK_I_DAYS = 138
"""Minsk Protocol (5 Sep 2014) to the loss of Donetsk airport's terminal (21-22 Jan 2015)."""
MINSK_II_DAYS = 2566
"""Minsk II ceasefire (15 Feb 2015) to the full-scale invasion (24 Feb 2022)."""
DEBALTSEVE_DAYS = 7
"""The first week of Minsk II: Debaltseve fell on 18 Feb 2015, three days after the ceasefire began."""

ALPHA = 0.05
"""An anchor is failed when its p-value is below this."""
JEFFREYS = 0.5
"""Prior pseudo-count per outcome for the model's probabilities (Jeffreys)."""

Role = Literal["calibration", "held_out"]
CODINGS: tuple[str, ...] = ("held", "debaltseve")
"""The two codings of Minsk II: held for seven years, or failed at Debaltseve in its first week."""


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95 % interval (NaN bounds where none applies) and, for proportions, its counts."""

    value: float
    low: float = float("nan")
    high: float = float("nan")
    events: float = float("nan")
    trials: float = float("nan")


@dataclass(frozen=True)
class Run:
    """A validation run: a bundled scenario at a given size and horizon."""

    key: str
    scenario: str
    replications: int
    horizon_days: int


@dataclass(frozen=True)
class Anchor:
    """One empirical figure, the model statistic compared with it, and how it is tested.

    Attributes:
        events, cases: the observed count ``k`` of ``N`` (None for a figure known only as a range).
        role: ``calibration`` (may be fitted) or ``held_out`` (never fitted).
        group: anchors of one group are nested counts of the same cases, tested and fitted jointly.
        coding: ``""`` for every coding of the record, else the Minsk II coding the anchor belongs to.
        in_fit: whether the anchor enters the held-out fit statistic (False where it is not independent
            of the others or has no counts).
        log_of: for range anchors, the quantity compared on the log scale: the value, or one minus it.
    """

    key: str
    measure: str
    citation: str
    empirical: Estimate
    run: str
    statistic: Callable[[Mapping[str, RunResult]], Estimate]
    note: str = ""
    role: Role = "held_out"
    events: int | None = None
    cases: int | None = None
    group: str = ""
    coding: str = ""
    in_fit: bool = True
    log_of: Literal["value", "one_minus"] = "value"


SEED = 20261125
RUNS: tuple[Run, ...] = (
    Run("baseline", "baseline", 20_000, 730),
    Run("no_troops", "no_european_troops", 60_000, 730),
    Run("no_troops_long", "no_european_troops", 60_000, MINSK_II_DAYS),
)
"""Sizes: ``no_european_troops`` reaches a deal in under a tenth of worlds, so it runs three times the
worlds (worlds without a deal cost almost nothing) to give a few thousand deals."""


# --------------------------------------------------------------------------- model statistics


def failed_within(run: str, days: int) -> Callable[[Mapping[str, RunResult]], Estimate]:
    """P(the ceasefire breaks down within ``days`` | a deal was reached), with a Wilson interval."""

    def statistic(results: Mapping[str, RunResult]) -> Estimate:
        agreed, day = _deals(results[run].runs)
        return _proportion(int(np.sum(day[agreed] <= days)), int(agreed.sum()))

    return statistic


def held_through(run: str, days: int) -> Callable[[Mapping[str, RunResult]], Estimate]:
    """P(no breakdown of any kind within ``days`` | a deal), with a Wilson interval."""

    def statistic(results: Mapping[str, RunResult]) -> Estimate:
        agreed, day = _deals(results[run].runs)
        held = ~(day[agreed] <= days)  # NaN (never broke down) counts as held
        return _proportion(int(held.sum()), int(agreed.sum()))

    return statistic


def deal_share(run: str) -> Callable[[Mapping[str, RunResult]], Estimate]:
    """P(a deal is reached) over all worlds, with a Wilson interval."""

    def statistic(results: Mapping[str, RunResult]) -> Estimate:
        agreed = results[run].runs["agreed"].to_numpy(bool)
        return _proportion(int(agreed.sum()), len(agreed))

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


# --------------------------------------------------------------------------- the anchors

FORTNA_DATA = (
    "Fortna's civil-war cease-fires 1989-1999 (pk&pkept_old.dta) as distributed with Gelman, Hill and Vehtari, "
    "Regression and Other Stories (CUP 2020), Peacekeeping example; counts computed by the authors of this model"
)


def fortna_anchor(peacekeepers: bool, days: int, failed: int, cases: int) -> Anchor:
    """An anchor from Fortna's civil-war cease-fires: ``failed`` of ``cases`` broke down within ``days``.

    Cease-fires with peacekeepers are compared with the baseline (European troops) and held out; those
    without, with ``no_european_troops``, are calibration targets.
    """
    period = {90: "90d", 365: "1y", 730: "2y"}[days]
    force = "with a third-party force" if peacekeepers else "no third-party force"
    run = "baseline" if peacekeepers else "no_troops"
    group = "peacekeepers_timing" if peacekeepers else "no_peacekeepers_timing"
    return Anchor(
        f"{'' if peacekeepers else 'no_'}peacekeepers_fail_{period}",
        f"P(breakdown within {days} days | deal), {force}",
        f"{FORTNA_DATA}: {failed} of {cases} cease-fires {'with' if peacekeepers else 'without'} peacekeepers "
        f"failed within {days} days",
        Estimate(failed / cases, *wilson_interval(failed, cases)), run, failed_within(run, days),
        role="held_out" if peacekeepers else "calibration", events=failed, cases=cases, group=group,
    )


def _single_case(key: str, measure: str, citation: str, run: str, statistic: Callable, note: str,
                 coding: str = "", events: int = 1, cases: int = 1) -> Anchor:
    """A held-out anchor of a few observed cases (the Minsk ceasefires)."""
    return Anchor(key, measure, citation, Estimate(events / cases), run, statistic, note=note,
                  events=events, cases=cases, coding=coding)


ANCHORS: tuple[Anchor, ...] = (
    fortna_anchor(False, 90, 12, 62),
    fortna_anchor(False, 365, 24, 62),
    fortna_anchor(False, 730, 28, 62),
    Anchor("minsk_recorded_violations_per_day",
           "recorded (detected) violations per day of a monitoring-only ceasefire",
           "OSCE SMM, press briefings of A. Hug: 'almost 400,000' violations recorded by 22 Dec 2017 (UCMC, "
           "22 Dec 2017) and at least 401,000 in 2017 (Interfax-Ukraine, Jan 2018), i.e. about 1,100 a day; "
           "about 10,500 in the two weeks of 4-17 May 2020 (SMM biweekly report, as quoted by censor.net), "
           "i.e. about 750 a day",
           Estimate(401_000 / 365, 10_500 / 14, 401_000 / 365), "no_troops", detected_per_day("no_troops"),
           note="range: 2017 and spring 2020, tested as if it were a 95 % interval on the log scale; the count "
                "fell to about 23 a day after the 27 July 2020 measures",
           role="calibration", in_fit=False),
    fortna_anchor(True, 90, 1, 34),
    fortna_anchor(True, 365, 7, 34),
    fortna_anchor(True, 730, 11, 34),
    Anchor("peacekeeping_hazard_reduction",
           "reduction of the breakdown hazard by third-party forces (baseline vs no_european_troops, given a deal, "
           "first 730 days)",
           "Fortna (2004, ISQ 48(2); 2008, Does Peacekeeping Work?) as summarised by Wall and Cortright (Kroc "
           "Institute, 2012): peacekeepers reduced the risk of renewed war 'by between 55 and 85 percent'",
           Estimate(0.70, 0.55, 0.85), "baseline", hazard_reduction("baseline", "no_troops", 730),
           note="the range is the reported span across model specifications, tested as if it were a 95 % interval "
                "on the log hazard ratio; not in the fit (no counts, and the same cases as the timing anchors)",
           in_fit=False, log_of="one_minus"),
    _single_case("minsk_deals",
                 "P(a deal is reached), monitoring only: two deals in two attempts",
                 "Minsk Protocol, 5 Sep 2014, and Package of Measures (Minsk II), 12 Feb 2015: monitoring-only "
                 "ceasefires (OSCE SMM), no third-party troops, agreed twice",
                 "no_troops", deal_share("no_troops"),
                 "2 of 2; P(two deals) = P(deal)^2 if the two negotiations were independent, which they were not",
                 events=2, cases=2),
    _single_case("minsk_i_collapse_138d",
                 f"P(breakdown within {MINSK_I_DAYS} days | deal), monitoring only",
                 "Minsk Protocol of 5 Sep 2014; large-scale fighting resumed and the Donetsk airport terminal was "
                 "lost on 21-22 Jan 2015 (USA Today, 22 Jan 2015), 138 days later",
                 "no_troops", failed_within("no_troops", MINSK_I_DAYS), "one case: it failed"),
    _single_case("minsk_ii_held_7y",
                 f"P(no breakdown within {MINSK_II_DAYS} days | deal), monitoring only",
                 "Minsk II: ceasefire from 15 Feb 2015 (Package of Measures, 12 Feb 2015) until the full-scale "
                 "invasion of 24 Feb 2022, with daily violations but no full-scale offensive",
                 "no_troops_long", held_through("no_troops_long", MINSK_II_DAYS - 1),
                 "one case, coded as held for 2,566 days", coding="held"),
    _single_case("minsk_ii_failed_debaltseve",
                 f"P(breakdown within {DEBALTSEVE_DAYS} days | deal), monitoring only",
                 "Minsk II, the other coding: the battle for Debaltseve went on after the ceasefire of 15 Feb 2015 "
                 "and the town fell about 18 Feb 2015",
                 "no_troops", failed_within("no_troops", DEBALTSEVE_DAYS),
                 "one case, coded as failed in its first week", coding="debaltseve"),
)


def _planned(anchors: tuple[Anchor, ...]) -> tuple[Anchor, ...]:
    """The anchors with the plan's roles (an anchor missing from the plan raises InputError)."""
    plan = bundled_plan()
    return tuple(replace(anchor, role=plan.role(anchor.key)) for anchor in anchors)


ANCHORS = _planned(ANCHORS)


def contamination() -> dict[str, tuple[str, ...]]:
    """Held-out item -> parameters of seeds/commitments.yaml tuned to it or to a held-out item on the same cases."""
    return contaminating_parameters(commitments_calibrated_to())


def calibration_anchors() -> tuple[Anchor, ...]:
    """The anchors the assumptions may be fitted to."""
    return tuple(a for a in ANCHORS if a.role == "calibration")


def held_out_anchors() -> tuple[Anchor, ...]:
    """The anchors never used in fitting."""
    return tuple(a for a in ANCHORS if a.role == "held_out")


# --------------------------------------------------------------------------- running


def simulate(workers: int = 1, progress: Callable[[int], None] | None = None, scale: float = 1.0,
             overrides: Callable[[Path], Mapping[str, Any]] | None = None) -> dict[str, RunResult]:
    """Run every validation run once; returns the results by run key.

    Args:
        scale: multiplies every run's replications (1.0 reproduces docs/VALIDATION.md).
        overrides: scenario overrides (by dotted path) for a scenario file, e.g. a wrong variant's.
    """
    results = {}
    for run in RUNS:
        path = scenario_path(run.scenario)
        values = {**(overrides(path) if overrides else {}), "replications": max(1, round(run.replications * scale)),
                  "horizon_days": run.horizon_days, "seed": SEED}
        results[run.key] = run_scenario(load_scenario(path, values), workers=workers, progress=progress,
                                        record_trajectories=False)
    return results


def run_validation(workers: int = 1, progress: Callable[[int], None] | None = None,
                   scale: float = 1.0) -> pd.DataFrame:
    """Run the validation scenarios and test every anchor; one row per anchor (see :func:`validation_table`)."""
    return validation_table(simulate(workers, progress, scale))


def validation_table(results: Mapping[str, RunResult]) -> pd.DataFrame:
    """Every anchor against its model statistic, with its p-value and log-likelihood."""
    rows = []
    tainted = contamination()
    for anchor in ANCHORS:
        model = anchor.statistic(results)
        run = next(r for r in RUNS if r.key == anchor.run)
        p_value, log_lik = anchor_test(anchor, model)
        rows.append({
            "anchor": anchor.key, "role": anchor.role, "measure": anchor.measure,
            "observed": observed_text(anchor),
            "empirical": anchor.empirical.value, "empirical_low": anchor.empirical.low,
            "empirical_high": anchor.empirical.high,
            "observed_events": anchor.events, "observed_cases": anchor.cases,
            "scenario": run.scenario, "replications": results[anchor.run].scenario.replications,
            "model": model.value, "model_ci_low": model.low, "model_ci_high": model.high,
            "model_events": model.events, "model_trials": model.trials,
            "p_value": p_value, "log_lik": log_lik, "failed": bool(p_value < ALPHA),
            "group": anchor.group, "coding": anchor.coding, "in_fit": anchor.in_fit,
            "contaminated": bool(tainted.get(anchor.key)), "contaminated_by": ";".join(tainted.get(anchor.key, ())),
            "citation": anchor.citation, "note": anchor.note,
        })
    table = pd.DataFrame(rows)
    table[["observed_events", "observed_cases"]] = table[["observed_events", "observed_cases"]].astype("Int64")
    numeric = ["empirical", "empirical_low", "empirical_high", "model", "model_ci_low", "model_ci_high"]
    table[numeric] = table[numeric].astype(float).round(4)
    table["p_value"] = table["p_value"].astype(float).round(6)
    table["log_lik"] = table["log_lik"].astype(float).round(4)
    return table


# --------------------------------------------------------------------------- tests


def anchor_test(anchor: Anchor, model: Estimate) -> tuple[float, float]:
    """(p-value, log-likelihood) of the observed figure under the model; NaN where the model has no figure."""
    if anchor.events is not None and anchor.cases is not None:
        if not model.trials > 0:
            return float("nan"), float("nan")
        alpha = np.array([model.events, model.trials - model.events]) + JEFFREYS
        return counts_test(np.array([anchor.events, anchor.cases - anchor.events]), alpha)
    return range_test(anchor, model), float("nan")


def counts_test(observed: np.ndarray, alpha: np.ndarray) -> tuple[float, float]:
    """Exact two-sided test of observed cell counts against a Dirichlet-multinomial(N, alpha).

    Returns the p-value (the probability of every outcome no more likely than the observed one) and
    the observed outcome's log probability.
    """
    observed = np.asarray(observed, dtype=int)
    outcomes = compositions(int(observed.sum()), len(observed))
    log_p = dirichlet_multinomial_logpmf(outcomes, alpha)
    log_observed = float(dirichlet_multinomial_logpmf(observed[None, :], alpha)[0])
    p_value = float(np.exp(log_p[log_p <= log_observed + 1e-9]).sum())
    return min(1.0, p_value), log_observed


def dirichlet_multinomial_logpmf(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Log probability of each row of counts ``x`` (outcomes × cells) under Dirichlet-multinomial(alpha)."""
    x = np.asarray(x, dtype=float)
    alpha = np.asarray(alpha, dtype=float)
    n = x.sum(axis=1)
    total = alpha.sum()
    return (gammaln(total) + gammaln(n + 1) - gammaln(n + total)
            + np.sum(gammaln(x + alpha) - gammaln(alpha) - gammaln(x + 1), axis=1))


def compositions(n: int, cells: int) -> np.ndarray:
    """Every way of putting ``n`` cases into ``cells`` ordered cells (stars and bars), as rows."""
    bars = np.array(list(itertools.combinations(range(n + cells - 1), cells - 1)), dtype=int).reshape(-1, cells - 1)
    edges = np.hstack([np.full((len(bars), 1), -1), bars, np.full((len(bars), 1), n + cells - 1)])
    return np.diff(edges, axis=1) - 1


def range_test(anchor: Anchor, model: Estimate) -> float:
    """Two-sided z-test on the log scale of a figure known only as a range, read as a 95 % interval."""
    def log_interval(estimate: Estimate) -> tuple[float, float]:
        ends = [estimate.low, estimate.high]
        if anchor.log_of == "one_minus":
            ends = [1 - e for e in ends]
        low, high = sorted(math.log(e) if e > 0 else float("nan") for e in ends)
        return (low + high) / 2, (high - low) / (2 * Z_95)

    centre, se = log_interval(anchor.empirical)
    model_value = 1 - model.value if anchor.log_of == "one_minus" else model.value
    if not model_value > 0:
        return float("nan")
    _, model_se = log_interval(model) if np.isfinite([model.low, model.high]).all() else (0.0, 0.0)
    z = (math.log(model_value) - centre) / math.hypot(se, 0.0 if math.isnan(model_se) else model_se)
    return float(2 * norm.sf(abs(z)))


def observed_text(anchor: Anchor) -> str:
    """The observed figure as shown in the tables: ``k/N`` or the value with its range."""
    if anchor.events is not None and anchor.cases is not None:
        return f"{anchor.events}/{anchor.cases}"
    return _fmt(anchor.empirical.value, anchor.empirical.low, anchor.empirical.high)


# --------------------------------------------------------------------------- joint tests and the fit


def joint_tests(table: pd.DataFrame) -> pd.DataFrame:
    """One row per group of nested counts: the interval counts tested jointly (exact Dirichlet-multinomial)."""
    rows = []
    for group, rows_of_group in table[table["group"] != ""].groupby("group", sort=False):
        observed, alpha = _group_cells(rows_of_group)
        p_value, log_lik = counts_test(observed, alpha)
        tainted = sorted({p for cell in rows_of_group.get("contaminated_by", pd.Series(dtype=str)) if cell
                          for p in str(cell).split(";")})
        rows.append({"group": group, "role": rows_of_group["role"].iloc[0],
                     "observed": "/".join(str(int(c)) for c in observed) + f" of {int(observed.sum())}",
                     "model": "/".join(f"{a / alpha.sum():.3f}" for a in alpha),
                     "p_value": round(p_value, 6), "log_lik": round(log_lik, 4),
                     "contaminated": bool(tainted), "contaminated_by": ";".join(tainted)})
    return pd.DataFrame(rows)


def fit_statistic(table: pd.DataFrame, coding: str = "held") -> float:
    """Log predictive probability of the held-out record (one Minsk II ``coding``); higher is better."""
    return sum(_log_lik(observed, counts) for _, observed, counts in fit_components(table, coding))


def fit_components(table: pd.DataFrame, coding: str = "held") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The independent components of the held-out fit: (name, observed cells, model cell counts).

    A group of nested counts is one component (its intervals); every other in-fit anchor is one.
    """
    rows = table[(table["role"] == "held_out") & table["in_fit"].astype(bool) & table["coding"].isin(["", coding])]
    components = []
    for group, part in rows.groupby("group", sort=False):
        pieces = [(group, part)] if group else [(row, part[part["anchor"] == row]) for row in part["anchor"]]
        for name, piece in pieces:
            observed, alpha = _group_cells(piece)
            components.append((str(name), observed, alpha - JEFFREYS))
    return components


def fit_standard_error(table: pd.DataFrame, coding: str = "held", draws: int = 400, seed: int = SEED) -> float:
    """Monte Carlo standard error of :func:`fit_statistic`: a parametric bootstrap of the model's counts.

    Each component's simulated counts are redrawn from their own estimate (binomial, or multinomial for a
    group); the components come from different runs or are conditionally independent given the deals.
    """
    rng = np.random.default_rng(seed)
    components = fit_components(table, coding)
    values = [sum(_log_lik(observed, _redraw(counts, rng)) for _, observed, counts in components)
              for _ in range(draws)]
    return float(np.std(values, ddof=1))


def fit_difference(table: pd.DataFrame, reference: pd.DataFrame, coding: str = "held", draws: int = 400,
                   seed: int = SEED) -> tuple[float, float]:
    """``fit(table) - fit(reference)`` and its Monte Carlo standard error.

    A component whose simulated counts are the same in both tables came from the same worlds (same
    scenario, same seed: the variant does not touch it), so its noise cancels and it adds no error;
    the others are redrawn independently (the common seed makes them positively correlated, so this
    overstates the error).
    """
    ours, theirs = fit_components(table, coding), fit_components(reference, coding)
    differing = [(a, b) for a, b in zip(ours, theirs, strict=True) if not np.array_equal(a[2], b[2])]
    rng = np.random.default_rng(seed)
    values = [sum(_log_lik(a[1], _redraw(a[2], rng)) - _log_lik(b[1], _redraw(b[2], rng)) for a, b in differing)
              for _ in range(draws)]
    se = float(np.std(values, ddof=1)) if differing else 0.0
    return fit_statistic(table, coding) - fit_statistic(reference, coding), se


def _log_lik(observed: np.ndarray, counts: np.ndarray) -> float:
    return float(dirichlet_multinomial_logpmf(observed[None, :], counts + JEFFREYS)[0])


def _redraw(counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    total = int(round(counts.sum()))
    return rng.multinomial(total, counts / counts.sum()).astype(float) if total else counts


def _group_cells(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Observed and model cell counts (+ Jeffreys) of nested cumulative counts of the same cases."""
    rows = rows.sort_values("observed_events", kind="stable") if len(rows) > 1 else rows
    observed_cum = rows["observed_events"].astype(int).to_numpy()
    cases = int(rows["observed_cases"].iloc[0])
    model_cum = rows["model_events"].astype(float).to_numpy()
    trials = float(rows["model_trials"].iloc[0])
    observed = np.diff(np.concatenate([[0], observed_cum, [cases]]))
    model = np.diff(np.concatenate([[0.0], model_cum, [trials]]))
    return observed, model + JEFFREYS


# --------------------------------------------------------------------------- tables for people


def markdown(table: pd.DataFrame) -> str:
    """The validation table, the joint tests and the held-out fit as Markdown, as in docs/VALIDATION.md."""
    lines = [
        "| anchor | role | observed | model [95 % CI] | p-value | in the fit |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        p = _p(row.p_value)
        role = f"{row.role} (contaminated)" if getattr(row, "contaminated", False) else row.role
        lines.append(f"| `{row.anchor}` | {role} | {row.observed} "
                     f"| {_fmt(row.model, row.model_ci_low, row.model_ci_high)} "
                     f"| {f'**{p}**' if row.failed else p} | {_in_fit(row)} |")
    lines += ["", "| nested counts tested jointly | role | observed (intervals) | model | p-value |",
              "|---|---|---|---|---|"]
    for row in joint_tests(table).itertuples():
        p = _p(row.p_value)
        lines.append(f"| `{row.group}` | {row.role} | {row.observed} | {row.model} "
                     f"| {f'**{p}**' if row.p_value < ALPHA else p} |")
    lines += ["", "| held-out fit (log predictive probability) | Minsk II held | Minsk II failed at Debaltseve |",
              "|---|---|---|",
              f"| default model | {fit_statistic(table, 'held'):.2f} ± {fit_standard_error(table, 'held'):.2f} "
              f"| {fit_statistic(table, 'debaltseve'):.2f} ± {fit_standard_error(table, 'debaltseve'):.2f} |"]
    return "\n".join(lines)


def text_table(table: pd.DataFrame) -> str:
    """The table printed by ``ceasefire validation``: anchor, role, observed, model, p-value."""
    header = ("anchor", "role", "observed", "model [95% CI]", "p-value")
    body = [(row.anchor, row.role, row.observed, _fmt(row.model, row.model_ci_low, row.model_ci_high),
             _p(row.p_value) + (" FAIL" if row.failed else "")
             + (" CONTAMINATED" if getattr(row, "contaminated", False) else "")) for row in table.itertuples()]
    widths = [max(len(str(line[i])) for line in (header, *body)) for i in range(len(header))]
    return "\n".join("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in (header, *body))


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


def _deals(runs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Whether each world reached a deal, and its breakdown day (NaN where it held)."""
    return runs["agreed"].to_numpy(bool), runs["breakdown_day"].to_numpy(float, na_value=np.nan)


def _events_and_exposure(runs: pd.DataFrame, days: int) -> tuple[int, float]:
    deals = runs[runs["agreed"]]
    day = deals["breakdown_day"].to_numpy(float, na_value=np.nan)
    events = int(np.sum(day <= days))
    exposure = float(np.sum(np.where(np.isnan(day), days, np.minimum(day, days))))
    return events, exposure


def _proportion(successes: int, trials: int) -> Estimate:
    if trials == 0:
        return Estimate(float("nan"), events=0, trials=0)
    low, high = wilson_interval(successes, trials)
    return Estimate(successes / trials, float(low), float(high), successes, trials)


def _in_fit(row: Any) -> str:
    if row.role != "held_out":
        return "calibration"
    if not row.in_fit:
        return "no"
    return f"yes (Minsk II {row.coding})" if row.coding else "yes"


def _p(value: float) -> str:
    if np.isnan(value):
        return "n/a"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def _fmt(value: float, low: float, high: float) -> str:
    def number(x: float) -> str:
        return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.3f}"

    if np.isnan(value):
        return "n/a"
    if np.isnan(low) or np.isnan(high):
        return number(value)
    return f"{number(value)} [{number(low)}, {number(high)}]"
