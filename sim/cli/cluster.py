"""``--scheduler ADDRESS``: where a command's packed points run (``sim.engine.packing.run_packed`` takes an
executor): on a Dask distributed cluster, or in local processes without one. The results are the same bytes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager


@contextmanager
def cluster_executor(scheduler: str | None, workers: int) -> Iterator[tuple[Executor | None, int]]:
    """(executor, worker slots) for the block: with ``scheduler``, the Dask cluster's executor and its threads
    (connected, checked and closed by ``sim.experiments.sweep.execute.open_executor``, as for sweeps);
    without, (None, ``workers``), for which ``run_packed`` starts the local processes itself.

    Raises:
        InputError: 'distributed' is not installed, or the scheduler cannot be reached or has no workers.
    """
    if not scheduler:
        yield None, workers
        return
    from sim.experiments.sweep.execute import open_executor

    with open_executor(1, scheduler) as (executor, slots, _):
        yield executor, slots
