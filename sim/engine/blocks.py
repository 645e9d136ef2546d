"""A run's worlds cut into blocks: the unit of parallel work, and where each block's worlds draw from.

A world's result does not depend on its block (every world draws from its own streams, keyed by the run's
``seed``, its stream ``key`` and the world's replication number: :mod:`sim.engine.streams`), so the
block size changes no output; it bounds the memory of one piece of work and shares the work between
processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.engine.streams import world_keys

BLOCK_WORLDS = 10_000
"""Worlds per block: the unit of parallel work (it does not change any result)."""


@dataclass(frozen=True)
class Block:
    """A slice of a run's worlds: replications ``first .. first + worlds - 1``."""

    index: int
    first: int
    worlds: int


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
