"""``ScenarioModel``: the ceasefire as a Mesa model with keyword parameters, for Mesa's own tools.

``mesa.batch_run``, SolaraViz and ``DataCollector`` expect a model class whose parameters are keywords
and that records what it measures. ``ScenarioModel`` gives them that around the batch engine
(:class:`sim.engine.model.CeasefireModel`)::

    import mesa, sim
    rows = mesa.batch_run(sim.ScenarioModel, parameters={"agents__UK__troops": [0, 20000]},
                          iterations=2, max_steps=365, number_processes=1)

Keywords:
    scenario: a bundled scenario name (``"baseline"``), a scenario file, or a ``sim.Scenario``; default
        ``"baseline"``. (Give a ``Scenario`` object to ``batch_run`` inside a list: ``[scenario]``.)
    worlds: independent worlds stepped together, >= 1 (default 1000).
    rng: Mesa's seed keyword. An int seeds the run: ``ScenarioModel(worlds=N, rng=s)`` steps exactly the
        worlds of ``ceasefire run`` with ``replications=N`` and ``seed=s`` (N <= 10,000, one block).
        None (what ``batch_run`` passes for each iteration) draws a fresh seed, kept in the ``seed``
        column, so iterations differ and each can be reproduced.
    any scenario path, with ``__`` for each dot: ``agents__UK__troops``, ``model__entry_cost``,
        ``structure__objection``, ``horizon_days``; ``seed`` (the scenario's seed) seeds the run when
        ``rng`` is None.

One ``step()`` is one day in every world. ``running`` turns False when no world holds or the scenario's
horizon is reached. ``datacollector`` records, on day 0 and after every step (list index = day):
``day``, ``p_holding`` (share of all worlds whose ceasefire holds, 0-1), ``credibility_mean``,
``escalation_mean`` and ``coalition_troops_mean`` (means over the worlds that hold that day, as in
``trajectories.csv``; NaN on a day no world holds, rather than a 0 that would read as a value), and
``seed``. ``batch_run`` with ``max_steps`` below the horizon reports day ``max_steps`` on Mesa 3.3 and 3.5;
for a run that ends itself Mesa 3.3 reports its last-but-one day (it reads the collector at ``steps - 1``);
the ``day`` column always says which day a row is. Seeds that work on every Mesa: ``parameters={"seed":
[1, 2, 3]}`` (Mesa 3.5 replaces an ``rng`` given in ``parameters`` by its own ``rng=`` argument).
"""

from __future__ import annotations

import difflib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.core.errors import shown
from sim.engine.blocks import Block, block_keys, block_seed
from sim.engine.model import COMPACT_ENDED_SHARE, CeasefireModel
from sim.spec.scenario import Scenario, load_scenario, set_path, validate_document

DEFAULT_SCENARIO = "baseline"
DEFAULT_WORLDS = 1000
MAX_SEED = 2**63 - 1
"""Largest scenario seed (``Scenario.seed``)."""

_OWN_KEYWORDS = ("scenario", "worlds", "rng")


def _mean_over_holding(values: np.ndarray, holding: np.ndarray) -> float:
    """Mean of ``values`` over the holding worlds; NaN when none holds."""
    count = int(np.count_nonzero(holding))
    return float(values[holding].sum() / count) if count else float("nan")


REPORTERS: dict[str, Callable[[ScenarioModel], float]] = {
    "day": lambda m: m.engine.day,
    "p_holding": lambda m: float(np.count_nonzero(m.engine.holding) / m.worlds),
    "credibility_mean": lambda m: _mean_over_holding(m.engine.credibility, m.engine.holding),
    "escalation_mean": lambda m: _mean_over_holding(m.engine.escalation, m.engine.holding),
    "coalition_troops_mean": lambda m: _mean_over_holding(m.engine.coalition_troops(), m.engine.holding),
    "seed": lambda m: m.run_seed,
}
"""Model-level reporters of ``ScenarioModel.datacollector``: column -> function of the model."""


