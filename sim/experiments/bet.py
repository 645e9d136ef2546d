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

Where the optimum is: :func:`optimum_interval` bootstraps the troop level that maximises an outcome,
resampling worlds jointly across the troop levels of a variant (paired, as the worlds are); see
:func:`optimum_table` and ``optimum.csv``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.core.bundled import scenario_path, sweep_path
from sim.engine.packing import run_packed
from sim.engine.streams import StreamKey, generator
from sim.experiments.result import Artefacts
from sim.experiments.sweep.design import Sweep, load_sweep
from sim.mechanisms import DEFAULT_STRUCTURE, REGISTRY
from sim.spec.scenario import Scenario, load_scenario
from sim.stats.metrics import holding_counts, intent_table, wilson_interval
from sim.stats.validity import headline_validity

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from sim.stats.posterior import PosteriorChoice

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

BOOTSTRAP_RESAMPLES = 1000
"""Default bootstrap resamples of the optimum (``ceasefire bet --bootstrap``)."""

BOOTSTRAP_LEVEL = 0.95
"""Central share of the bootstrap optima that ``optimum.csv``'s interval covers."""

BOOTSTRAP_BATCH = 256
"""Resamples drawn per batch: bounds memory at about ``BOOTSTRAP_BATCH x worlds`` integers. Part of the
random stream: changing it changes the resamples drawn."""

OPTIMUM_COLUMNS: tuple[str, ...] = (
    "variant", "outcome", "best_troops", "best_value", "interval_low", "interval_high", "share_at_best",
    "modal_troops", "share_modal", "resamples", "level", "replications", "seed",
)
"""Columns of ``optimum.csv``: one row per (variant, outcome defined at the horizon)."""

TABLE_COLUMNS: tuple[str, ...] = (
    "variant", "structure", "troops", "replications", "seed", "horizon_days", "n_agreed",
    *(f"{name}{suffix}" for name in OUTCOMES for suffix in ("", "_ci_low", "_ci_high")),
)
"""Columns of the bet table (``the_bet.csv``), in order; then :data:`POSTERIOR_TABLE_COLUMNS` with a posterior, and
:data:`VALIDITY_COLUMN` last."""

POSTERIOR_TABLE_COLUMNS: tuple[str, ...] = (
    *(f"{name}{suffix}" for name in OUTCOMES for suffix in ("_parameter_sd", "_mc_ci_low", "_mc_ci_high")),
    "interval",
)
"""Columns ``ceasefire bet --posterior`` adds after :data:`TABLE_COLUMNS`: each outcome's spread across the
posterior and its Monte-Carlo-only Wilson interval; the ``*_ci_*`` columns then hold both
(``sim.stats.posterior.pooled_interval``), and ``interval`` says ``parameters+monte_carlo``."""

VALIDITY_COLUMN = "validity"
"""The last column of ``the_bet.csv``: what the empirical record covers of the row's outcomes
(:func:`sim.stats.validity.headline_validity` at the last day an outcome reaches, P(hold 5 y)'s 1,825 days or the
horizon if shorter, for the variant's structure): ``within_record`` or ``;``-separated flags. Not among
:data:`TABLE_COLUMNS`, so that folders written before it still draw."""

BET_FIGURES: tuple[str, ...] = ("the_bet.png",)
"""The figure of a bet folder (``sim.outputs.plots.bet``)."""


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
    *(structure_variant(mechanism, form) for mechanism, forms in REGISTRY.items() for form in forms
      if form != DEFAULT_STRUCTURE[mechanism]),
    LEGACY_VARIANT,
)
"""The default structure, each non-default form alone (in the registry's order), and the first version of the
model."""

SIDE_VARIANTS: tuple[Variant, ...] = (
    Variant("deterrence_wins", scenario_path("bet_deterrence_wins")),
    Variant("provocation_wins", scenario_path("bet_provocation_wins")),
)
"""The two documented parameter sets under which each side of the bet wins at the table."""

