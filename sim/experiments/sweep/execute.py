"""Running a sweep: points farmed out to local processes or a Dask cluster, each record handed on as it arrives.

Each point is the base scenario with its axis values applied. Its worlds are replications
``0 .. replications - 1``, each with its own random streams (``sim.engine.streams``): by default the same
streams at every point (**common random numbers**: neighbouring points differ only through their
parameters, not through luck), or, with ``common_random_numbers`` off, streams of the point's own
(stream key ``(p,)``). Points are run packed, many to a batch (``sim.engine.packing``); a world's result does
not depend on its batch, so every number is the same whatever the packing, the number of workers,
the executor or the order in which points finish.

:func:`run_sweep` computes only: each finished point's record goes to a
:class:`~sim.experiments.sweep.result.Records` (in memory by default; ``sim.outputs.partial`` keeps them
on disk so that an interrupted sweep can resume), and the points already there are not run again.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.core.errors import InputError
from sim.engine.packing import PACK_WORLDS, plan_packs, run_packed
from sim.engine.resources import check_memory, point_memory_bytes
from sim.engine.runner import local_executor
from sim.experiments.sweep.design import Sweep, point_stream
from sim.experiments.sweep.records import WorldDraws, point_record, sealed
from sim.experiments.sweep.result import KeptRecords, Records, SweepResult
from sim.spec.scenario import Scenario

WINDOW_PER_SLOT = 2
"""Points submitted ahead per worker slot: keeps workers busy, keeps memory flat."""

SURVIVAL_ROW_BYTES = 128
"""Memory per row of ``survival.csv`` while it is assembled (six 8-byte columns, copied once, with slack)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a sweep; ``str(self)`` says what is saved and how to resume."""


class SweepAborted(RuntimeError):
    """A point failed or a worker died; completed points are kept for ``--resume``."""


# --------------------------------------------------------------------------- points (run on workers)


def run_points(points: Sequence[tuple[int, Scenario]], common_random_numbers: bool = True,
               draws: WorldDraws | None = None) -> list[dict[str, Any]]:
    """Simulate the worlds of several points, packed (``sim.engine.packing``), and reduce each to its record.

    Args:
        draws: with a posterior, the per-world parameter values (the same at every point) and the draw
            of each world; the records' intervals then hold parameter uncertainty too.

    Returns:
        one ``{"point": index, "summary": {metric column: value}, "n_holding": [worlds holding on day
        0..horizon]}`` per point, in the order given; with ``draws``, also ``"posterior": {column of
        :data:`sim.experiments.sweep.design.POSTERIOR_COLUMNS`: value}``
        (:func:`sim.experiments.sweep.records.point_record`).
    """
    indices = [index for index, _ in points]
    scenarios = [scenario for _, scenario in points]
    values, draw_of_world = draws if draws is not None else (None, None)
    parts = run_packed(scenarios, [point_stream(index, common_random_numbers) for index in indices],
                       world_values=[values] * len(scenarios))
    return [point_record(index, scenario, runs, draw_of_world)
            for index, scenario, runs in zip(indices, scenarios, parts, strict=True)]


def run_point(scenario: Scenario, index: int, common_random_numbers: bool = True,
              draws: WorldDraws | None = None) -> dict[str, Any]:
    """The record of point ``index`` alone (see :func:`run_points`)."""
    return run_points([(index, scenario)], common_random_numbers, draws)[0]


# --------------------------------------------------------------------------- executors


@contextlib.contextmanager
def open_executor(workers: int, scheduler: str | None) -> Iterator[tuple[Executor | None, int, str]]:
    """Yield (executor or None for in-process, worker slots, description).

    Args:
        workers: local processes (>= 1); 1 runs points in this process.
        scheduler: address of a Dask distributed scheduler (e.g. ``tcp://host:8786``); overrides ``workers``.
    """
    if scheduler:
        client = _dask_client(scheduler)
        executor = client.get_executor(pure=False)
        try:
            yield executor, max(1, sum(client.nthreads().values())), f"dask {scheduler}"
        finally:
            executor.shutdown(wait=False)
            client.close()
    elif workers <= 1:
        yield None, 1, "1 process (in-process)"
    else:
        executor = local_executor(workers)
        try:
            yield executor, workers, f"{workers} local processes"
        except BaseException:
            _stop_local(executor)
            raise
        executor.shutdown(wait=True)


def _dask_client(address: str) -> Any:
    """A ``distributed.Client`` connected to ``address`` with at least one worker (imported only here)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler: needs the 'distributed' package (pip install 'ceasefire[dask]')") from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:  # ValueError: a malformed address
        raise InputError(f"--scheduler: cannot connect to {address} ({exc})") from None
    try:
        client.wait_for_workers(1, timeout=60)
    except (TimeoutError, OSError):
        client.close()
        raise InputError(f"--scheduler: {address} has no workers (waited 60 s)") from None
    return client


def _stop_local(executor: Executor) -> None:
    """Cancel queued points and end the pool's worker processes now (their points are lost)."""
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def completed_points(sweep: Sweep, todo: Iterable[int], executor: Executor | None, slots: int
                     ) -> Iterator[dict[str, Any]]:
    """Run the points ``todo``, packed, and yield their records as they finish (in any order), each sealed
    with its point's digest (:func:`sim.experiments.sweep.records.sealed`).

    At most ``WINDOW_PER_SLOT × slots`` packs are in flight, so memory does not grow with the sweep.
    Packs hold at most ``PACK_WORLDS`` worlds, fewer when that keeps every worker busy.

    Raises:
        SweepAborted: a worker died or a point failed.
    """
    todo = list(todo)
    scenarios = [sweep.scenario_at(index) for index in todo]
    digests = {index: sweep.point_digest(index, scenario) for index, scenario in zip(todo, scenarios, strict=True)}
    total = sum(scenario.replications for scenario in scenarios)
    pack_worlds = max(1, min(PACK_WORLDS, math.ceil(total / (WINDOW_PER_SLOT * slots))))
    packs = [[(todo[i], scenarios[i]) for i in pack] for pack in plan_packs(scenarios, pack_worlds)]
    for record in _finished(packs, sweep.common_random_numbers, sweep.world_draws(), executor, slots):
        yield sealed(record, digests[record["point"]])


def _finished(packs: Sequence[list[tuple[int, Scenario]]], crn: bool, draws: WorldDraws | None,
              executor: Executor | None, slots: int) -> Iterator[dict[str, Any]]:
    """The records of ``packs``, run in this process or on ``executor`` with a bounded window in flight."""
    if executor is None:
        for pack in packs:
            yield from run_points(pack, crn, draws)
        return
    waiting = iter(packs)
    pending: dict[Future, int] = {}
    try:
        while True:
            while len(pending) < WINDOW_PER_SLOT * slots and (pack := next(waiting, None)) is not None:
                pending[executor.submit(run_points, pack, crn, draws)] = pack[0][0]
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                yield from _result(future, index)
    finally:
        for future in pending:
            future.cancel()


def _result(future: Future, index: int) -> list[dict[str, Any]]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise SweepAborted(f"point {index}: a worker process died") from None
    except (InputError, KeyboardInterrupt):
        raise
    except Exception as exc:
        reason = "a worker died" if type(exc).__name__ == "KilledWorker" else f"{type(exc).__name__}: {exc}"
        raise SweepAborted(f"point {index}: {reason}") from exc


# --------------------------------------------------------------------------- the whole sweep


def check_resources(sweep: Sweep, workers: int = 1, scheduler: str | None = None) -> None:
    """Refuse, before any work, a sweep whose points in flight, or whose ``survival.csv`` as it is assembled,
    would not fit in memory.

    Raises:
        InputError: ``workers`` < 1, or the estimate exceeds the limit (names what to lower).
    """
    if workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {workers})")
    slots = 1 if scheduler else min(workers, sweep.n_points)  # a cluster's memory is its own
    check_memory(point_memory_bytes(sweep.base.replications, slots),
                 f"--replications {sweep.base.replications} x --workers {slots}", "--replications or --workers")
    days = sweep.base.horizon_days + 1
    check_memory(sweep.n_points * days * SURVIVAL_ROW_BYTES, f"survival.csv of {sweep.n_points} points x {days} days",
                 "the points or --horizon")


