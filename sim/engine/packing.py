"""Many parameter points in one batch: the worlds of several points stepped side by side.

A day of the engine costs a fixed part (a few hundred numpy calls, whatever the number of worlds)
plus a part per world. A sweep point has 500-1,000 worlds, so run alone it is mostly fixed cost;
packed 40 to a batch of 20,000 worlds, the fixed cost is shared (``docs/performance.md``).

Packing changes no result: every world keeps its own streams, keyed by (seed, stream of its point,
replication) (``sim.engine.streams``), and parameters that differ between the points of a pack are
per-world arrays (``sim.engine.world_params``), and so are the forms of the contested mechanisms where they
differ (``sim.mechanisms.MixedForm``: every form present computed for every world, each world taking
its own). Points that differ in a parameter that cannot be per world, or in horizon or start date, go to
different packs. ``tests/test_packing.py`` checks that packed and one-by-one runs give the same bytes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import pandas as pd

from sim.engine import compiled
from sim.engine.model import CeasefireModel
from sim.engine.runner import WorkersStoppedError, local_executor, run_records
from sim.engine.streams import world_keys
from sim.engine.world_params import PACKABLE
from sim.mechanisms import REGISTRY
from sim.spec.scenario import Scenario

PACK_WORLDS = 20_000
"""Worlds per pack: enough to share the fixed cost of a day, few enough to keep memory flat
(about 2 KB per world while it runs)."""

_PACKED_BLOCKS = ("model", "agents", "structure")


def flat_values(scenario: Scenario) -> dict[str, Any]:
    """Every parameter of ``scenario`` by dotted path (``model.*``, ``agents.CODE.*``)."""
    values: dict[str, Any] = {f"model.{k}": v for k, v in scenario.model.model_dump().items()}
    for code, block in scenario.agents.model_dump().items():
        values.update({f"agents.{code}.{k}": v for k, v in block.items()})
    return values


def pack_signature(scenario: Scenario) -> str:
    """What points of one pack must share: everything but the packable parameters, the structure,
    replications and seed (the worlds' keys carry the seed)."""
    fixed = {path: value for path, value in flat_values(scenario).items() if path not in PACKABLE}
    rest = scenario.model_dump(mode="json", exclude={"name", "description", "replications", "seed", *_PACKED_BLOCKS})
    return repr((sorted(fixed.items()), sorted(rest.items())))


def plan_packs(scenarios: Sequence[Scenario], pack_worlds: int = PACK_WORLDS) -> list[list[int]]:
    """Indices of ``scenarios`` grouped into packs: same :func:`pack_signature`, at most ``pack_worlds``
    worlds each (a point with more worlds than that is a pack of its own); in order of first index.

    Within a group, the points of each structure are packed first on their own; then the last pack of
    each structure goes whole into the first pack with room for it, largest first. So a pack mixes
    structures (and pays for every form present in each of its worlds) only where one structure's worlds
    do not fill it."""
    groups: dict[str, dict[str, list[int]]] = {}
    for index, scenario in enumerate(scenarios):
        structure = repr(sorted(scenario.structure.model_dump().items()))
        groups.setdefault(pack_signature(scenario), {}).setdefault(structure, []).append(index)
    packs: list[list[int]] = []
    for by_structure in groups.values():
        tails: list[tuple[int, list[int]]] = []
        for members in by_structure.values():
            sizes = [scenarios[i].replications for i in members]
            *full, tail = [[members[k] for k in run] for run in _consecutive_runs(sizes, pack_worlds)]
            packs.extend(full)
            tails.append((sum(scenarios[i].replications for i in tail), tail))
        merged: list[tuple[int, list[int]]] = []
        for worlds, tail in sorted(tails, key=lambda item: -item[0]):  # stable: ties keep first-seen order
            room = next((k for k, (used, _) in enumerate(merged) if used + worlds <= pack_worlds), None)
            if room is None:
                merged.append((worlds, list(tail)))
            else:
                merged[room] = (merged[room][0] + worlds, merged[room][1] + tail)
        packs.extend(members for _, members in merged)
    return sorted(packs, key=lambda pack: pack[0])


def _consecutive_runs(sizes: Sequence[int], limit: int) -> list[list[int]]:
    """Positions ``0 .. len(sizes) - 1`` in order, cut into runs whose sizes add up to at most ``limit`` (a size
    over the limit is a run of its own); one empty run if ``sizes`` is empty."""
    runs: list[list[int]] = [[]]
    total = 0
    for position, size in enumerate(sizes):
        if runs[-1] and total + size > limit:
            runs.append([])
            total = 0
        runs[-1].append(position)
        total += size
    return runs


def run_pack(scenarios: Sequence[Scenario], streams: Sequence[Sequence[int]],
             pack_worlds: int = PACK_WORLDS,
             world_values: Sequence[Mapping[str, np.ndarray] | None] | None = None) -> list[pd.DataFrame]:
    """Run the worlds of the points of one pack side by side; their ``runs.csv`` rows, one table per point.

    Args:
        scenarios: the points (same :func:`pack_signature`); point ``i`` has ``replications`` worlds,
            replications ``0 .. replications - 1`` of the stream ``streams[i]`` of its seed.
        streams: each point's stream key (``()`` for common random numbers with ``ceasefire run``).
        pack_worlds: most worlds per model; more are run one model after another (same results).
        world_values: per point, optional per-world values (dotted path in ``PACKABLE`` -> one value per
            replication) that replace the scenario's value of that parameter, e.g. posterior draws.
    """
    world_values = list(world_values) if world_values is not None else [None] * len(scenarios)
    _check_signatures(scenarios)
    values = [_point_values(scenario, own) for scenario, own in zip(scenarios, world_values, strict=True)]
    varied = [path for path in sorted(PACKABLE)
              if any(isinstance(v[path], np.ndarray) for v in values) or len({v[path] for v in values}) > 1]
    # the pack's worlds as (point, first replication, count) slices, run in models of <= pack_worlds worlds
    slices = [(i, first, min(pack_worlds, scenario.replications - first))
              for i, scenario in enumerate(scenarios) for first in range(0, scenario.replications, pack_worlds)]
    parts: list[list[pd.DataFrame]] = [[] for _ in scenarios]
    for run in _consecutive_runs([n for *_, n in slices], pack_worlds):
        chunk = [slices[k] for k in run]
        for (i, _, _), runs in zip(chunk, _run_slices(scenarios, streams, values, varied, chunk), strict=True):
            parts[i].append(runs)
    return [part[0] if len(part) == 1 else pd.concat(part, ignore_index=True) for part in parts]


def _check_signatures(scenarios: Sequence[Scenario]) -> None:
    """ValueError unless there are points and they share the first one's :func:`pack_signature`."""
    if not scenarios:
        raise ValueError("a pack needs at least one point")
    signature = pack_signature(scenarios[0])
    for scenario in scenarios[1:]:
        if pack_signature(scenario) != signature:
            raise ValueError(f"{scenario.name}: differs from the first point of the pack in a parameter that "
                             "cannot be per world")


def _point_values(scenario: Scenario, own: Mapping[str, np.ndarray] | None) -> dict[str, Any]:
    """Every parameter of one point by dotted path (:func:`flat_values`), its ``own`` per-world values replacing
    the scenario's; ValueError for a path not in ``PACKABLE`` or an array of the wrong length."""
    flat = flat_values(scenario)
    for path, per_world in (own or {}).items():
        if path not in PACKABLE:
            raise ValueError(f"{path} cannot differ between the worlds of a batch (see world_params.PACKABLE)")
        if np.shape(per_world) != (scenario.replications,):
            raise ValueError(f"{path}: {np.size(per_world)} values for {scenario.replications} worlds")
        flat[path] = np.asarray(per_world, dtype=float)
    return flat


def _run_slices(scenarios: Sequence[Scenario], streams: Sequence[Sequence[int]], values: list[dict[str, Any]],
                varied: list[str], chunk: list[tuple[int, int, int]]) -> list[pd.DataFrame]:
    """One model over the world slices ``chunk``; the ``runs`` rows of each slice."""
    compiled.want()  # a packed job runs many points: loading the compiled kernels (if installed) pays
    keys = np.concatenate([world_keys(scenarios[i].seed, streams[i], np.arange(first, first + n))
                           for i, first, n in chunk])
    world_values = {path: np.concatenate([_slice(values[i][path], first, n) for i, first, n in chunk])
                    for path in varied}
    world_forms = {mechanism: np.concatenate([np.full(n, getattr(scenarios[i].structure, mechanism))
                                              for i, _, n in chunk])
                   for mechanism in REGISTRY
                   if len({getattr(scenarios[i].structure, mechanism) for i, _, _ in chunk}) > 1}
    base = scenarios[chunk[0][0]]
    model = CeasefireModel(base, len(keys), rng=np.random.SeedSequence(base.seed), record_trajectories=False,
                           keys=keys, world_values=world_values, world_forms=world_forms).run()
    model.release()
    runs = run_records(model)
    out = []
    start = 0
    for _, first, n in chunk:
        part = runs.iloc[start:start + n].reset_index(drop=True)
        part["replication"] = np.arange(first, first + n)
        out.append(part)
        start += n
    return out


def _slice(value: Any, first: int, n: int) -> np.ndarray:
    """Replications ``first .. first + n - 1`` of a per-world array, or ``n`` copies of a scalar."""
    return value[first:first + n] if isinstance(value, np.ndarray) else np.full(n, float(value))


def run_packed(scenarios: Sequence[Scenario], streams: Sequence[Sequence[int]], pack_worlds: int = PACK_WORLDS,
               done: Callable[[int, pd.DataFrame], None] | None = None, workers: int = 1,
               world_values: Sequence[Mapping[str, np.ndarray] | None] | None = None,
               executor: Executor | None = None) -> list[pd.DataFrame]:
    """Run many points, packed; the ``runs`` table of each, in order (the same whatever ``workers``).

    Args:
        streams: each point's stream key (see :func:`run_pack`).
        pack_worlds: most worlds per pack; with several workers, packs are made smaller if that keeps
            every worker busy.
        done: ``done(index, runs)`` is called as each point finishes.
        workers: local processes (>= 1); 1 runs in this process.
        world_values: per point, optional per-world parameter values (see :func:`run_pack`).
        executor: a running process pool to use (kept open) instead of starting ``workers`` processes.

    Raises:
        sim.engine.runner.WorkersStoppedError: with ``workers > 1``, the worker processes stopped.
    """
    if workers > 1:
        total = sum(scenario.replications for scenario in scenarios)
        pack_worlds = max(1, min(pack_worlds, math.ceil(total / (2 * workers))))
    packs = plan_packs(scenarios, pack_worlds)
    out: list[pd.DataFrame] = [pd.DataFrame()] * len(scenarios)

    own = list(world_values) if world_values is not None else [None] * len(scenarios)

    def arguments(pack: list[int]) -> tuple[Any, ...]:
        return [scenarios[i] for i in pack], [streams[i] for i in pack], pack_worlds, [own[i] for i in pack]

    def finished(pack: list[int], parts: list[pd.DataFrame]) -> None:
        for index, part in zip(pack, parts, strict=True):
            out[index] = part
            if done is not None:
                done(index, part)

    if workers <= 1 or len(packs) <= 1:
        for pack in packs:
            finished(pack, run_pack(*arguments(pack)))
        return out
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(local_executor(min(workers, len(packs))))
        futures = {executor.submit(run_pack, *arguments(pack)): k for k, pack in enumerate(packs)}
        try:
            for future in as_completed(futures):
                finished(packs[futures[future]], future.result())
        except BrokenProcessPool:
            raise WorkersStoppedError(workers) from None
        finally:
            for future in futures:
                future.cancel()
    return out
