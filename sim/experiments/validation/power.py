"""``ceasefire validation --power``: could the held-out spell record tell a wrong variant from the default?

For the default model and each wrong variant (:mod:`sim.experiments.validation.variants`), the mapped scenario
of every mission group (:data:`spell_level.MISSION_SCENARIOS`) is simulated; its deals give that model's hazard
per mission group on the life-table breaks. The held-out record is the held-out spell groups of the primary
analogue (unarmed monitoring, armed missions, and the no-mission segments of mission spells), each segment
scored against its group's hazard.

The test of the default against a variant is the most powerful one for two simple hypotheses (Neyman-Pearson):
the log-likelihood ratio ``LLR = log L(variant) - log L(default)`` of the record, rejecting the default at
alpha = 0.05 when LLR exceeds its 95th percentile among records simulated under the default. **Power** is the
share of records simulated under the variant that exceed it. The records are simulated on the real record's
design: the same segments, entries and potential exits (:func:`spell_level.group_segments`).

**Cases for 80 % power.** The LLR is a sum over independent segments, so its mean and variance grow with the
number of cases n. With per-case means m0, m1 and standard deviations s0, s1 under the default and the
variant, 80 % power needs sqrt(n) = (z_0.95 s0 + z_0.80 s1) / (m1 - m0): reported in spells (the record has
``spells`` of them), by the normal approximation.

Also, per variant, the observed record's LLR with its Monte Carlo error (the models' hazards redrawn from
Gamma(failures + 1/2, days at risk)), and two p-values: ``p_default`` (under the default, of a record favouring
the variant at least as much as the observed) and ``p_variant`` (under the variant, of a record favouring the
default at least as much): a model is rejected against the other when its p is below 0.05. The variants are
**not refitted** here: each is the default with its overrides (``--discriminate`` refits them first,
:mod:`sim.experiments.validation.discrimination`, and tests each refitted model with :func:`power_row`). The
simulated records draw the models' hazards from their Monte Carlo error, so an unresolved difference between
two simulations cannot reject a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim.core.bundled import scenario_path
from sim.experiments.run import RunResult, run_scenario
from sim.experiments.validation import spell_level
from sim.experiments.validation.variants import DEFAULT, VARIANTS, Variant
from sim.spec.evidence_plan import EvidencePlan, bundled_plan
from sim.spec.scenario import load_scenario
from sim.spec.spells import load_segments

ALPHA = 0.05
TARGET_POWER = 0.8
POWER_SCALE = 0.5
"""Share of the spell runs' worlds (:data:`spell_level.MISSION_SCENARIOS`) each model runs with ``--power``."""
DRAWS = 4000
"""Records simulated under each model."""
SEED = 20261208


@dataclass(frozen=True)
class HeldOutRecord:
    """The held-out spell segments of the primary analogue: per group, entry, exit, event and potential exit."""

    groups: tuple[str, ...]  # mission group per block of rows
    items: tuple[str, ...]
    start: tuple[np.ndarray, ...]
    stop: tuple[np.ndarray, ...]
    event: tuple[np.ndarray, ...]
    potential: tuple[np.ndarray, ...]
    spells: int


def held_out_record(plan: EvidencePlan | None = None, segments: pd.DataFrame | None = None,
                    population: str = "primary") -> HeldOutRecord:
    """The held-out spell groups of the plan, censored at the model's horizon."""
    plan = plan or bundled_plan()
    segments = load_segments() if segments is None else segments
    groups, items, start, stop, event, potential, ids = [], [], [], [], [], [], set()
    for item in plan.held_out_items():
        if item.kind != "spell_group":
            continue
        rows = spell_level.group_segments(segments, item.pkop, item.spells or item.role, population)
        rows = rows[rows["entry_day"] < spell_level.HORIZON_DAYS]
        ids |= set(rows["id"])
        groups.append(spell_level.scenario_of(item.pkop))
        items.append(item.key)
        horizon = spell_level.HORIZON_DAYS
        start.append(rows["entry_day"].to_numpy(float))
        stop.append(np.minimum(rows["exit_day"].to_numpy(float), horizon))
        event.append(np.where(rows["exit_day"].to_numpy() > horizon, 0, rows["event"].to_numpy()))
        potential.append(np.minimum(rows["potential_exit"].to_numpy(float), horizon))
    return HeldOutRecord(tuple(groups), tuple(items), tuple(start), tuple(stop), tuple(event), tuple(potential),
                         len(ids))


