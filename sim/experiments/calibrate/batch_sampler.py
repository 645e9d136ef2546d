"""A pyabc sampler that simulates a batch of particles in one packed run (``sim.engine.packing``).

pyabc's samplers evaluate one particle per model call. A particle here is 500 worlds of the
calibration scenario, so one call is mostly the engine's fixed cost per day; ``BatchSampler``
lets ``batch`` particles share it. It runs ``simulate_one`` (pyabc's proposal, model call, distance
and acceptance) for each particle of a batch in its own thread, *in turn*: particle ``k`` draws its
proposal only after particle ``k - 1`` has reached its model call, and evaluates its distance only
after particle ``k - 1`` has. The model calls of the batch are collected and answered by one packed
simulation. Every draw from numpy's global generator (pyabc's proposals) therefore happens in the
same order as with pyabc's ``SingleCoreSampler``; when a generation is complete part-way through a
batch, the particles proposed after the last one needed are discarded (and not counted as
evaluations) and the generator is put back to its state after that one's proposal. Each particle's
worlds are seeded from its own parameters and packing changes no world's result, so the posterior
is the same, byte for byte, whatever the batch size and the number of worker processes
(``tests/test_calibrate.py``). This relies on pyabc's distance and acceptance step drawing no random
numbers, true of the deterministic distance and uniform acceptor used here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from pyabc.sampler import Sampler

Particle = Mapping[str, float]
Statistics = dict[str, float]

_local = threading.local()


def batched(direct: Callable[[Particle], Statistics]) -> Callable[[Particle], Statistics]:
    """The model function pyabc calls: inside a :class:`BatchSampler` batch it waits for the batch's
    packed simulation; elsewhere it calls ``direct``."""
    def model(particle: Particle) -> Statistics:
        turn = getattr(_local, "turn", None)
        return direct(particle) if turn is None else turn.submit(particle)

    return model


class _Turn:
    """One particle's place in a batch: it hands the next particle its turn at the right moments."""

    def __init__(self, batch: _Batch, index: int) -> None:
        self.batch, self.index = batch, index
        self.submitted = False

    def submit(self, particle: Particle) -> Statistics:
        batch, k = self.batch, self.index
        batch.requests[k] = dict(particle)
        batch.states[k] = np.random.get_state()  # numpy's global generator after this particle's proposal
        self.submitted = True
        batch.propose[k + 1].release()  # the next particle may draw its proposal now
        batch.simulated.wait()
        batch.evaluate[k].acquire()  # distances and acceptance in particle order too
        if batch.error is not None:
            raise RuntimeError("the batch's simulation failed") from batch.error
        return batch.results[k]


class _Batch:
    """The shared state of one batch of ``size`` particles."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.propose = [threading.Semaphore(0) for _ in range(size + 1)]
        self.evaluate = [threading.Semaphore(0) for _ in range(size + 1)]
        self.simulated = threading.Event()
        self.requests: list[dict[str, float] | None] = [None] * size
        self.states: list[Any] = [None] * size
        self.results: list[Statistics] = [{}] * size
        self.particles: list[Any] = [None] * size
        self.failures: list[BaseException] = []
        self.error: BaseException | None = None

    def run_one(self, k: int, simulate_one: Callable[[], Any]) -> None:
        turn = _Turn(self, k)
        self.propose[k].acquire()
        _local.turn = turn
        try:
            self.particles[k] = simulate_one()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the sampler in the main thread
            self.failures.append(exc)
        finally:
            _local.turn = None
            if not turn.submitted:  # failed before its model call: let the others go on
                self.propose[k + 1].release()
                self.simulated.wait()
                self.evaluate[k].acquire()
            self.evaluate[k + 1].release()


class BatchSampler(Sampler):
    """Evaluate particles ``batch`` at a time, their simulations packed into one run.

    Args:
        batch: particles per batch (>= 1); 1 behaves as pyabc's ``SingleCoreSampler``.
        simulate_batch: the requested particles (in order) -> their statistics (in order).
    """

    def __init__(self, batch: int, simulate_batch: Callable[[Sequence[Particle]], list[Statistics]]) -> None:
        super().__init__()
        if batch < 1:
            raise ValueError(f"batch: must be >= 1 (got {batch})")
        self.batch = batch
        self.simulate_batch = simulate_batch

    def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int, *,  # noqa: ARG002
                                max_eval: float = np.inf, all_accepted: bool = False,  # noqa: ARG002
                                ana_vars: Any = None) -> Any:  # noqa: ARG002
        sample = self._create_empty_sample()
        evaluations = 0
        while sample.n_accepted < n:
            particles, states = self._run_batch(simulate_one)
            for particle, state in zip(particles, states, strict=True):
                sample.append(particle)
                evaluations += 1
                if sample.n_accepted >= n:
                    # as a single core would stop here: the particles proposed after this one are discarded
                    # and numpy's generator is put back to where it was after this one's proposal
                    # (distances and acceptance draw nothing from it)
                    np.random.set_state(state)
                    break
        self.nr_evaluations_ = evaluations
        return sample

    def _run_batch(self, simulate_one: Callable[[], Any]) -> tuple[list[Any], list[Any]]:
        """Run ``simulate_one`` for a batch of particles: (their particles, numpy's global generator state
        after each one's proposal), in order.

        A failure or an interrupt (``KeyboardInterrupt`` from a stop signal, which Python delivers to the
        main thread only) while the main thread waits for the proposals or the packed simulation is
        re-raised once every particle thread has been released and has ended: none is left waiting.
        """
        batch = _Batch(self.batch)
        threads = [threading.Thread(target=batch.run_one, args=(k, simulate_one), daemon=True)
                   for k in range(self.batch)]
        for thread in threads:
            thread.start()
        try:
            batch.propose[0].release()
            batch.propose[self.batch].acquire()  # every particle has drawn its proposal and called the model
            wanted = [k for k, request in enumerate(batch.requests) if request is not None]
            for k, statistics in zip(wanted, self.simulate_batch([batch.requests[k] for k in wanted]), strict=True):
                batch.results[k] = statistics
        except BaseException as exc:  # noqa: BLE001 - an interrupt too: every thread is released before re-raising
            batch.error = exc
        batch.simulated.set()
        batch.evaluate[0].release()
        for thread in threads:
            thread.join()
        if batch.error is not None:
            raise batch.error
        if batch.failures:
            raise batch.failures[0]
        return batch.particles, batch.states
