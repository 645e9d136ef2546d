"""Running a scenario: split its worlds into fixed blocks, run them on local processes, gather tables.

Reproducibility: every world draws from its own streams (``sim.engine.streams``), keyed by the run's
``seed``, its stream ``key`` and the world's replication number. The worlds are cut into blocks of
``BLOCK_WORLDS`` to share the work, but a world's result does not depend on its block, so every
output is the same whatever the block size, the number of workers or the order in which blocks finish.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine import compiled
from sim.engine.model import CAUSE_CODES, TRAJECTORY_VARIABLES, CeasefireModel
from sim.engine.resources import check_run_memory, worker_init
from sim.engine.streams import world_keys
from sim.spec.scenario import Scenario
from sim.stats.metrics import intent_table, summary_table, survival_table

BLOCK_WORLDS = 10_000
"""Worlds per block: the unit of parallel work (it does not change any result)."""

WORKER_START_MESSAGE = (
    "error: a worker process, importing the script that started it, was asked to run scenarios too: put the "
    "script's code under 'if __name__ == \"__main__\":' or use one process (workers=1)")
"""What a worker prints before it exits when it finds itself re-running an unguarded script."""

TABLE_DAYS = 64
"""Days per slice when ``trajectory_table`` joins the blocks, so its working copies stay small."""

_CAUSE_NAMES = np.array(sorted(CAUSE_CODES, key=CAUSE_CODES.get))


@dataclass(frozen=True)
class Block:
    """A slice of a run's worlds: replications ``first .. first + worlds - 1``."""

    index: int
    first: int
    worlds: int


@dataclass
class BlockResult:
    """What one block returns: its rows of ``runs.csv`` and, optionally, per-day trajectories."""

    block: Block
    runs: pd.DataFrame
    trajectories: dict[str, np.ndarray] | None  # variable -> (horizon + 1, worlds), NaN where not holding


@dataclass
class RunResult:
    """All tables of one scenario run.

    Attributes:
        runs: one row per world (``runs.csv``).
        survival: P(holding) per day with Wilson intervals (``survival.csv``).
        summary: one row of headline figures (``summary.csv``).
        trajectories: per-day means and 10th/90th percentiles (``trajectories.csv``), or None.
        intent: P(deal) and P(hold 365 | deal) by quartile of Russia's intent (``intent.csv``).
    """

    scenario: Scenario
    runs: pd.DataFrame
    survival: pd.DataFrame
    summary: pd.DataFrame
    trajectories: pd.DataFrame | None
    intent: pd.DataFrame
    wall_seconds: float
    workers: int


def plan_blocks(replications: int, block_worlds: int = BLOCK_WORLDS) -> list[Block]:
    """Cut ``replications`` worlds into consecutive blocks of at most ``block_worlds``."""
    starts = range(0, replications, block_worlds)
    return [Block(i, s, min(block_worlds, replications - s)) for i, s in enumerate(starts)]


def block_seed(seed: int, key: Sequence[int], block: Block) -> np.random.SeedSequence:
    """The seed of Mesa's generator in one block: a child of ``seed`` addressed by ``(*key, block.index)``
    (the engine's draws come from each world's keys, :func:`block_keys`)."""
    return np.random.SeedSequence(seed, spawn_key=(*key, block.index))


def block_keys(seed: int, key: Sequence[int], block: Block) -> np.ndarray:
    """The stream keys of the worlds of ``block``: replications ``first .. first + worlds - 1`` of the
    stream ``key`` of ``seed``."""
    return world_keys(seed, key, np.arange(block.first, block.first + block.worlds))


def simulate_block(
    scenario: Scenario, block: Block, seed: int, key: Sequence[int] = (), record_trajectories: bool = True
) -> BlockResult:
    """Run one block of worlds to the horizon and return its records."""
    if scenario.replications * scenario.horizon_days >= compiled.WORTH_FROM_WORLD_DAYS:
        compiled.want()
    model = CeasefireModel(scenario, block.worlds, rng=block_seed(seed, key, block),
                           record_trajectories=record_trajectories, keys=block_keys(seed, key, block)).run()
    model.release()
    return BlockResult(block, run_records(model, block.first), model.trajectories)


