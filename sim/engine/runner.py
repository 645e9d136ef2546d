"""Running a scenario's worlds: split them into fixed blocks, run them on local processes, gather their records.

Reproducibility: every world draws from its own streams (``sim.engine.streams``), keyed by the run's
``seed``, its stream ``key`` and the world's replication number. The worlds are cut into blocks of
``BLOCK_WORLDS`` (:mod:`sim.engine.blocks`) to share the work, but a world's result does not depend on
its block, so every record is the same whatever the block size, the number of workers or the order in
which blocks finish.

The engine returns records (:class:`RunRecords`: one row per world, and per-day values of each block's
worlds); the tables and their statistics are computed above it (:mod:`sim.experiments.run`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.engine import compiled
from sim.engine.blocks import BLOCK_WORLDS as BLOCK_WORLDS  # where callers of the runner have read it
from sim.engine.blocks import Block, block_keys, block_seed, plan_blocks
from sim.engine.model import CAUSE_CODES, CeasefireModel
from sim.engine.resources import check_run_memory, worker_init
from sim.spec.scenario import Scenario

WORKER_START_MESSAGE = (
    "error: a worker process, importing the script that started it, was asked to run scenarios too: put the "
    "script's code under 'if __name__ == \"__main__\":' or use one process (workers=1)")
"""What a worker prints before it exits when it finds itself re-running an unguarded script."""

_CAUSE_NAMES = np.array(sorted(CAUSE_CODES, key=CAUSE_CODES.get))

WorldValues = Mapping[str, np.ndarray]
"""Per-world parameter values: dotted path (in ``sim.engine.world_params.PACKABLE``) -> one value per world."""


@dataclass
class BlockResult:
    """What one block returns: its rows of ``runs.csv`` and, optionally, per-day trajectories."""

    block: Block
    runs: pd.DataFrame
    trajectories: dict[str, np.ndarray] | None  # variable -> (horizon + 1, worlds), NaN where not holding


@dataclass
class RunRecords:
    """The records of every world of a run, before any statistics.

    Attributes:
        scenario: the scenario run.
        runs: one row per world, in replication order (the columns of ``runs.csv``).
        trajectories: per block, in block order, variable -> float32 array (horizon + 1, worlds of the block),
            NaN on the days a world's ceasefire does not hold; None when not recorded.
        wall_seconds: time the simulation took (seconds).
        workers: local processes used.
    """

    scenario: Scenario
    runs: pd.DataFrame
    trajectories: list[dict[str, np.ndarray]] | None
    wall_seconds: float
    workers: int


def simulate_block(
    scenario: Scenario, block: Block, seed: int, key: Sequence[int] = (), record_trajectories: bool = True,
    world_values: WorldValues | None = None,
) -> BlockResult:
    """Run one block of worlds to the horizon and return its records.

    Args:
        world_values: the block's own per-world parameter values (one value per world of the block), if any.
    """
    if scenario.replications * scenario.horizon_days >= compiled.WORTH_FROM_WORLD_DAYS:
        compiled.want()
    model = CeasefireModel(scenario, block.worlds, rng=block_seed(seed, key, block),
                           record_trajectories=record_trajectories, keys=block_keys(seed, key, block),
                           world_values=dict(world_values) if world_values else None).run()
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


def run_worlds(
    scenario: Scenario,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    record_trajectories: bool = True,
    world_values: WorldValues | None = None,
) -> RunRecords:
    """Run all ``scenario.replications`` worlds and gather their records.

    Args:
        scenario: validated scenario; its ``seed`` determines every result.
        workers: local processes to use (>= 1); 1 runs in this process.
        progress: called with the number of worlds each time a block finishes.
        record_trajectories: also keep each world's per-day values (costs memory: 4 floats per world-day).
        world_values: per-world parameter values replacing the scenario's (e.g. posterior draws), one value
            per replication; world ``r`` runs with the ``r``-th value whatever its block.

    Raises:
        InputError: the run would need more memory than :func:`sim.engine.resources.memory_limit_bytes`
            (checked before anything is simulated).
    """
    exit_if_starting_worker()
    blocks = plan_blocks(scenario.replications)
    check_run_memory(scenario.replications, scenario.horizon_days, record_trajectories,
                     min(max(1, workers), len(blocks)))
    start = time.perf_counter()
    results: list[BlockResult | None] = [None] * len(blocks)
    for result in iter_blocks(scenario, blocks, workers, record_trajectories, world_values=world_values):
        results[result.block.index] = result
        if progress is not None:
            progress(result.block.worlds)
    done = [r for r in results if r is not None]
    return RunRecords(
        scenario=scenario,
        runs=pd.concat([r.runs for r in done], ignore_index=True),
        trajectories=[r.trajectories for r in done if r.trajectories is not None] if record_trajectories else None,
        wall_seconds=time.perf_counter() - start,
        workers=workers,
    )


def block_values(world_values: WorldValues | None, block: Block) -> dict[str, np.ndarray] | None:
    """The values of ``block``'s worlds out of per-replication ``world_values`` (None if there are none)."""
    if not world_values:
        return None
    return {path: np.asarray(values)[block.first:block.first + block.worlds] for path, values in world_values.items()}


def iter_blocks(
    scenario: Scenario, blocks: Sequence[Block], workers: int, record_trajectories: bool, key: Sequence[int] = (),
    world_values: WorldValues | None = None,
) -> Iterator[BlockResult]:
    """Yield block results as they finish, on ``workers`` local processes (1: in this process)."""
    if workers <= 1 or len(blocks) <= 1:
        for block in blocks:
            yield simulate_block(scenario, block, scenario.seed, key, record_trajectories,
                                 block_values(world_values, block))
        return
    try:
        with local_executor(min(workers, len(blocks))) as executor:
            futures = [
                executor.submit(simulate_block, scenario, block, scenario.seed, key, record_trajectories,
                                block_values(world_values, block))
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
    """The worker processes of ``run_worlds(workers > 1)`` stopped; the message says the likely cause."""

    def __init__(self, workers: int) -> None:
        super().__init__(
            f"run_scenario(workers={workers}): the worker processes stopped before finishing (BrokenProcessPool). "
            "Each worker imports the script that started it again: in a script, put the code that runs "
            "scenarios under 'if __name__ == \"__main__\":', or pass workers=1. With that guard in place, "
            "a worker ran out of memory or was killed.")


TRACKER_QUIET = "ignore::UserWarning:multiprocessing.resource_tracker"
"""Warning filter handed to multiprocessing's resource tracker (it cleans up after an interrupted pool)."""


def local_executor(workers: int) -> Executor:
    """A process pool with an explicit 'spawn' context: no fork of this process's state.

    Its workers ignore Ctrl-C (this process stops them) and exit when this process dies
    (:func:`sim.engine.resources.worker_init`). See :func:`exit_if_starting_worker`.
    """
    exit_if_starting_worker()
    # The queue below is not joined at exit (see there): after a stop signal, multiprocessing's resource tracker
    # then cleans up the queue's semaphore itself and would warn about it on stderr, after the command's one
    # line. The tracker takes its warning filters from this process's -W options when it starts.
    if TRACKER_QUIET not in sys.warnoptions:
        sys.warnoptions.append(TRACKER_QUIET)
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=worker_init,
                                   initargs=(os.getpid(),))
    # A stop signal terminates the workers (sim.core.signals.stop_workers); a large task still being written to
    # them would then block the queue's feeder thread for ever, and the interpreter's exit joins that thread.
    # A normal end shuts the pool down first (every task delivered), so nothing is lost by not joining it.
    call_queue = getattr(executor, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()
    return executor


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