def model_hazards(results: Mapping[str, RunResult]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Failures and days at risk per interval, per mission group, from the mapped scenarios' runs."""
    return {group: spell_level.model_hazard(results[m.key]) for group, m in spell_level.MISSION_SCENARIOS.items()}


POSTERIOR_DRAWS = 40
"""Particles a refitted model's posterior is drawn at (world r runs draw r mod 40), for its posterior-predictive
hazards."""


def simulate_model(model: Variant, workers: int = 1, progress: Callable[[int], None] | None = None,
                   scale: float = POWER_SCALE, posterior: pd.DataFrame | None = None) -> dict[str, RunResult]:
    """The mapped scenarios under ``model``'s overrides (the mapping's own overrides win).

    Args:
        posterior: a refitted model's weighted particles (dotted-path columns and ``weight``): every world then
            runs one of :data:`POSTERIOR_DRAWS` particles drawn by weight, so the model's hazards are its
            posterior predictive ones, averaged over what the calibration left unidentified; None runs the
            overrides as they are.
    """
    results = {}
    for mapped in spell_level.MISSION_SCENARIOS.values():
        path = scenario_path(mapped.scenario)
        values = {**model.overrides(path), **mapped.overrides,
                  "replications": max(1, round(mapped.replications * scale)),
                  "horizon_days": spell_level.HORIZON_DAYS, "seed": spell_level.SEED}
        scenario = load_scenario(path, values)
        if posterior is None:
            results[mapped.key] = run_scenario(scenario, workers=workers, progress=progress,
                                               record_trajectories=False)
            continue
        results[mapped.key] = _run_over_posterior(scenario, posterior, workers, progress)
    return results


def _run_over_posterior(scenario: Any, posterior: pd.DataFrame, workers: int,
                        progress: Callable[[int], None] | None) -> RunResult:
    """``scenario`` with each world's fitted parameters drawn from ``posterior`` (packed, seeded by the scenario)."""
    from types import SimpleNamespace

    from sim.engine.packing import run_packed
    from sim.stats.posterior import posterior_world_values

    columns = [c for c in posterior.columns if c not in ("weight", "distance")]
    weights = posterior["weight"].to_numpy(float)
    particles = SimpleNamespace(weights=weights / weights.sum(), parameters=posterior[columns].reset_index(drop=True))
    draws = min(POSTERIOR_DRAWS, scenario.replications)
    values, _ = posterior_world_values(particles, draws, scenario.seed, scenario.replications)
    runs = run_packed([scenario], [()], workers=workers, world_values=[values])[0]
    if progress is not None:
        progress(scenario.replications)
    return RunResult(scenario, runs, pd.DataFrame(), pd.DataFrame(), None, pd.DataFrame(), 0.0, 1)


def _simulate(record: HeldOutRecord, hazards: Mapping[str, np.ndarray], draws: int, rng: np.random.Generator
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per group, the (failures, exposure) of ``draws`` records simulated under ``hazards`` (per group)."""
    out = []
    for group, start, potential in zip(record.groups, record.start, record.potential, strict=True):
        h = np.broadcast_to(hazards[group], (draws, np.shape(hazards[group])[-1]))
        stop, event = spell_level._simulate_records(start, potential, h, rng)
        out.append(spell_level.sufficient(start, stop, event))
    return out


def _llr(stats: Sequence[tuple[np.ndarray, np.ndarray]], record: HeldOutRecord,
         alternative: Mapping[str, np.ndarray], null: Mapping[str, np.ndarray]) -> np.ndarray:
    """log L(alternative) - log L(null) of every simulated record (summed over groups)."""
    total = 0.0
    for group, (failures, exposure) in zip(record.groups, stats, strict=True):
        under_alternative = spell_level.log_lik_many(failures, exposure, alternative[group])
        under_null = spell_level.log_lik_many(failures, exposure, null[group])
        # a failure where both models' point hazards are 0 (neither simulated one there; the records are simulated
        # from hazards redrawn from the Monte Carlo error, which are never 0): the group favours neither model
        impossible = np.isneginf(under_alternative) & np.isneginf(under_null)
        total = total + np.where(impossible, 0.0, under_alternative - np.where(impossible, 0.0, under_null))
    return np.asarray(total)


def _observed_stats(record: HeldOutRecord) -> list[tuple[np.ndarray, np.ndarray]]:
    return [spell_level.sufficient(start, stop[None, :], event[None, :])
            for start, stop, event in zip(record.start, record.stop, record.event, strict=True)]


def _redrawn(counts: Mapping[str, tuple[np.ndarray, np.ndarray]], draws: int, rng: np.random.Generator
             ) -> dict[str, np.ndarray]:
    """Per group, ``draws`` hazards redrawn from their Monte Carlo error: a (draws, intervals) array each."""
    return {g: rng.gamma(c[0] + 0.5, 1.0, size=(draws, len(c[0]))) / np.maximum(c[1], 1e-12)
            for g, c in counts.items()}


def power_row(model: Variant, counts: Mapping[str, tuple[np.ndarray, np.ndarray]],
              default_counts: Mapping[str, tuple[np.ndarray, np.ndarray]], record: HeldOutRecord,
              draws: int = DRAWS, seed: int = SEED) -> dict[str, object]:
    """Power of the held-out record against ``model``, cases for 80 %, the observed LLR and its p-values."""
    rng = np.random.default_rng(seed)
    alternative = {g: spell_level.point_hazards(*c) for g, c in counts.items()}
    null = {g: spell_level.point_hazards(*c) for g, c in default_counts.items()}
    # records are simulated under each model's hazards redrawn from their Monte Carlo error (Gamma(failures + 1/2,
    # days at risk)), so that a difference the simulation cannot resolve does not reject anything
    under_null = _llr(_simulate(record, _redrawn(default_counts, draws, rng), draws, rng), record, alternative, null)
    under_alt = _llr(_simulate(record, _redrawn(counts, draws, rng), draws, rng), record, alternative, null)
    critical = float(np.quantile(under_null, 1 - ALPHA))
    power = float(np.mean(under_alt > critical))
    observed = float(_llr(_observed_stats(record), record, alternative, null)[0])
    redrawn = []
    for _ in range(400):  # Monte Carlo error of the observed LLR: both models' hazards redrawn
        alt = {g: rng.gamma(c[0] + 0.5) / np.maximum(c[1], 1e-12) for g, c in counts.items()}
        nul = {g: rng.gamma(c[0] + 0.5) / np.maximum(c[1], 1e-12) for g, c in default_counts.items()}
        redrawn.append(float(_llr(_observed_stats(record), record, alt, nul)[0]))
    n = record.spells
    with np.errstate(invalid="ignore"):  # an infinite simulated LLR (a model that never fails somewhere): no
        m0, m1 = under_null.mean() / n, under_alt.mean() / n  # normal approximation, so cases_for_80 is inf
        s0, s1 = under_null.std(ddof=1) / math.sqrt(n), under_alt.std(ddof=1) / math.sqrt(n)
        gap = m1 - m0
    needed = ((norm.ppf(1 - ALPHA) * s0 + norm.ppf(TARGET_POWER) * s1) / gap) ** 2 if gap > 0 else float("inf")
    finite = np.isfinite(redrawn)
    return {"variant": model.key, "description": model.description, "spells": n,
            "observed_llr": round(observed, 4),
            "observed_llr_se": round(float(np.std(np.asarray(redrawn)[finite], ddof=1)), 4) if finite.sum() > 1
            else float("nan"),
            "p_default": round(float(np.mean(under_null >= observed)), 4),
            "p_variant": round(float(np.mean(under_alt <= observed)), 4),
            "default_rejected": bool(np.mean(under_null >= observed) < ALPHA),
            "variant_rejected": bool(np.mean(under_alt <= observed) < ALPHA),
            "critical_llr": round(critical, 4), "power": round(power, 4),
            "cases_for_80": float(math.ceil(needed)) if math.isfinite(needed) else float("inf")}


def power_table(workers: int = 1, progress: Callable[[int], None] | None = None, scale: float = POWER_SCALE,
                variants: Sequence[Variant] = VARIANTS, draws: int = DRAWS) -> pd.DataFrame:
    """One row per variant (a variant that cannot be built under the current defaults is a row with its reason)."""
    record = held_out_record()
    default_counts = model_hazards(simulate_model(DEFAULT, workers, progress, scale))
    rows = []
    for wrong in variants:
        try:
            counts = model_hazards(simulate_model(wrong, workers, progress, scale))
        except ValueError as exc:
            rows.append({"variant": wrong.key, "description": wrong.description, "spells": record.spells,
                         "note": f"not run: {exc}"})
            continue
        rows.append({**power_row(wrong, counts, default_counts, record, draws), "note": ""})
    return pd.DataFrame(rows)


def power_markdown(table: pd.DataFrame) -> str:
    """The power table as Markdown (docs/VALIDATION.md)."""
    lines = ["| variant | observed ΔlogL (variant − default) | p under default | p under variant "
             "| power at α = 0.05 | spells for 80 % power |", "|---|---|---|---|---|---|"]
    for row in table.itertuples():
        if isinstance(getattr(row, "note", ""), str) and row.note:
            lines.append(f"| `{row.variant}` | {row.note} | | | | |")
            continue
        lines.append(f"| `{row.variant}` | {row.observed_llr:+.2f} ± {row.observed_llr_se:.2f} | {row.p_default:.3f} "
                     f"| {row.p_variant:.3f} | {row.power:.2f} | {row.cases_for_80:,.0f} (record: {row.spells}) |")
    return "\n".join(lines)