CATALOGUE: dict[str, Variant] = {v.name: v for v in (*STRUCTURE_VARIANTS, *SIDE_VARIANTS)}
"""Every named variant ``ceasefire bet --variants`` accepts."""


@dataclass(frozen=True)
class PairedWorlds:
    """Per-world outcomes of one variant's troop grid; worlds with the same column are the same world.

    Row ``l`` is troop level ``troops[l]`` (ascending); column ``i`` is replication ``i``, which every
    level runs from the same random numbers, so columns are paired across rows.

    Attributes:
        troops: total coalition troops of each level, shape (L,), strictly increasing.
        agreed: a ceasefire was agreed, bool (L, N).
        hold_1y, hold_5y: agreed and still holding at the end of day 365 / 1,825, bool (L, N); None when
            the horizon is shorter.
    """

    troops: np.ndarray
    agreed: np.ndarray
    hold_1y: np.ndarray | None
    hold_5y: np.ndarray | None

    def __post_init__(self) -> None:
        troops = np.asarray(self.troops, dtype=float)
        object.__setattr__(self, "troops", troops)
        if troops.ndim != 1 or troops.size == 0:
            raise ValueError("paired worlds: give at least one troop level")
        if np.any(np.diff(troops) <= 0):
            raise ValueError("paired worlds: troop levels must be strictly increasing")
        if np.ndim(self.agreed) != 2 or np.shape(self.agreed)[0] != troops.size or np.shape(self.agreed)[1] < 1:
            raise ValueError(f"paired worlds: agreed must have shape (levels, worlds) with {troops.size} levels "
                             f"and at least one world (got {np.shape(self.agreed)})")
        for name in ("hold_1y", "hold_5y"):
            value = getattr(self, name)
            if value is not None and np.shape(value) != np.shape(self.agreed):
                raise ValueError(f"paired worlds: {name} must have the shape of agreed, {np.shape(self.agreed)} "
                                 f"(got {np.shape(value)})")

    @property
    def worlds(self) -> int:
        """Worlds (replications) per troop level."""
        return int(self.agreed.shape[1])

    def counts(self, outcome: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(successes, trials) per world of ``outcome``, each float (L, N); trials None = every world.

        Raises:
            ValueError: unknown outcome, or one beyond the horizon.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome: must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
        if outcome == "p_deal":
            return self.agreed.astype(float), None
        held = self.hold_5y if outcome == "p_hold_5y" else self.hold_1y
        if held is None:
            raise ValueError(f"outcome {outcome}: beyond the horizon of these worlds")
        return held.astype(float), (self.agreed.astype(float) if outcome == "p_hold_1y_given_deal" else None)

    def available(self) -> tuple[str, ...]:
        """The outcomes defined at these worlds' horizon, in :data:`OUTCOMES` order."""
        missing = {"p_hold_1y", "p_hold_1y_given_deal"} if self.hold_1y is None else set()
        missing |= {"p_hold_5y"} if self.hold_5y is None else set()
        return tuple(name for name in OUTCOMES if name not in missing)


def world_outcomes(runs: pd.DataFrame, horizon_days: int) -> dict[str, np.ndarray | None]:
    """Per world, in replication order: ``agreed``, ``hold_1y``, ``hold_5y`` (None beyond the horizon).

    A world holds on day ``d`` if it agreed and has not broken down by the end of day ``d``, as in
    :func:`sim.stats.metrics.holding_counts`. Also returns ``replication``, the sorted replication indices.
    """
    order = np.argsort(runs["replication"].to_numpy(), kind="stable")
    agreed = runs["agreed"].to_numpy(dtype=bool)[order]
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)[order]
    out: dict[str, np.ndarray | None] = {"replication": runs["replication"].to_numpy()[order], "agreed": agreed}
    for name, day in (("hold_1y", ONE_YEAR), ("hold_5y", FIVE_YEARS)):
        out[name] = agreed & (np.isnan(breakdown) | (breakdown > day)) if horizon_days >= day else None
    return out


