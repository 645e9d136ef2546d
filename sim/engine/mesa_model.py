"""``ScenarioModel``: the ceasefire as a Mesa model with keyword parameters, for Mesa's own tools.

``mesa.batch_run``, SolaraViz and ``DataCollector`` expect a model class whose parameters are keywords
and that records what it measures. ``ScenarioModel`` gives them that around the batch engine
(:class:`sim.engine.model.CeasefireModel`)::

    import mesa, sim
    rows = mesa.batch_run(sim.ScenarioModel, parameters={"agents__UK__troops": [0, 20000], "seed": [1, 2]},
                          max_steps=365, number_processes=1)
    model = sim.ScenarioModel(worlds=500, rng=42, agents__UK__troops=20000)   # one run, seeded with rng=

(Seeds go in ``parameters={"seed": [...]}`` on every Mesa, or ``rng=[1, 2]`` on Mesa 3.5, not the deprecated
``iterations=``.)

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
``trajectories.csv``; NaN on a day no world holds, rather than a 0 that would read as a value), ``seed``, and
the headlines of ``summary.csv`` as the run reaches them (:data:`HEADLINE_REPORTERS`): ``p_agreed`` (P(deal),
known from day 0), ``p_hold_90`` and ``p_hold_365`` (NaN before that day, then fixed) and ``p_hold_horizon``
(NaN until the run ends); a finished run's values are ``run_scenario``'s for the same worlds.
Agent reporters: one Mesa agent per state (:class:`StateView`: ``code``, ``role``, and ``troops``,
``resolve`` and ``support``, means over the holding worlds, NaN where the state has none), so
``DataCollector(agent_reporters={"troops": "troops"})`` or ``batch_run``'s agent rows work.
``batch_run`` with ``max_steps`` below the horizon reports day ``max_steps`` on Mesa 3.3 and 3.5; for a run
that ends itself Mesa 3.3 reports its last-but-one day (it reads the collector at ``steps - 1``);
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


HOLD_DAYS: tuple[int, ...] = (90, 365)
"""Days of the ``p_hold_<d>`` reporters (as in ``summary.csv``)."""


def _p_hold(day: int) -> Callable[[ScenarioModel], float]:
    return lambda m: m.held.get(day, float("nan"))


HEADLINE_REPORTERS: dict[str, Callable[[ScenarioModel], float]] = {
    "p_agreed": lambda m: m.n_agreed / m.worlds,
    **{f"p_hold_{day}": _p_hold(day) for day in HOLD_DAYS},
    "p_hold_horizon": lambda m: m.held.get(m.config.horizon_days, float("nan")) if not m.running else float("nan"),
}
"""The headlines as model reporters: P(deal) and P(hold at d days) over all worlds (NaN until known)."""

REPORTERS: dict[str, Callable[[ScenarioModel], float]] = {
    "day": lambda m: m.engine.day,
    "p_holding": lambda m: float(np.count_nonzero(m.engine.holding) / m.worlds),
    "credibility_mean": lambda m: _mean_over_holding(m.engine.credibility, m.engine.holding),
    "escalation_mean": lambda m: _mean_over_holding(m.engine.escalation, m.engine.holding),
    "coalition_troops_mean": lambda m: _mean_over_holding(m.engine.coalition_troops(), m.engine.holding),
    "seed": lambda m: m.run_seed,
    **HEADLINE_REPORTERS,
}
"""Model-level reporters of ``ScenarioModel.datacollector``: column -> function of the model."""

AGENT_REPORTERS: dict[str, str] = {"code": "code", "troops": "troops", "resolve": "resolve", "support": "support"}
"""Agent-level reporters of ``ScenarioModel.datacollector``: one row per state and day."""

ROLES = {"UK": "guarantor", "FR": "guarantor", "DE": "conditional_guarantor", "US": "monitor", "UA": "defender",
         "RU": "aggressor"}


class StateView(mesa.Agent):
    """One state of the scenario as a Mesa agent: its aggregate over the worlds that hold, refreshed each day.

    Attributes:
        code: UK, FR, DE, US, UA or RU; role: its role in the model.
        troops, resolve, support: means over the holding worlds of the state's own per-world values (NaN
            where the state has no such value, or no world holds).
    """

    def __init__(self, model: ScenarioModel, code: str) -> None:
        super().__init__(model)
        self.code, self.role = code, ROLES[code]
        self.troops = self.resolve = self.support = float("nan")

    def refresh(self, state: Any, holding: np.ndarray) -> None:
        """Read the engine's state ``state`` (its per-world arrays cover the engine's active worlds)."""
        for name in ("troops", "resolve", "support"):
            values = getattr(state, name, getattr(state.params, name, None))  # its own, else its parameter's
            if isinstance(values, np.ndarray) and values.shape == holding.shape:
                setattr(self, name, _mean_over_holding(values, holding))
            elif isinstance(values, (int, float)) and not isinstance(values, bool):
                setattr(self, name, float(values) if np.count_nonzero(holding) else float("nan"))


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
        self.n_agreed = int(np.count_nonzero(self.engine.agreed))
        self.held: dict[int, float] = {}  # day -> P(hold on that day), over all worlds, once reached
        self.states = [StateView(self, code) for code in ROLES]
        _forget_model(self)  # the same Mesa 3.3 registry, for this model's own agents
        self._refresh()
        self.datacollector = mesa.DataCollector(model_reporters=dict(REPORTERS),
                                                agent_reporters=dict(AGENT_REPORTERS))
        self.datacollector.collect(self)

    def _refresh(self) -> None:
        """The day's headlines reached and the states' aggregates."""
        engine = self.engine
        share = float(np.count_nonzero(engine.holding) / self.worlds)
        horizon = self.config.horizon_days
        for day in (*HOLD_DAYS, horizon):  # a run that ends early (no world holds) holds 0 from then on
            if day <= horizon and (engine.day == day or (not engine.running and engine.day < day)):
                self.held[day] = share
        for view in self.states:
            view.refresh(getattr(engine, view.code.lower()), engine.holding)

    def step(self) -> None:
        """One day in every world whose ceasefire holds, then record the day."""
        engine = self.engine
        engine.step()
        if np.count_nonzero(engine.holding) <= (1.0 - COMPACT_ENDED_SHARE) * engine.active_worlds:
            engine._compact()
        self.running = engine.running
        self._refresh()
        self.datacollector.collect(self)
        if not engine.running:
            engine._restore()


def _forget_model(model: mesa.Model) -> None:
    """Drop ``model`` from Mesa 3.3's ``Agent._ids`` (mesa #3179), which would otherwise keep it alive."""
    registry = getattr(mesa.Agent, "_ids", None)
    if isinstance(registry, dict):
        registry.pop(model, None)


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