def run_records(model: CeasefireModel, first_replication: int = 0) -> pd.DataFrame:
    """One row per world of a finished model: outcome, cause and event counts."""
    breakdown = model.breakdown_day.astype(float)
    breakdown[breakdown < 0] = np.nan
    return pd.DataFrame(
        {
            "replication": np.arange(first_replication, first_replication + model.worlds),
            "agreed": model.agreed,
            "breakdown_day": pd.array(breakdown, dtype="Int64"),  # empty in CSV where it held
            "cause": _CAUSE_NAMES[model.cause],
            "incidents": model.incidents,
            "detected_violations": model.detected_violations,
            "probes": model.probes,
            "detected_probes": model.detected_probes,
            "responses": model.responses,
            "retaliations": model.ua.retaliations,
            "sanctions_imposed": model.sanctions_imposed,
            "final_credibility": model.credibility.round(6),
            "final_escalation": model.escalation.round(6),
            "final_coalition_troops": model.coalition_troops().round(1),
            "germany_deployed": model.de.deployed,
            "monitoring_scaled_down": model.us.scaled_down,
            "intent": model.ru.intent.round(6),
            "spoiler_events": model.spoiler_events,
        }
    )


def run_scenario(
    scenario: Scenario,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    record_trajectories: bool = True,
) -> RunResult:
    """Run all ``scenario.replications`` worlds and compute every table.

    Args:
        scenario: validated scenario; its ``seed`` determines every result.
        workers: local processes to use (>= 1); 1 runs in this process.
        progress: called with the number of worlds each time a block finishes.
        record_trajectories: also compute ``trajectories.csv`` (costs memory: 4 floats per world-day).

    Raises:
        InputError: the run would need more memory than :func:`sim.engine.resources.memory_limit_bytes`
            (checked before anything is simulated).
    """
    exit_if_starting_worker()
    check_run_memory(scenario.replications, scenario.horizon_days, record_trajectories,
                     min(max(1, workers), len(plan_blocks(scenario.replications))))
    start = time.perf_counter()
    blocks = plan_blocks(scenario.replications)
    results: list[BlockResult | None] = [None] * len(blocks)
    for result in iter_blocks(scenario, blocks, workers, record_trajectories):
        results[result.block.index] = result
        if progress is not None:
            progress(result.block.worlds)
    done = [r for r in results if r is not None]
    runs = pd.concat([r.runs for r in done], ignore_index=True)
    trajectories = trajectory_table(done, scenario.horizon_days) if record_trajectories else None
    return RunResult(
        scenario=scenario,
        runs=runs,
        survival=survival_table(runs, scenario.horizon_days),
        summary=summary_table(runs, scenario.horizon_days, scenario.name, scenario.seed),
        trajectories=trajectories,
        intent=intent_table(runs, scenario.horizon_days),
        wall_seconds=time.perf_counter() - start,
        workers=workers,
    )


def iter_blocks(
    scenario: Scenario, blocks: Sequence[Block], workers: int, record_trajectories: bool, key: Sequence[int] = ()
) -> Iterator[BlockResult]:
    """Yield block results as they finish, on ``workers`` local processes (1: in this process)."""
    if workers <= 1 or len(blocks) <= 1:
        for block in blocks:
            yield simulate_block(scenario, block, scenario.seed, key, record_trajectories)
        return
    try:
        with local_executor(min(workers, len(blocks))) as executor:
            futures = [
                executor.submit(simulate_block, scenario, block, scenario.seed, key, record_trajectories)
                for block in blocks
            ]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()
    except BrokenProcessPool:
        raise WorkersStoppedError(workers) from None