def paired_worlds(runs_by_level: Mapping[float, pd.DataFrame], horizon_days: int) -> PairedWorlds:
    """Stack the ``runs`` tables of one variant's troop levels (troops -> table) into :class:`PairedWorlds`.

    Raises:
        ValueError: the levels do not hold the same replications (the worlds would not be paired).
    """
    levels = list(runs_by_level)
    return stack_worlds(levels, [world_outcomes(runs_by_level[t], horizon_days) for t in levels])


def stack_worlds(levels: Sequence[float], records: Sequence[Mapping[str, np.ndarray | None]]) -> PairedWorlds:
    """:class:`PairedWorlds` from one :func:`world_outcomes` record per troop level (sorted by troops here)."""
    if not records:
        raise ValueError("paired worlds: give at least one troop level")
    if len(levels) != len(records):
        raise ValueError(f"paired worlds: {len(levels)} troop levels but {len(records)} records")
    order = sorted(range(len(levels)), key=lambda i: levels[i])
    levels, records = [levels[i] for i in order], [records[i] for i in order]
    first = records[0]["replication"]
    for troops, record in zip(levels, records, strict=True):
        if not np.array_equal(record["replication"], first):
            raise ValueError(f"paired worlds: troop level {troops:g} does not hold the same replications as "
                             f"{levels[0]:g}")

    def stacked(name: str) -> np.ndarray | None:
        return None if records[0][name] is None else np.vstack([r[name] for r in records])

    return PairedWorlds(np.asarray(levels, dtype=float), stacked("agreed"), stacked("hold_1y"), stacked("hold_5y"))


@dataclass(frozen=True)
class OptimumInterval:
    """Where the optimum of one outcome lies on the troop grid, with a paired bootstrap.

    Attributes:
        outcome: an :data:`OUTCOMES` column.
        troops: the troop levels, ascending.
        values: the outcome at each level in the full sample.
        best: troops maximising the outcome in the full sample (ties: the lowest level).
        low, high: percentile interval of the bootstrap optima: the lowest and highest troop levels of the
            central ``level`` share of them (:func:`central_range`).
        shares: share of resamples whose optimum is each level, shape (L,), sums to 1.
        resamples, level, seed: how it was made.
    """

    outcome: str
    troops: np.ndarray
    values: np.ndarray
    best: float
    low: float
    high: float
    shares: np.ndarray
    resamples: int
    level: float
    seed: int

    @property
    def share_at_best(self) -> float:
        """Share of resamples whose optimum is the full sample's."""
        return float(self.shares[np.searchsorted(self.troops, self.best)])

    @property
    def modal(self) -> float:
        """The troop level most resamples choose (ties: the lowest)."""
        return float(self.troops[int(np.argmax(self.shares))])