def run_sweep(sweep: Sweep, records: Records | None = None, *, workers: int = 1, scheduler: str | None = None,
              progress: Callable[[int], None] | None = None) -> SweepResult:
    """Run every point of ``sweep`` not yet in ``records``, handing each record to it as the point finishes.

    Args:
        sweep: the resolved sweep.
        records: where records are kept, and which points are done already (default: none, in memory).
        workers: local processes (>= 1; 1 runs in this process); ignored with ``scheduler``.
        scheduler: Dask scheduler address; runs the points on that cluster.
        progress: called with 1 as each point finishes (after its record is kept).

    Returns:
        The finished sweep; :meth:`~sim.experiments.sweep.result.SweepResult.artefacts` lists its tables.

    Raises:
        InputError: ``workers`` < 1 or the sweep would not fit in memory (before any point runs).
        SweepAborted: a worker died or a point failed (the records kept so far stay in ``records``).
        KeyboardInterrupt: Ctrl-C or SIGTERM (likewise).
    """
    check_resources(sweep, workers, scheduler)
    records = records if records is not None else KeptRecords()
    done = set(records.done)
    todo = [i for i in range(sweep.n_points) if i not in done]
    start = time.perf_counter()
    with open_executor(min(workers, sweep.n_points), scheduler) as (executor, slots, label):
        for record in completed_points(sweep, todo, executor, slots):
            records.append(record)
            if progress is not None:
                progress(1)
    missing = sweep.n_points - len(records.done)
    if missing:
        raise SweepAborted(f"{missing} points have no record")
    return SweepResult(sweep, records, len(todo), len(done), time.perf_counter() - start,
                       slots if todo else 0, label if todo else "none (every point was already saved)")
