"""Fortna's spells by mission type against the model: a survival likelihood over the exact censored durations.

Each spell group of the evidence plan (``seeds/evidence_plan.yaml``, ``kind: spell_group``) is a set of segments
of Fortna's record chosen by their own mission code (``pkop``) and by their spell's role; each is scored against
the model's hazard in a **mapped scenario** (:data:`MISSION_SCENARIOS`):

- none (``pkop`` 0) and a political mission (1) -> ``no_european_troops`` with US detection 0: no troops, no
  monitoring;
- unarmed monitoring (2) -> ``no_european_troops``: US monitoring only;
- armed (3 interpositional, 4 multidimensional, 5 enforcement) -> ``baseline``: the coalition's troops
  (the baseline's force size) and US monitoring.

The model's hazard. The simulated deals of the mapped scenario (day 0 = the ceasefire) are summarised as a
**piecewise-constant hazard on the pre-registered life-table breaks** (:data:`BREAKS_DAYS`: 0, 91, 365, 730,
1,095, 1,826 days, to the horizon of 3,652): failures over days at risk per interval, which is the
piecewise-exponential curve through the simulated survival curve at every break
(:func:`sim.stats.survival.loglik_from_survival_curve`). Not a raw curve (a step function of finitely many
worlds: one real failure on a day with no simulated one would score minus infinity), not a kernel (a bandwidth
to tune), not a Weibull (its monotone hazard is the very shape under test: version 2's was flat then rising,
the record's falls then flattens). The record is censored at the model's horizon (10 years; Fortna's post-Cold
War spells have no failure beyond it).

Scores per group (rows of :func:`spell_table`):

- ``log_lik``: the exact log-likelihood of the group's segments (left-truncated at their entry, right-censored
  at their exit) under the model's hazard: the log predictive of the record's durations, plug-in;
- ``observed`` failures and ``expected`` (the summed cumulative hazard over the segments' time at risk);
- ``p_value``: two-sided, of the observed failures against their distribution when the record's segments are
  simulated under the model (each segment at risk from its entry to its potential exit: its own exit if a
  mission change ended it, else the censoring date 2004-12-31), with the model's hazards redrawn from their
  Monte Carlo error (Gamma(failures + 1/2, days at risk), the Jeffreys analogue of the anchors' test);
- ``p_log_lik``: the share of simulated records whose log-likelihood is at most the observed one (shape and
  level together, one-sided).

Segments are treated as independent given the hazards (a spell with several segments in one group is rare;
across groups the spell's later segments are scored whatever the simulation did before: an approximation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.core.bundled import scenario_path
from sim.experiments.run import RunResult, run_scenario
from sim.spec.evidence_plan import EvidencePlan, bundled_plan
from sim.spec.scenario import load_scenario
from sim.spec.spells import calibration_segments, load_segments, primary_analogue
from sim.stats.survival import (
    censor_at,
    failures_and_exposure,
    piecewise_exponential_loglik,
)

HORIZON_DAYS = 3652
"""Ten years: the model is simulated, and the record censored, to here."""
BREAKS_DAYS: tuple[int, ...] = (0, 91, 365, 730, 1095, 1826)
"""Lower edges of the life-table intervals (the record README's: 0-0.25, 0.25-1, 1-2, 2-3, 3-5, 5-10 years)."""
CENSOR_DATE = pd.Timestamp("2004-12-31")
"""The record's censoring date: a spell's potential exit is this day, in days since its ceasefire."""
DRAWS = 2000
"""Simulated records per group for the p-values."""
SEED = 20261207


@dataclass(frozen=True)
class MissionScenario:
    """A model scenario standing for a mission type: bundled scenario, overrides, worlds."""

    key: str
    scenario: str
    description: str
    replications: int
    overrides: Mapping[str, Any] = field(default_factory=dict)


MISSION_SCENARIOS: dict[str, MissionScenario] = {
    "none": MissionScenario("spell_none", "no_european_troops", "no troops and no monitoring (US detection 0)",
                            8000, {"agents.US.detection_probability": 0.0}),
    "monitoring": MissionScenario("spell_monitoring", "no_european_troops", "US monitoring only", 8000),
    "armed": MissionScenario("spell_armed", "baseline", "the coalition's troops and US monitoring", 8000),
}
"""Mission group -> the model scenario its spells are scored against."""

PKOP_GROUP = {0: "none", 1: "none", 2: "monitoring", 3: "armed", 4: "armed", 5: "armed"}
"""Mission code -> the scenario group (a political mission, 1, is scored as no monitoring)."""

SHAPE_PKOP = (0, 1)
"""The hazard's shape (a calibration item) is scored on the calibration spells' segments, ``pkop`` 0 and 1."""

POPULATIONS = ("primary", "all", "primary_controls")
"""``primary``: post-Cold War spells ended by a truce or a settlement (the primary analogue); ``all``: every
spell (a sensitivity run); ``primary_controls``: the primary analogue with each segment's hazard scaled for case
difficulty by Fortna's controls, the scaling fitted on the calibration spells only (:func:`control_multipliers`;
a sensitivity run: missions went to the harder cases)."""


def scenario_of(pkop: tuple[int, ...]) -> str:
    """The mission group of a spell group's codes (all of them must map to one)."""
    groups = {PKOP_GROUP[code] for code in pkop}
    if len(groups) != 1:
        raise ValueError(f"pkop codes {pkop} map to several scenarios: {sorted(groups)}")
    return groups.pop()


def simulate(workers: int = 1, progress: Callable[[int], None] | None = None,
             scale: float = 1.0) -> dict[str, RunResult]:
    """The mapped scenario of every mission group (:data:`MISSION_SCENARIOS`) to ten years, by its ``key``.

    Args:
        scale: multiplies every run's worlds (1.0 is what ``ceasefire validation`` runs).
    """
    results = {}
    for mapped in MISSION_SCENARIOS.values():
        values = {**mapped.overrides, "replications": max(1, round(mapped.replications * scale)),
                  "horizon_days": HORIZON_DAYS, "seed": SEED}
        results[mapped.key] = run_scenario(load_scenario(scenario_path(mapped.scenario), values), workers=workers,
                                           progress=progress, record_trajectories=False)
    return results


# --------------------------------------------------------------------------- the record


def group_segments(segments: pd.DataFrame, pkop: tuple[int, ...], spells_role: str, population: str
                   ) -> pd.DataFrame:
    """The segments of one spell group: own ``pkop`` in ``pkop``, spell role, population; with ``potential_exit``."""
    calibration = calibration_segments(segments)
    mask = segments["pkop"].isin(pkop) & (calibration if spells_role == "calibration" else ~calibration)
    if spells_role != "calibration":
        mask &= ~before_first_mission(segments)
    if population == "primary":
        mask &= primary_analogue(segments)
    chosen = segments[mask].copy()
    last = segments["id"].ne(segments["id"].shift(-1))[mask]
    cfdate = segments.groupby("id")["cfdate"].transform("first")[mask]
    censor_day = (CENSOR_DATE - cfdate).dt.days.to_numpy()
    exit_day = chosen["exit_day"].to_numpy()
    chosen["potential_exit"] = np.where(last.to_numpy(), np.maximum(exit_day, censor_day), exit_day)
    return chosen


def before_first_mission(segments: pd.DataFrame) -> pd.Series:
    """Mask of the segments with no mission (``pkop`` 0 or 1) that come before their spell's first mission.

    Such a segment is **immortal time**: its spell is held out *because* a mission arrived later, so it could not
    have failed. Held-out groups leave these segments out (two in the primary analogue, 349 days); scoring them as
    time at risk would make the record look safer than it was.
    """
    first = segments["entry_day"].where(segments["pkop"] >= 2).groupby(segments["id"]).transform("min")
    return (segments["pkop"] <= 1) & first.notna() & (segments["entry_day"] < first)


# --------------------------------------------------------------------------- the model's hazard


def model_hazard(result: RunResult, horizon: int = HORIZON_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """Failures and days at risk per interval of :data:`BREAKS_DAYS` among the run's deals (day 0 = ceasefire)."""
    runs = result.runs
    deals = runs[runs["agreed"].to_numpy(bool)]
    day = deals["breakdown_day"].to_numpy(float, na_value=np.nan)
    broke = ~np.isnan(day) & (day <= horizon)
    exit_day = np.where(broke, day, horizon)
    exit_day = np.maximum(exit_day, 0.5)  # a breakdown on day 0 would have no time at risk
    failures, exposure = failures_and_exposure(np.zeros(len(exit_day)), exit_day, broke.astype(int), BREAKS_DAYS)
    return failures.astype(float), exposure


def _exposure(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Days at risk in each interval of :data:`BREAKS_DAYS` (last open), shape ``(..., rows, intervals)``."""
    edges = np.asarray(BREAKS_DAYS, dtype=float)
    upper = np.append(edges[1:], np.inf)
    return np.clip(np.minimum(stop[..., None], upper) - np.maximum(start[..., None], edges), 0.0, None)


def _simulate_records(start: np.ndarray, potential: np.ndarray, hazards: np.ndarray,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Exit days and events of every segment in every draw: ``hazards`` is (draws, intervals); each segment
    is at risk from its entry to its potential exit. Returns two (draws, rows) arrays."""
    edges = np.asarray(BREAKS_DAYS, dtype=float)
    widths = np.diff(edges)
    cum_at_edges = np.concatenate([np.zeros((len(hazards), 1)), np.cumsum(hazards[:, :-1] * widths, axis=1)], axis=1)
    # left truncation: given survival to its entry s, H(T) - H(s) is a unit exponential
    entry_cum = np.einsum("rk,dk->dr", _exposure(np.zeros_like(start), start), hazards)
    target = entry_cum + rng.exponential(size=entry_cum.shape)
    k = (cum_at_edges[:, None, :] <= target[:, :, None]).sum(axis=2) - 1
    k = np.clip(k, 0, len(edges) - 1)
    h = np.take_along_axis(hazards, k, axis=1)
    base = np.take_along_axis(cum_at_edges, k, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fail_day = np.where(h > 0, edges[k] + (target - base) / h, np.inf)
    failed = fail_day <= potential[None, :]
    return np.where(failed, np.maximum(fail_day, start[None, :] + 1e-6), potential[None, :]), failed.astype(int)


def sufficient(start: np.ndarray, stop: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Failures and days at risk per interval of every simulated record: ``stop`` and ``event`` are
    (draws, rows); returns two (draws, intervals) arrays."""
    exposure = _exposure(np.broadcast_to(start, stop.shape), stop).sum(axis=1)
    edges = np.asarray(BREAKS_DAYS, dtype=float)
    interval = np.clip(np.searchsorted(edges, stop, side="left") - 1, 0, len(edges) - 1)
    failures = np.stack([((interval == j) & (event == 1)).sum(axis=1) for j in range(len(edges))], axis=1)
    return failures, exposure


def log_lik_many(failures: np.ndarray, exposure: np.ndarray, hazards: np.ndarray) -> np.ndarray:
    """``sum_k D_k log h_k - h_k E_k`` per row of (failures, exposure); -inf where a failure meets h = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_h = np.where(failures > 0, np.log(np.where(hazards > 0, hazards, np.nan)), 0.0)
    return np.nan_to_num(np.sum(failures * log_h, axis=1), nan=-np.inf) - exposure @ hazards


def point_hazards(failures: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Failures per day at risk per interval (0 where the model has no time at risk)."""
    return np.where(exposure > 0, failures / np.maximum(exposure, 1e-12), 0.0)


# --------------------------------------------------------------------------- scores


def score_group(rows: pd.DataFrame, failures: np.ndarray, exposure: np.ndarray, draws: int = DRAWS,
                seed: int = SEED, multiplier: np.ndarray | None = None) -> dict[str, float]:
    """Observed and expected failures, log-likelihood and the two p-values of one group's segments.

    ``multiplier`` (one per row, default 1) scales each segment's hazard: the case-difficulty adjustment of
    :func:`control_multipliers`.
    """
    if multiplier is not None and not np.allclose(multiplier, 1.0):
        return _score_scaled(rows, failures, exposure, np.asarray(multiplier, dtype=float), draws, seed)
    if rows.empty:
        return {"segments": 0, "spells": 0, "observed": 0, "expected": 0.0, "log_lik": 0.0,
                "p_value": float("nan"), "p_log_lik": float("nan")}
    start, stop, event = censor_at(rows["entry_day"], rows["exit_day"], rows["event"], HORIZON_DAYS)
    potential = np.minimum(rows["potential_exit"].to_numpy(float)[rows["entry_day"].to_numpy() < HORIZON_DAYS],
                           HORIZON_DAYS)
    hazards = np.where(exposure > 0, failures / np.maximum(exposure, 1e-12), 0.0)
    log_lik = piecewise_exponential_loglik(start, stop, event, BREAKS_DAYS, hazards)
    expected = float((_exposure(start, stop) @ hazards).sum())
    observed = int(event.sum())
    rng = np.random.default_rng(seed)
    drawn = rng.gamma(failures + 0.5, 1.0, size=(draws, len(failures))) / np.maximum(exposure, 1e-12)
    sim_stop, sim_event = _simulate_records(start, potential, drawn, rng)
    counts = sim_event.sum(axis=1)
    # each simulated record scored under the point hazards, as the observed one
    log_liks = log_lik_many(*sufficient(start, sim_stop, sim_event), hazards)
    low, high = np.mean(counts <= observed), np.mean(counts >= observed)
    return {"segments": len(start), "spells": int(rows["id"].nunique()), "observed": observed,
            "expected": round(expected, 3), "log_lik": round(float(log_lik), 4),
            "p_value": round(float(min(1.0, 2 * min(low, high))), 4),
            "p_log_lik": round(float(np.mean(log_liks <= log_lik)), 4)}


def _score_scaled(rows: pd.DataFrame, failures: np.ndarray, exposure: np.ndarray, multiplier: np.ndarray,
                  draws: int, seed: int) -> dict[str, float]:
    """:func:`score_group` with each row's hazard multiplied by its own ``multiplier``."""
    keep = rows["entry_day"].to_numpy() < HORIZON_DAYS
    start, stop, event = censor_at(rows["entry_day"], rows["exit_day"], rows["event"], HORIZON_DAYS)
    potential = np.minimum(rows["potential_exit"].to_numpy(float)[keep], HORIZON_DAYS)
    m = multiplier[keep]
    hazards = point_hazards(failures, exposure)
    edges = np.asarray(BREAKS_DAYS, dtype=float)

    def log_lik(stop_: np.ndarray, event_: np.ndarray) -> np.ndarray:
        """Per draw (rows of ``stop_``): sum_i d_i log(m_i h(t_i)) - m_i H_i."""
        k = np.clip(np.searchsorted(edges, stop_, side="left") - 1, 0, len(edges) - 1)
        with np.errstate(divide="ignore"):
            log_h = np.log(hazards[k] * m)
        cumulative = _exposure(np.broadcast_to(start, stop_.shape), stop_) @ hazards
        return np.sum(np.where(event_ == 1, log_h, 0.0), axis=-1) - np.sum(m * cumulative, axis=-1)

    observed_ll = float(log_lik(stop[None, :], event[None, :])[0])
    expected = float(np.sum(m * (_exposure(start, stop) @ hazards)))
    rng = np.random.default_rng(seed)
    drawn = rng.gamma(failures + 0.5, 1.0, size=(draws, len(failures))) / np.maximum(exposure, 1e-12)
    # a row with multiplier m is a row of hazard h whose unit exponential is divided by m
    widths = np.diff(edges)
    cum_at_edges = np.concatenate([np.zeros((draws, 1)), np.cumsum(drawn[:, :-1] * widths, axis=1)], axis=1)
    entry_cum = np.einsum("rk,dk->dr", _exposure(np.zeros_like(start), start), drawn)
    target = entry_cum + rng.exponential(size=entry_cum.shape) / m
    k = np.clip((cum_at_edges[:, None, :] <= target[:, :, None]).sum(axis=2) - 1, 0, len(edges) - 1)
    h = np.take_along_axis(drawn, k, axis=1)
    base = np.take_along_axis(cum_at_edges, k, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fail_day = np.where(h > 0, edges[k] + (target - base) / h, np.inf)
    failed = fail_day <= potential[None, :]
    sim_stop = np.where(failed, np.maximum(fail_day, start[None, :] + 1e-6), potential[None, :])
    counts = failed.sum(axis=1)
    log_liks = log_lik(sim_stop, failed.astype(int))
    observed = int(event.sum())
    low, high = np.mean(counts <= observed), np.mean(counts >= observed)
    return {"segments": len(start), "spells": int(rows["id"].nunique()), "observed": observed,
            "expected": round(expected, 3), "log_lik": round(observed_ll, 4),
            "p_value": round(float(min(1.0, 2 * min(low, high))), 4),
            "p_log_lik": round(float(np.mean(log_liks <= observed_ll)), 4)}


CONTROLS = ("wartype", "logdead", "wardur", "faction")
"""Fortna's controls: identity war, log deaths, war duration in years, more than two factions."""


def control_multipliers(segments: pd.DataFrame) -> tuple[pd.Series, dict[str, float]]:
    """Each segment's hazard multiplier for case difficulty, fitted on the **calibration** spells only.

    A piecewise-exponential proportional-hazards model, hazard ``lambda_k exp(x beta)`` on :data:`BREAKS_DAYS`
    with the standardised :data:`CONTROLS` as ``x``, is fitted by maximum likelihood to the segments of the
    primary analogue's calibration spells (no mission ever: none of the held-out data). A segment's multiplier is
    ``exp((x - mean x of those calibration segments) beta)``: 1 for a case like the average no-mission spell,
    above 1 for a harder one. Missing controls take the calibration mean. Returns the multipliers (aligned with
    ``segments``) and the coefficients per standard deviation.
    """
    from scipy.optimize import minimize

    fit_rows = segments[calibration_segments(segments) & primary_analogue(segments)]
    x_all = segments[list(CONTROLS)].astype(float)
    centre = fit_rows[list(CONTROLS)].astype(float).mean()
    scale = fit_rows[list(CONTROLS)].astype(float).std(ddof=0).replace(0, 1.0)
    z_all = ((x_all.fillna(centre) - centre) / scale).to_numpy()
    z = z_all[fit_rows.index.to_numpy()]
    start, stop, event = censor_at(fit_rows["entry_day"], fit_rows["exit_day"], fit_rows["event"], HORIZON_DAYS)
    keep = fit_rows["entry_day"].to_numpy() < HORIZON_DAYS
    z = z[keep]
    days = _exposure(start, stop)
    edges = np.asarray(BREAKS_DAYS, dtype=float)
    k = np.clip(np.searchsorted(edges, stop, side="left") - 1, 0, len(edges) - 1)
    n_k = len(edges)

    def negative(theta: np.ndarray) -> float:
        log_lambda, beta = theta[:n_k], theta[n_k:]
        eta = z @ beta
        return float(-(np.sum(event * (log_lambda[k] + eta)) - np.sum(np.exp(eta) * (days @ np.exp(log_lambda)))))

    theta0 = np.concatenate([np.full(n_k, np.log(max(event.sum(), 1) / days.sum())), np.zeros(len(CONTROLS))])
    beta = minimize(negative, theta0, method="BFGS").x[n_k:]
    return (pd.Series(np.exp(z_all @ beta), index=segments.index, name="multiplier"),
            {c: round(float(b), 4) for c, b in zip(CONTROLS, beta, strict=True)})


def spell_table(results: Mapping[str, RunResult], plan: EvidencePlan | None = None,
                segments: pd.DataFrame | None = None,
                contamination: Mapping[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """One row per spell group of the plan and population: role, mapped scenario, counts, log-likelihood, p-values.

    Args:
        results: the runs of :data:`MISSION_SCENARIOS` by their ``key``.
        contamination: held-out key -> parameters tuned to it (rows with any are ``contaminated``).
    """
    plan = plan or bundled_plan()
    segments = load_segments() if segments is None else segments
    hazards = {group: model_hazard(results[scenario.key]) for group, scenario in MISSION_SCENARIOS.items()}
    multipliers, _ = control_multipliers(segments)
    rows = []
    for item in plan.items:
        if item.kind not in ("spell_group", "hazard_shape"):
            continue
        # the hazard's shape is scored on the calibration spells pooled (no mission or a political one)
        pkop, spells_role = (item.pkop, item.spells) if item.kind == "spell_group" else (SHAPE_PKOP, "calibration")
        group = scenario_of(pkop)
        for population in POPULATIONS:
            base = "primary" if population == "primary_controls" else population
            chosen = group_segments(segments, pkop, spells_role or item.role, base)
            scaled = multipliers.loc[chosen.index].to_numpy() if population == "primary_controls" else None
            score = score_group(chosen, *hazards[group], multiplier=scaled)
            tainted = tuple((contamination or {}).get(item.key, ()))
            rows.append({"item": item.key, "role": item.role, "population": population,
                         "pkop": "/".join(str(c) for c in pkop), "mission_group": group,
                         "scenario": MISSION_SCENARIOS[group].scenario,
                         "mapping": MISSION_SCENARIOS[group].description, **score,
                         "failed": bool(score["p_value"] < 0.05), "contaminated": bool(tainted),
                         "contaminated_by": ";".join(tainted)})
    return pd.DataFrame(rows)


def hazard_table(results: Mapping[str, RunResult], segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Failures per year at risk by interval: each mapped scenario's deals beside the calibration spells'
    (primary analogue). Held-out spells are not tabulated here: their test is :func:`spell_table`."""
    segments = load_segments() if segments is None else segments
    chosen = segments[calibration_segments(segments) & primary_analogue(segments)]
    start, stop, event = censor_at(chosen["entry_day"], chosen["exit_day"], chosen["event"], HORIZON_DAYS)
    record_failures, record_exposure = failures_and_exposure(start, stop, event, BREAKS_DAYS)
    table = pd.DataFrame({"start_day": BREAKS_DAYS, "end_day": (*BREAKS_DAYS[1:], HORIZON_DAYS),
                          "record_calibration_failures": record_failures,
                          "record_calibration_per_year": np.round(record_failures / (record_exposure / 365.25), 4)})
    for group, scenario in MISSION_SCENARIOS.items():
        failures, exposure = model_hazard(results[scenario.key])
        table[f"model_{group}_per_year"] = np.round(failures / (exposure / 365.25), 4)
    return table