def _argmax_levels(successes: np.ndarray, trials: np.ndarray | None) -> np.ndarray:
    """Index of the best level per row of (R, L) sums; a level with no trials never wins, ties the lowest."""
    if trials is None:
        return np.argmax(successes, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(trials > 0, successes / np.where(trials > 0, trials, 1.0), -np.inf)
    return np.argmax(ratio, axis=1)


def central_range(tally: np.ndarray, level: float) -> tuple[int, int]:
    """Indices of the lowest and highest level of the central ``level`` share of bootstrap optima.

    ``tally[l]`` counts the resamples whose optimum is level ``l`` (levels in ascending order), R in
    all. The ``k = floor(R (1 - level) / 2)`` lowest and ``k`` highest optima are dropped; the range spans
    the rest, i.e. the (k+1)-th and (R-k)-th smallest optima. At R = 1,000 and level 0.95: the 26th and
    975th.
    """
    resamples = int(np.sum(tally))
    if resamples < 1:
        raise ValueError("central range: no resamples")
    dropped = int(np.floor((1.0 - level) / 2.0 * resamples + 1e-9))  # 0.025 * 1000 is 25, not 24.999...
    cumulative = np.cumsum(tally)
    low = int(np.searchsorted(cumulative, dropped + 1, side="left"))
    high = int(np.searchsorted(cumulative, resamples - dropped, side="left"))
    return low, high


def optimum_interval(
    worlds: PairedWorlds,
    outcome: str = "p_hold_1y",
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    level: float = BOOTSTRAP_LEVEL,
) -> OptimumInterval:
    """Paired bootstrap of the troop level that maximises ``outcome``.

    Each resample draws ``N`` replication indices with replacement and uses the *same* indices at every
    troop level (the levels share their random numbers, so a world's outcomes at two levels are paired),
    recomputes the outcome at each level and takes the best level. A ratio outcome (P(hold | deal)) is
    recomputed as a ratio of resampled sums; a level with no deal in a resample cannot be its optimum.
    Ties go to the lowest troop level, in the full sample and in every resample. Vectorised: each batch
    of resamples is a matrix of counts (resample x world, by ``np.bincount``) times the worlds' outcomes.

    Args:
        worlds: one variant's per-world outcomes.
        outcome: an :data:`OUTCOMES` column defined at the worlds' horizon.
        resamples: bootstrap resamples, >= 1 (1,000 gives shares to about ±0.03).
        seed: bootstrap seed; the generator is ``generator(seed, StreamKey.OPTIMUM_BOOTSTRAP)``
            (``sim.engine.streams``).
        level: central share of the bootstrap optima the interval covers, in (0, 1).

    Raises:
        ValueError: resamples < 1, level outside (0, 1), unknown outcome or one beyond the horizon.
    """
    return optimum_intervals([(worlds, outcome)], resamples, seed, level)[0]


def optimum_intervals(
    problems: Sequence[tuple[PairedWorlds, str]],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    level: float = BOOTSTRAP_LEVEL,
) -> list[OptimumInterval]:
    """:func:`optimum_interval` of several (worlds, outcome) pairs with the same number of worlds, all on the
    same resamples: each pair's result is what :func:`optimum_interval` gives it alone, at the cost of one.

    Raises:
        ValueError: as :func:`optimum_interval`; no pairs, or pairs with different numbers of worlds.
    """
    _check_bootstrap(resamples, level)
    stacked = StackedOutcomes.of(problems)
    picks = bootstrap_picks(stacked, resamples, seed)
    found = []
    for i, (worlds, outcome) in enumerate(problems):
        tally = np.bincount(picks[i], minlength=worlds.troops.size)
        low, high = central_range(tally, level)
        found.append(OptimumInterval(
            outcome=outcome, troops=worlds.troops.copy(), values=stacked.full_sample_values(i),
            best=float(worlds.troops[stacked.full_sample_best(i)]), low=float(worlds.troops[low]),
            high=float(worlds.troops[high]), shares=tally / resamples, resamples=int(resamples), level=float(level),
            seed=int(seed),
        ))
    return found


def _check_bootstrap(resamples: int, level: float) -> None:
    """Refuse a resample count below 1 (or not an integer) and a level outside (0, 1)."""
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 1:
        raise ValueError(f"resamples: must be an integer >= 1 (got {resamples!r})")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: must lie in (0, 1) (got {level!r})")


@dataclass(frozen=True)
class StackedOutcomes:
    """The per-world counts of several (worlds, outcome) problems stacked as the rows of two matrices, so that
    one matrix product per batch of resamples gives every problem's resampled sums at once.

    Attributes:
        successes: every problem's per-level successes, one row per troop level, shape (rows, N).
        trials: the per-level trials of the ratio problems only (P(hold | deal)), shape (trial rows, N).
        rows: problem i's rows of ``successes``.
        trial_rows: problem i's rows of ``trials``; None for an outcome over every world.
    """

    successes: np.ndarray
    trials: np.ndarray
    rows: tuple[slice, ...]
    trial_rows: tuple[slice | None, ...]

    @classmethod
    def of(cls, problems: Sequence[tuple[PairedWorlds, str]]) -> StackedOutcomes:
        """Stack ``problems``, which must share their number of worlds.

        Raises:
            ValueError: no problems, worlds of different sizes, an unknown outcome or one beyond the horizon.
        """
        if not problems:
            raise ValueError("optimum: give at least one (worlds, outcome) pair")
        sizes = {worlds.worlds for worlds, _ in problems}
        if len(sizes) > 1:
            raise ValueError(f"optimum: every variant must have the same number of worlds (got {sorted(sizes)})")
        counted = [worlds.counts(outcome) for worlds, outcome in problems]
        rows, trial_rows, successes, trials = [], [], [], []
        for problem_successes, problem_trials in counted:
            rows.append(_next_rows(successes, problem_successes))
            trial_rows.append(None if problem_trials is None else _next_rows(trials, problem_trials))
        n_worlds = sizes.pop()
        return cls(np.vstack(successes), np.vstack(trials) if trials else np.empty((0, n_worlds)), tuple(rows),
                   tuple(trial_rows))

    @property
    def worlds(self) -> int:
        """Worlds (replications) every problem shares."""
        return int(self.successes.shape[1])

    def best_levels(self, success_sums: np.ndarray, trial_sums: np.ndarray, i: int) -> np.ndarray:
        """Problem i's best level in each row of resampled sums ((R, rows) and (R, trial rows))."""
        trials = self.trial_rows[i]
        return _argmax_levels(success_sums[:, self.rows[i]], None if trials is None else trial_sums[:, trials])

    def full_sample_best(self, i: int) -> int:
        """Problem i's best level in the full sample (every world once)."""
        return int(self.best_levels(self.successes.sum(axis=1)[None, :], self.trials.sum(axis=1)[None, :], i)[0])

    def full_sample_values(self, i: int) -> np.ndarray:
        """Problem i's outcome at each level in the full sample (NaN where a ratio has no trials)."""
        successes = self.successes[self.rows[i]].sum(axis=1)
        trials = self.trial_rows[i]
        with np.errstate(invalid="ignore", divide="ignore"):
            return successes / (self.worlds if trials is None else self.trials[trials].sum(axis=1))


def _next_rows(stack: list[np.ndarray], block: np.ndarray) -> slice:
    """Append ``block`` to ``stack`` (a list of row blocks) and return the rows it takes in their vstack."""
    first = sum(part.shape[0] for part in stack)
    stack.append(block)
    return slice(first, first + block.shape[0])


def bootstrap_picks(stacked: StackedOutcomes, resamples: int, seed: int) -> np.ndarray:
    """Each problem's best level in each paired resample, shape (problems, resamples).

    Resamples are drawn in batches of :data:`BOOTSTRAP_BATCH` from the generator
    :attr:`StreamKey.OPTIMUM_BOOTSTRAP` of ``seed``; every problem sees the same resampled worlds.
    """
    rng = generator(seed, StreamKey.OPTIMUM_BOOTSTRAP)
    picks = np.empty((len(stacked.rows), resamples), dtype=np.int64)
    for start in range(0, resamples, BOOTSTRAP_BATCH):
        batch = min(BOOTSTRAP_BATCH, resamples - start)
        counts = resample_counts(rng, batch, stacked.worlds)
        success_sums, trial_sums = counts @ stacked.successes.T, counts @ stacked.trials.T
        for i in range(len(stacked.rows)):
            picks[i, start:start + batch] = stacked.best_levels(success_sums, trial_sums, i)
    return picks


def resample_counts(rng: np.random.Generator, batch: int, worlds: int) -> np.ndarray:
    """How often each world is drawn in each of ``batch`` resamples of ``worlds`` worlds with replacement,
    float (batch, worlds): the same world indices serve every troop level (the pairing)."""
    drawn = rng.integers(0, worlds, size=(batch, worlds))
    drawn += np.arange(batch)[:, None] * worlds  # resample r counts into bins r * worlds ... (r + 1) * worlds - 1
    return np.bincount(drawn.ravel(), minlength=batch * worlds).reshape(batch, worlds).astype(float)


def optimum_table(
    worlds: Mapping[str, PairedWorlds],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
    level: float = BOOTSTRAP_LEVEL,
) -> pd.DataFrame:
    """``optimum.csv``: per variant and per outcome defined at the horizon, :func:`optimum_interval`.

    Every variant and outcome is bootstrapped on the same resampled replication indices (one stream, see
    :func:`optimum_intervals`), so variants are compared on the same resampled worlds too.
    """
    problems = [(name, paired, outcome) for name, paired in worlds.items() for outcome in paired.available()]
    if not problems:
        return pd.DataFrame(columns=list(OPTIMUM_COLUMNS))
    results = optimum_intervals([(paired, outcome) for _, paired, outcome in problems], resamples, seed, level)
    rows = []
    for (name, paired, outcome), found in zip(problems, results, strict=True):
        best_at = int(np.searchsorted(found.troops, found.best))
        rows.append({
            "variant": name, "outcome": outcome, "best_troops": found.best,
            "best_value": float(found.values[best_at]), "interval_low": found.low,
            "interval_high": found.high, "share_at_best": found.share_at_best, "modal_troops": found.modal,
            "share_modal": float(found.shares.max()), "resamples": found.resamples, "level": found.level,
            "replications": paired.worlds, "seed": found.seed,
        })
    return pd.DataFrame(rows, columns=list(OPTIMUM_COLUMNS))


@dataclass
class BetResult:
    """The bet's tables: one row per (variant, troops), and P(hold | deal) by intent quartile.

    ``worlds`` keeps each variant's per-world outcomes (three bools per world and level); ``optimum`` is
    :func:`optimum_table` of them, None when the bootstrap is off.
    """

    table: pd.DataFrame
    intent: pd.DataFrame
    sweep: Sweep
    variants: tuple[Variant, ...]
    wall_seconds: float
    worlds: dict[str, PairedWorlds] = field(default_factory=dict)
    optimum: pd.DataFrame | None = None
    bootstrap: int = 0
    posterior: PosteriorChoice | None = None
    replaced: dict[str, list[str]] = field(default_factory=dict)  # variant -> its own values the posterior replaced

    def artefacts(self) -> Artefacts:
        """``the_bet.csv``, ``intent.csv``, ``optimum.csv`` (if bootstrapped), ``the_bet.png`` and the manifest."""
        tables = {"the_bet.csv": self.table, "intent.csv": self.intent}
        if self.optimum is not None:
            tables["optimum.csv"] = self.optimum
        return Artefacts("bet", tables, manifest=self.manifest_fields(), figures=BET_FIGURES,
                         scenario=self.sweep.base, source=self.sweep.source)

    def manifest_fields(self) -> dict[str, Any]:
        """What a reader needs to reproduce the bet beyond the common fields: sweep, variants, intervals,
        posterior, bootstrap, timing."""
        from sim.engine.runner import BLOCK_WORLDS

        sweep, posterior = self.sweep, self.posterior
        return {
            "sweep": sweep.definition(),
            "troops": [float(v) for v in sweep.points[:, 0]],
            "variants": [{"name": v.name, "scenario": str(v.scenario) if v.scenario else sweep.source,
                          "overrides": v.overrides} for v in self.variants],
            "random_numbers": "common: every point of every variant runs the same blocks with the same seed",
            "outcomes": "P(deal); P(holding at 365 days | deal); P(holding at 365 and 1825 days) over all worlds "
                        "(no deal = not holding); " + ("95% intervals pooled over the posterior draws (parameters "
                                                       "and Monte Carlo); *_mc_ci_* Wilson, Monte Carlo only"
                                                       if posterior is not None else "Wilson 95% intervals"),
            "interval": "parameters+monte_carlo" if posterior is not None else "monte_carlo",
            "posterior": None if posterior is None else {
                **posterior.describe(sweep.base.replications),
                "replaced": {name: {"parameters": paths, "note": "this variant's own values, replaced by the draws"}
                             for name, paths in self.replaced.items()},
            },
            "block_worlds": BLOCK_WORLDS,
            "optimum": None if self.optimum is None else self.optimum_method(),
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def optimum_method(self) -> dict[str, Any]:
        """How ``optimum.csv`` was made: resamples, level, seed and stream, batch, method."""
        return {
            "file": "optimum.csv", "resamples": self.bootstrap, "level": BOOTSTRAP_LEVEL,
            "seed": int(self.sweep.base.seed), "spawn_key": [int(StreamKey.OPTIMUM_BOOTSTRAP)],
            "batch": BOOTSTRAP_BATCH,
            "method": "paired bootstrap: replication indices resampled with replacement, the same at every troop "
                      "level of a variant; argmax troop level per resample, ties to the lowest; percentile "
                      "interval of the optima"
                      + ("; with --posterior every world keeps its posterior draw, so resampling worlds resamples "
                         "the draws with them; worlds are resampled singly, not as clusters sharing a draw, so the "
                         "interval leaves out the uncertainty of which particles were drawn (small with many draws)"
                         if self.posterior is not None else ""),
        }


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


def bet_row(runs: pd.DataFrame, horizon_days: int, draw_of_world: np.ndarray | None = None
            ) -> dict[str, float | int | str]:
    """The four outcomes of one point from its ``runs`` table (one row per world).

    With ``draw_of_world`` (the posterior draw of each replication, ``--posterior``), the intervals are
    pooled over the draws (parameter and Monte Carlo uncertainty) and the row gains
    :data:`POSTERIOR_TABLE_COLUMNS`.
    """
    row = _bet_row(runs, horizon_days)
    return row if draw_of_world is None else _pooled_row(row, runs, horizon_days, draw_of_world)


def _pooled_row(row: dict[str, Any], runs: pd.DataFrame, horizon_days: int, draw_of_world: np.ndarray
                ) -> dict[str, Any]:
    """``row`` with its intervals pooled over the posterior draws, and the spread and Monte Carlo intervals."""
    from sim.stats.posterior import INTERVAL_KIND, pooled_from_worlds

    outcomes = world_outcomes(runs, horizon_days)
    draw = np.asarray(draw_of_world)[outcomes["replication"]]
    draws = int(np.max(draw_of_world)) + 1
    agreed = outcomes["agreed"]
    problems = {"p_deal": (agreed, None), "p_hold_1y_given_deal": (outcomes["hold_1y"], agreed),
                "p_hold_1y": (outcomes["hold_1y"], None), "p_hold_5y": (outcomes["hold_5y"], None)}
    out = dict(row)
    for name, (successes, trials) in problems.items():
        out[f"{name}_mc_ci_low"], out[f"{name}_mc_ci_high"] = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
        out[f"{name}_parameter_sd"] = np.nan
        if successes is None or (trials is not None and not trials.any()):
            continue
        _, low, high, sd = pooled_from_worlds(successes, draw, trials, draws)
        out[f"{name}_ci_low"], out[f"{name}_ci_high"], out[f"{name}_parameter_sd"] = (
            float(low[0]), float(high[0]), float(sd[0]))
    out["interval"] = INTERVAL_KIND
    return out


def _bet_row(runs: pd.DataFrame, horizon_days: int) -> dict[str, float | int]:
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
    bootstrap: int = 0,
    workers: int = 1,
    posterior: PosteriorChoice | None = None,
    executor: Executor | None = None,
) -> BetResult:
    """Run the bet's troop grid for each variant; every point uses the same seed (paired comparisons).

    Args:
        replications, seed, horizon: worlds per point, seed and horizon in days (default: the sweep file's).
        variants: the lines of the figure.
        progress: called with 1 after each point.
        bootstrap: resamples of :func:`optimum_table` (seeded by the bet's seed); 0 = no ``optimum``.
        workers: local processes (>= 1), or the worker slots of ``executor``; the points run packed
            (``sim.engine.packing``), results do not depend on it.
        posterior: ``--posterior``: world ``r`` of every troop level and variant runs posterior draw
            ``r % draws`` (paired as before); the intervals then hold parameter uncertainty, and the
            bootstrap of ``optimum`` resamples worlds with their draws. None: the scenarios' values.
        executor: where the packs run when ``workers`` > 1, e.g. a Dask cluster's executor; None starts local
            processes.

    Raises:
        InputError: an invalid scenario or posterior draw, or a posterior that draws the troops.
    """
    if bootstrap < 0:
        raise ValueError(f"bootstrap: must be >= 0 (got {bootstrap})")
    start = time.perf_counter()
    settings = {k: v for k, v in (("replications", replications), ("seed", seed), ("horizon_days", horizon))
                if v is not None}
    sweep = load_sweep(sweep_file, settings)
    grid = troop_grid(sweep)
    for variant in variants:  # check every scenario before anything runs
        variant_scenario(variant, sweep, grid[0][1])
    scenarios = [variant_scenario(variant, sweep, point) for variant in variants for _, point in grid]
    values, draw_of_world, replaced = _posterior_draws(posterior, sweep, variants, scenarios)
    all_runs = run_packed(scenarios, [()] * len(scenarios), workers=workers,
                          done=None if progress is None else (lambda _index, _runs: progress(1)),
                          world_values=[values] * len(scenarios), executor=executor)
    rows, intents, worlds = [], [], {}
    for v, variant in enumerate(variants):
        records = []
        for g, (troops, _) in enumerate(grid):
            scenario, runs = scenarios[v * len(grid) + g], all_runs[v * len(grid) + g]
            keys = {"variant": variant.name, "structure": structure_label(scenario), "troops": troops}
            rows.append({**keys, "replications": scenario.replications, "seed": scenario.seed,
                         "horizon_days": scenario.horizon_days,
                         **bet_row(runs, scenario.horizon_days, draw_of_world)})
            intents.append(intent_table(runs, scenario.horizon_days).assign(**keys))
            records.append(world_outcomes(runs, scenario.horizon_days))
        worlds[variant.name] = stack_worlds([troops for troops, _ in grid], records)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS) + (list(POSTERIOR_TABLE_COLUMNS) if posterior else []))
    table[VALIDITY_COLUMN] = [headline_validity(min(s.horizon_days, FIVE_YEARS), s.structure).code for s in scenarios]
    intent = pd.concat(intents, ignore_index=True)
    leading = ["variant", "structure", "troops"]
    intent = intent[leading + [c for c in intent.columns if c not in leading]]
    optimum = optimum_table(worlds, bootstrap, sweep.base.seed) if bootstrap > 0 else None
    return BetResult(table, intent, sweep, tuple(variants), time.perf_counter() - start, worlds, optimum, bootstrap,
                     posterior, replaced)


def _posterior_draws(posterior: PosteriorChoice | None, sweep: Sweep, variants: Sequence[Variant],
                     scenarios: Sequence[Scenario]) -> tuple[dict[str, np.ndarray] | None, np.ndarray | None,
                                                             dict[str, list[str]]]:
    """The posterior's per-world values (the same at every point), each world's draw, and per variant the
    parameters whose own value (differing from the bet's base scenario) the posterior replaces."""
    if posterior is None:
        return None, None, {}
    from sim.spec.scenario import get_path

    for axis in sweep.axes:
        posterior.check_free([path for path, _ in axis.targets], "the troop grid")
    values, draw_of_world = posterior.world_values(sweep.base.seed, sweep.base.replications, template=scenarios[0])
    base = sweep.base.model_dump(mode="python")
    per_variant = len(scenarios) // len(variants)
    replaced = {}
    for v, variant in enumerate(variants):
        document = scenarios[v * per_variant].model_dump(mode="python")
        own = [path for path in values if get_path(document, path) != get_path(base, path)]
        if own:
            replaced[variant.name] = own
    return values, draw_of_world, replaced


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