class ScenarioModel(mesa.Model):
    """One scenario, ``worlds`` independent worlds, one day per ``step()``; see the module docstring.

    Attributes:
        config: the resolved, validated scenario (not ``scenario``, which Mesa 3.5 reserves).
        worlds: number of worlds.
        run_seed: the seed of this run (the ``seed`` column).
        engine: the :class:`sim.engine.model.CeasefireModel` stepping the worlds; its per-world arrays cover
            every world once ``running`` is False.
        datacollector: ``mesa.DataCollector`` with :data:`REPORTERS`.
    """

    def __init__(self, scenario: str | Path | Scenario = DEFAULT_SCENARIO, worlds: int = DEFAULT_WORLDS,
                 rng: Any = None, **parameters: Any) -> None:
        worlds = _check_worlds(worlds)
        base = resolve_scenario(scenario)
        paths = _check_keywords(base, parameters)
        run_seed = _run_seed(rng, parameters.get("seed"))
        config = with_overrides(base, {**paths, "seed": run_seed}, source=_source_of(scenario))
        super().__init__(rng=run_seed)
        self.config = config
        self.worlds = worlds
        self.run_seed = run_seed
        block = Block(0, 0, worlds)  # the worlds of `ceasefire run`: replications 0 .. worlds - 1
        self.engine = CeasefireModel(config, worlds, rng=block_seed(run_seed, (), block),
                                     record_trajectories=False, keys=block_keys(run_seed, (), block))
        # Mesa 3.3 keeps every model that made agents in Agent._ids (mesa #3179); the engine makes no agents
        # after its constructor, so it is let go now: memory is freed whenever the caller drops this model,
        # even when batch_run stops it at max_steps before it ends.
        self.engine.release()
        self.running = self.engine.running
        self.datacollector = mesa.DataCollector(model_reporters=dict(REPORTERS))
        self.datacollector.collect(self)

    def step(self) -> None:
        """One day in every world whose ceasefire holds, then record the day."""
        engine = self.engine
        engine.step()
        if np.count_nonzero(engine.holding) <= (1.0 - COMPACT_ENDED_SHARE) * engine.active_worlds:
            engine._compact()
        self.datacollector.collect(self)
        if not engine.running:
            self.running = False
            engine._restore()


def keyword_paths(scenario: Scenario) -> list[str]:
    """Every keyword ``ScenarioModel`` takes for a scenario path: ``agents__UK__troops``, ``seed``, ..."""
    paths: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}__{key}" if prefix else key, item)
        else:
            paths.append(prefix)

    walk("", scenario.model_dump())
    return paths


def _check_keywords(scenario: Scenario, parameters: dict[str, Any]) -> dict[str, Any]:
    """The keywords as dotted overrides, plain Python values; TypeError naming an unknown keyword."""
    valid = keyword_paths(scenario)
    overrides = {}
    for keyword, value in parameters.items():
        if keyword not in valid:
            close = difflib.get_close_matches(keyword, [*valid, *_OWN_KEYWORDS], n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else " (scenario paths take '__' for '.', " \
                                                                   "e.g. agents__UK__troops)"
            raise TypeError(f"ScenarioModel: unknown keyword {shown(keyword)}{hint}")
        overrides[keyword.replace("__", ".")] = value.item() if isinstance(value, np.generic) else value
    return overrides


def _check_worlds(worlds: Any) -> int:
    if isinstance(worlds, bool) or not isinstance(worlds, (int, np.integer)) or not 1 <= worlds <= 10_000_000:
        raise TypeError(f"ScenarioModel: worlds: must be a whole number from 1 to 10,000,000 (got {shown(worlds)})")
    return int(worlds)


def _run_seed(rng: Any, seed: Any) -> Any:
    """The run's seed: ``rng`` if given, else the ``seed`` keyword, else a fresh one (0 .. 2**63 - 1)."""
    if rng is not None and seed is not None:
        raise TypeError("ScenarioModel: give either rng or seed, not both")
    given = rng if rng is not None else seed
    if given is None:
        return secrets.randbelow(MAX_SEED + 1)
    if isinstance(given, (np.random.Generator, np.random.SeedSequence)):
        return int(np.random.default_rng(given).integers(MAX_SEED, endpoint=True))
    return given.item() if isinstance(given, np.generic) else given  # validated as the scenario's seed


def resolve_scenario(scenario: str | Path | Scenario) -> Scenario:
    """A ``Scenario`` as it is, or loaded from a bundled scenario's name or a scenario file."""
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def _source_of(scenario: str | Path | Scenario) -> Path:
    """What messages about a keyword's value name: the scenario file or name."""
    return Path(scenario.name if isinstance(scenario, Scenario) else str(scenario))


def with_overrides(scenario: Scenario, overrides: dict[str, Any], source: Path) -> Scenario:
    """``scenario`` with values set by dotted path, validated (InputError names the field)."""
    document = scenario.model_dump()
    for dotted, value in overrides.items():
        set_path(document, dotted, value, source=source)
    return validate_document(document, source=source)