class WorkersStoppedError(RuntimeError):
    """The worker processes of ``run_scenario(workers > 1)`` stopped; the message says the likely cause."""

    def __init__(self, workers: int) -> None:
        super().__init__(
            f"run_scenario(workers={workers}): the worker processes stopped before finishing (BrokenProcessPool). "
            "Each worker imports the script that started it again: in a script, put the code that runs "
            "scenarios under 'if __name__ == \"__main__\":', or pass workers=1. With that guard in place, "
            "a worker ran out of memory or was killed.")


def local_executor(workers: int) -> Executor:
    """A process pool with an explicit 'spawn' context: no fork of this process's state.

    Its workers ignore Ctrl-C (this process stops them) and exit when this process dies
    (:func:`sim.engine.resources.worker_init`). See :func:`exit_if_starting_worker`.
    """
    exit_if_starting_worker()
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=worker_init,
                               initargs=(os.getpid(),))


def starting_worker() -> bool:
    """Whether this process is a multiprocessing worker still importing its parent's main module."""
    # the flag multiprocessing itself checks before refusing to start a process from a starting one; it is
    # set only while a spawned process imports its parent's main module
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def exit_if_starting_worker() -> None:
    """Stop a worker that is re-running an unguarded script (its import of the parent's main module) with
    one line, before it runs scenarios or starts processes of its own (multiprocessing's long traceback).

    Its parent then sees the pool break (:class:`WorkersStoppedError` from ``run_scenario``).
    """
    if starting_worker():
        raise SystemExit(WORKER_START_MESSAGE)


def default_workers() -> int:
    """All cores available to this process."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def trajectory_table(results: Sequence[BlockResult], horizon_days: int) -> pd.DataFrame:
    """Per-day mean and 10th/90th percentiles of each trajectory variable over holding worlds.

    The blocks are joined ``TABLE_DAYS`` days at a time, so beyond the blocks themselves memory grows
    by one slice (``TABLE_DAYS`` x worlds), not by copies of every day; each day's figures are
    computed exactly as over all days at once.
    """
    ordered = sorted(results, key=lambda r: r.block.index)
    slices = [_trajectory_slice(ordered, first, min(first + TABLE_DAYS, horizon_days + 1))
              for first in range(0, horizon_days + 1, TABLE_DAYS)]
    frame = pd.concat(slices, ignore_index=True)
    value_columns = [c for c in frame.columns if c not in ("day", "n_holding")]
    frame[value_columns] = frame[value_columns].round(6)
    return frame


def _trajectory_slice(ordered: Sequence[BlockResult], first: int, stop: int) -> pd.DataFrame:
    """Rows ``first .. stop - 1`` (days) of the trajectory table, before rounding."""
    table: dict[str, np.ndarray] = {"day": np.arange(first, stop)}
    for name in TRAJECTORY_VARIABLES:
        values = np.concatenate([r.trajectories[name][first:stop] for r in ordered], axis=1)
        holding = ~np.isnan(values)
        count = holding.sum(axis=1)
        if name == TRAJECTORY_VARIABLES[0]:
            table["n_holding"] = count
        with np.errstate(invalid="ignore", divide="ignore"):
            # what np.nansum computes (NaN as 0, the same pairwise sum), without its second isnan pass and copy
            sums = np.add.reduce(np.where(holding, values, np.float32(0)), axis=1, dtype=np.float64)
            table[f"{name}_mean"] = np.where(count > 0, sums / count, np.nan)
        p10, p90 = _nan_quantiles(values, count, (0.1, 0.9))
        table[f"{name}_p10"], table[f"{name}_p90"] = p10, p90
    return pd.DataFrame(table)


def _nan_quantiles(values: np.ndarray, count: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    """Row-wise quantiles ignoring NaN (linear interpolation), fast: one sort, NaN sorted last."""
    ordered = np.sort(values, axis=1)
    out = []
    rows = np.arange(values.shape[0])
    for q in qs:
        position = q * np.maximum(count - 1, 0)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(count - 1, 0))
        frac = position - low
        result = ordered[rows, low] * (1.0 - frac) + ordered[rows, high] * frac
        out.append(np.where(count > 0, result, np.nan))
    return out
