"""The ceasefire model: a ``mesa.Model`` stepping a batch of independent worlds, one day per step.

Day 0 is the agreement phase (``__init__``, in named steps); each ``step()`` is one day of ceasefire in
every world whose ceasefire still holds, and reads as the process overview of docs/ODD.md (section 3): one
method per phase, in order, each citing its equations. Worlds that never agreed or have broken down are
masked out and keep their final state; ``run()`` also drops them from the arrays it steps once they are a
sixteenth of them (compaction) and restores every array to all worlds, in order, when it finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from sim.core.numeric import logistic
from sim.engine.agents import (
    Aggressor,
    ConditionalGuarantor,
    Defender,
    Guarantor,
    Monitor,
    guarantee_strength,
)
from sim.engine.streams import Lane, events_due, first_events, uniforms, world_keys
from sim.engine.world_params import ParamView, at, split_world_values
from sim.mechanisms import REGISTRY, MixedForm
from sim.spec.calendar import election_days
from sim.spec.scenario import Scenario

CAUSE_CODES: dict[str, int] = {
    "held": 0,
    "no_deal": 1,
    "major_offensive": 2,
    "escalation_spiral": 3,
    "ukrainian_withdrawal": 4,
}
"""Integer code of each ``cause``; the names are those of ``runs.csv``."""

TRAJECTORY_VARIABLES: tuple[str, ...] = ("credibility", "escalation", "coalition_troops", "detection_probability")
"""Per-day quantities recorded over the worlds whose ceasefire holds."""

AGENT_CODES: tuple[str, ...] = ("RU", "UK", "FR", "DE", "US", "UA")
"""The six states, in the order the model creates their agents."""

FORM_ATTRIBUTES: dict[str, str] = {
    "objection": "objection_form", "capability": "capability_form", "credibility": "credibility_form",
    "escalation": "spiral_form", "acceptance": "acceptance_form", "presence": "presence_form",
    "deployment": "deployment_form", "types": "types_form", "offensive": "offensive_form",
    "duration": "duration_form", "ukraine": "ukraine_form", "impatience": "impatience_form",
}
"""The model's attribute holding each mechanism's form function."""

COMPACT_ENDED_SHARE = 0.0625
"""``run()`` drops ended worlds from the stepped arrays once they are this share of them (no effect on
any result: every draw belongs to one world, ``sim.engine.streams``)."""

_PROBE_LANES = (Lane.PROBE_VERIFICATION, Lane.SANCTION_AND_RETALIATION, Lane.ANSWER_UK_FR, Lane.ANSWER_DE)


def make_generator(seed: int | np.random.SeedSequence | None) -> np.random.Generator:
    """Mesa's random number generator for the model: numpy's SFC64 bit generator seeded with ``seed``.

    The engine's own draws do not come from it but from each world's streams (``sim.engine.streams``).
    """
    return np.random.Generator(np.random.SFC64(seed))


@dataclass
class Forces:
    """Today's forces and what follows from them (ODD 1, 7, 23), per stepped world (``assess_forces``)."""

    ground: np.ndarray  # effective ground troops F (ODD 1)
    air_maritime: np.ndarray  # capability of the air and maritime roles A (ODD 1)
    in_ukraine: np.ndarray  # European ground troops inside Ukraine
    capability: np.ndarray  # C, in the scenario's capability form (ODD 1)
    hostility: np.ndarray  # hostility the foreign presence provokes in Russia (ODD 7)


@dataclass
class Incidents:
    """Today's incidents along the contact line, per stepped world (ODD 5-6)."""

    total: np.ndarray  # count
    detected: np.ndarray  # count detected by the US


@dataclass
class Probes:
    """Today's probes (ODD 8-12): ``worlds`` are the indices of the worlds that probe today, and every other
    array holds one value per such world."""

    worlds: np.ndarray
    detected: np.ndarray  # the US detected the probe
    blamed: np.ndarray  # detected and attributed to Russia
    answered_by: dict[Guarantor, np.ndarray]  # whether each guarantor answered
    answered: np.ndarray  # whether any guarantor answered
    sanctioned: np.ndarray  # the US imposed new sanctions
    retaliated: np.ndarray  # Ukraine retaliated


@dataclass
class Spoilers:
    """Today's spoiler attacks (ODD 24): the indices of the live worlds attacked and, per such world, whether
    the attack was verified and rightly attributed (so handled jointly)."""

    worlds: np.ndarray
    handled: np.ndarray


class CeasefireModel(mesa.Model):
    """A batch of ``worlds`` independent copies of one scenario, stepped together.

    Args:
        scenario: the validated scenario (its ``replications`` and ``seed`` are not used here).
        worlds: number of independent worlds in this batch, >= 1.
        rng: numpy Generator for Mesa's random number generator, or a seed (int or SeedSequence) for
            one built by ``make_generator``.
        record_trajectories: keep per-day values of ``TRAJECTORY_VARIABLES`` in ``trajectories``.
        keys: each world's 64-bit stream key (``sim.engine.streams.world_keys``); by default worlds
            ``0 .. worlds - 1`` of ``rng`` (a seed), or keys drawn from ``rng`` (a Generator).
        world_values: dotted path (in ``sim.engine.world_params.PACKABLE``) -> one value per world, for the
            parameters that differ between the worlds of this batch.
        world_forms: mechanism (in ``sim.mechanisms.REGISTRY``) -> one form name per world, for the
            mechanisms whose form differs between the worlds of this batch (the scenario's ``structure``
            gives the others).

    Attributes:
        config: the scenario (not ``scenario``, which Mesa 3.5 reserves).
        day: days elapsed since the ceasefire began (0 during the agreement phase).
        trajectories: variable -> array (horizon + 1, worlds), NaN where the ceasefire does not hold.
        agreed, holding: per world, whether a deal was reached and whether it still holds.
        breakdown_day: day the ceasefire broke down, -1 where it did not.
        cause: code from ``CAUSE_CODES`` per world.
        escalation, sanctions: per-world levels (dimensionless, >= 0).
        form_index: mechanism -> each world's form (an index into its ``MixedForm``), for the mechanisms
            whose form differs between the worlds of this batch.
        rearmament_level: country code (RU, UA) -> each world's rearmament rate (an index into
            ``rearmament_rates[code]``), for the countries whose rate differs between the worlds.
    """

    world_state = (
        "world_ids", "agreed", "agreed_guarantee", "holding", "escalation", "sanctions", "breakdown_day", "cause",
        "incidents", "detected_violations", "probes", "detected_probes", "responses", "sanctions_imposed",
        "spoiler_events", "eroded", "credibility", "keys", "spoiler_draws", "next_spoiler_day", "institution",
    )
    """Attributes of the model that are per-world arrays (the agents list their own); ``_force_ratio_0`` is
    added where it differs between worlds."""

    world_state_maps = ("form_index", "rearmament_level")
    """Attributes of the model that map a name to a per-world array, every entry compacted with the worlds."""

    def __init__(
        self,
        scenario: Scenario,
        worlds: int,
        rng: int | np.random.SeedSequence | np.random.Generator | None = None,
        record_trajectories: bool = True,
        keys: np.ndarray | None = None,
        world_values: dict[str, np.ndarray] | None = None,
        world_forms: dict[str, np.ndarray] | None = None,
    ) -> None:
        super().__init__(rng=rng if isinstance(rng, np.random.Generator) else make_generator(rng))
        self.worlds = int(worlds)
        self.keys = self._world_keys(rng, keys)
        self.config = scenario
        self.horizon_days = scenario.horizon_days
        self.day = 0
        self.world_ids = np.arange(self.worlds)  # original index of each element of the state arrays
        self.world_state = type(self).world_state
        self._read_parameters(scenario, world_values)
        self._wire_forms(scenario, world_forms)
        self.elections = self._election_calendar(scenario)
        self.electoral_days = self._electoral_days()
        self._index_rearmament_rates()
        self._create_agents()
        self._start_world_state(record_trajectories)
        self._agreement_phase()

    # --- the steps of __init__, in order ------------------------------------------------------

    def _world_keys(self, rng: int | np.random.SeedSequence | np.random.Generator | None,
                    keys: np.ndarray | None) -> np.ndarray:
        """Each world's stream key: ``keys`` if given, else drawn from ``rng`` (a Generator), else worlds
        ``0 .. worlds - 1`` of the seed ``rng``."""
        if keys is None:
            if isinstance(rng, np.random.Generator):
                keys = rng.integers(0, 2**64 - 1, self.worlds, dtype=np.uint64, endpoint=True)
            else:
                seed = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(rng)
                keys = world_keys(seed, (), np.arange(self.worlds))
        keys = np.asarray(keys, dtype=np.uint64)
        if keys.shape != (self.worlds,):
            raise ValueError(f"{keys.size} keys for {self.worlds} worlds")
        return keys

    def _read_parameters(self, scenario: Scenario, world_values: dict[str, np.ndarray] | None) -> None:
        """``params`` (the model's block) and one :class:`ParamView` per agent, with ``world_values`` as
        per-world arrays."""
        views = split_world_values(world_values, self.worlds)
        self.params = ParamView(scenario.model, views.get("model"))
        self.agent_params = {code: ParamView(getattr(scenario.agents, code), views.get(f"agents.{code}"))
                             for code in AGENT_CODES}

    def _wire_forms(self, scenario: Scenario, world_forms: dict[str, np.ndarray] | None) -> None:
        """Each mechanism's form function (ODD 7.2): the scenario's, or a :class:`~sim.mechanisms.MixedForm`
        over ``form_index[mechanism]`` where ``world_forms`` gives the worlds different forms."""
        world_forms = dict(world_forms or {})
        unknown = sorted(set(world_forms) - set(REGISTRY))
        if unknown:
            raise ValueError(f"world_forms: no mechanism named {', '.join(unknown)} (see sim.mechanisms.REGISTRY)")
        self.form_index: dict[str, np.ndarray] = {}
        forms = {mechanism: self._form(mechanism, getattr(scenario.structure, mechanism), world_forms.get(mechanism))
                 for mechanism in REGISTRY}
        for mechanism, attribute in FORM_ATTRIBUTES.items():
            setattr(self, attribute, forms[mechanism])

    def _form(self, mechanism: str, scenario_form: str, per_world: np.ndarray | None) -> Callable[..., np.ndarray]:
        """The form function of ``mechanism``: ``scenario_form``, or the forms named ``per_world`` (one name per
        world), mixed where they differ (their index per world goes into ``form_index[mechanism]``)."""
        forms = REGISTRY[mechanism]
        if per_world is None:
            return forms[scenario_form]
        per_world = np.asarray(per_world, dtype=str)
        if per_world.shape != (self.worlds,):
            raise ValueError(f"world_forms[{mechanism!r}]: {per_world.size} forms for {self.worlds} worlds")
        names, index = np.unique(per_world, return_inverse=True)
        wrong = sorted(set(names) - set(forms))
        if wrong:
            raise ValueError(f"world_forms[{mechanism!r}]: no form named {', '.join(wrong)}")
        if names.size == 1:
            return forms[str(names[0])]
        self.form_index[mechanism] = index
        return MixedForm([forms[name] for name in names], self.form_index, mechanism)

    def _election_calendar(self, scenario: Scenario) -> dict[int, list[str]]:
        """Day -> codes of the states holding an election that day, within the horizon (ODD 22)."""
        elections: dict[int, list[str]] = {}
        for day, code in election_days(scenario.start_date, self.horizon_days):
            elections.setdefault(day, []).append(code)
        return elections

    def _electoral_days(self) -> np.ndarray:
        """Every election's day within the horizon, one entry per electing state (ODD 22, 27)."""
        return np.array([day for day, codes in sorted(self.elections.items()) for _ in codes], dtype=float)

    def _index_rearmament_rates(self) -> None:
        """``rearmament_rates`` and ``rearmament_level`` for Russia and Ukraine where their rate is per world.

        A per-world rearmament rate takes few values (one per point of a pack): each world's growth of forces
        is computed with Python's power of its value, as for a number (numpy's vectorised power can differ in
        the last bit), and gathered by each world's level.
        """
        self.rearmament_rates: dict[str, np.ndarray] = {}  # code -> the distinct rates of the batch
        self.rearmament_level: dict[str, np.ndarray] = {}
        self._growth_by_level: dict[str, tuple[float, np.ndarray]] = {}
        for code in ("RU", "UA"):
            rate = self.agent_params[code].rearmament_rate
            if isinstance(rate, np.ndarray):
                self.rearmament_rates[code], self.rearmament_level[code] = np.unique(rate, return_inverse=True)

    def _create_agents(self) -> None:
        """The six states, Russia's prior belief (ODD 4) and the balance of forces on day 0 (ODD 16, 23)."""
        params = self.agent_params
        self.ru = Aggressor(self, "RU", params["RU"])
        self.uk = Guarantor(self, "UK", params["UK"])
        self.fr = Guarantor(self, "FR", params["FR"])
        self.de = ConditionalGuarantor(self, "DE", params["DE"])
        self.us = Monitor(self, "US", params["US"])
        self.ua = Defender(self, "UA", params["UA"])
        self.guarantors: list[Guarantor] = [self.uk, self.fr, self.de]
        self.guarantor_set = AgentSet(self.guarantors, random=self.random)
        self.ru.form_prior(self._bases_in_ukraine())
        self._force_ratio_0 = self._force_ratio(0)
        if isinstance(self._force_ratio_0, np.ndarray):  # per world: compacted with the worlds
            self.world_state += ("_force_ratio_0",)

    def _start_world_state(self, record_trajectories: bool) -> None:
        """The model's per-world state on day 0, the first spoiler attack's day (ODD 24) and the trajectories."""
        n = self.worlds
        self.escalation = np.zeros(n)
        self.sanctions = np.zeros(n)
        self.breakdown_day = np.full(n, -1, dtype=np.int64)
        self.cause = np.zeros(n, dtype=np.int8)
        self.incidents = np.zeros(n, dtype=np.int64)
        self.detected_violations = np.zeros(n, dtype=np.int64)
        self.probes = np.zeros(n, dtype=np.int64)
        self.detected_probes = np.zeros(n, dtype=np.int64)
        self.responses = np.zeros(n, dtype=np.int64)
        self.sanctions_imposed = np.zeros(n, dtype=np.int64)
        self.spoiler_events = np.zeros(n, dtype=np.int64)
        self.eroded = np.zeros(n, dtype=bool)  # troops or monitoring were withdrawn in this world
        self.credibility = np.zeros(n)  # today's, set by assess_credibility
        self.institution = np.zeros(n)  # what holding has built, 0-1 (ODD 26)
        # spoiler attacks: each world's next attack day, drawn as geometric gaps (ODD 24)
        self.next_spoiler_day, self.spoiler_draws = first_events(self.keys, Lane.SPOILER_GAP, self.params.spoiler_rate)
        self._trajectories: dict[str, np.ndarray] | None = None
        if record_trajectories:
            self._trajectories = {name: np.full((self.horizon_days + 1, n), np.nan, dtype=np.float32)
                                  for name in TRAJECTORY_VARIABLES}
        self._blanked = True  # no stepped world's recorded values wait to be blanked (_blank_ended)
        self._archive: dict[tuple[int, str], np.ndarray] = {}

    def _agreement_phase(self) -> None:
        """Day 0: the guarantee Ukraine is offered (ODD 2) and the negotiation (ODD 3); worlds without a deal
        end with cause ``no_deal``."""
        self.agreed_guarantee = self.guarantee()
        self.agreed = self.negotiate()
        self.holding = self.agreed.copy()
        self.cause[~self.agreed] = CAUSE_CODES["no_deal"]
        self.running = bool(self.holding.any()) and self.horizon_days > 0
        self._record()

    def negotiate(self) -> np.ndarray:
        """Day 0: up to ``US.mediation_rounds`` rounds; a deal needs both sides to accept in one (ODD 3).

        Russia weighs the deal's terms and the guarantee's expected cost K0, which includes the foreseen
        entry of Germany's troops (ODD 27); Ukraine weighs the guarantee, and in the terms form the war's costs,
        its military situation a year ahead and the terms."""
        m, ru = self.params, self.ru.params
        presence = self.presence()
        price = self.objection_form(presence, ru.troop_objection, m.objection_scale, m.presence_half / m.troop_scale) \
            + ru.bases_price * self._bases_in_ukraine()
        base = ru.acceptance_logit + ru.war_cost + m.pressure_weight * self.us.params.resolve - price \
            + ru.terms_weight * self.terms_index()
        expected_cost = self.expected_cost(self.assess_credibility(), self.capability(0))
        expected_cost = expected_cost + m.foresight * self._foreseen_entry(expected_cost)
        russia = logistic(self.acceptance_form(base, self.ru.intent, expected_cost, ru.table_gain, ru.resolve))
        ukraine = self.ua.acceptance_probability(self.agreed_guarantee, self._force_ratio(365), self.terms_index())
        agreed = np.zeros(self.active_worlds, dtype=bool)
        rounds = self.us.params.mediation_rounds  # per world, possibly: each world stops after its own
        for round_ in range(int(np.max(rounds))):
            u_ukraine, u_russia = uniforms(self.keys, (Lane.NEGOTIATION,), round_)
            accepted = (u_ukraine < ukraine) & (u_russia < russia)
            if isinstance(rounds, np.ndarray):
                accepted &= round_ < rounds
            agreed |= accepted
        return agreed

    @property
    def active_worlds(self) -> int:
        """Length of the state arrays now: all worlds, or fewer while ``run()`` has compacted them."""
        return len(self.world_ids)

    # --- forces in the zone: the same in every world on a given day, unless rearmament is per world ----------

    def forces(self, day: int) -> tuple[float | np.ndarray, float | np.ndarray]:
        """Russian and Ukrainian troops in the zone on ``day``, after rearmament (ODD 23); Ukraine's under the
        deal's cap on its forces (``terms_force_cap``, the share of its forces the cap leaves)."""
        ru, ua = self.ru.params, self.ua.params
        years = day / 365.0
        return ru.troops * self._growth("RU", ru.rearmament_rate, years), \
            ua.troops * self.params.terms_force_cap * self._growth("UA", ua.rearmament_rate, years)

    def terms_index(self) -> float | np.ndarray:
        """How far the deal's terms favour Russia, 0-1: the weighted mean of territory ceded, sanctions relief,
        neutrality and the share of Ukraine's forces the cap removes (ODD 3)."""
        m = self.params
        weights = m.territory_weight + m.relief_weight + m.neutrality_weight + m.force_cap_weight
        total = m.territory_weight * m.terms_territory + m.relief_weight * m.terms_sanctions_relief \
            + m.neutrality_weight * m.terms_neutrality + m.force_cap_weight * (1.0 - m.terms_force_cap)
        return np.divide(total, weights, out=np.zeros(np.shape(weights)), where=weights > 0) \
            if isinstance(weights, np.ndarray) else (total / weights if weights > 0 else 0.0)

    def _growth(self, code: str, rate: float | np.ndarray, years: float) -> float | np.ndarray:
        """``(1 + rate) ** years``: a number, or per world from each distinct rate's number."""
        if not isinstance(rate, np.ndarray):
            return (1.0 + rate) ** years
        cached = self._growth_by_level.get(code)
        if cached is None or cached[0] != years:  # forces are asked for several times a day
            cached = (years, np.array([(1.0 + float(rate)) ** years for rate in self.rearmament_rates[code]]))
            self._growth_by_level[code] = cached
        return cached[1][self.rearmament_level[code]]

    def _force_ratio(self, day: int) -> float | np.ndarray:
        russian, ukrainian = self.forces(day)
        if isinstance(russian, np.ndarray) or isinstance(ukrainian, np.ndarray):
            russian, ukrainian = np.broadcast_arrays(russian, ukrainian)
            return np.divide(russian, ukrainian, out=np.ones(russian.shape), where=(russian > 0) & (ukrainian > 0))
        return russian / ukrainian if russian > 0 and ukrainian > 0 else 1.0

    def drive(self, day: int) -> tuple[float | np.ndarray, float | np.ndarray, float | np.ndarray]:
        """What drives Russia to attack on ``day`` (ODD 16, 27), per world where Russia's gain, resolve, the
        power-shift weight or a rearmament rate are per world: (drive, value, shift).

        drive: the hazard form's log-hazard drive, gain plus the power shift since day 0; value: the choice
        form's offensive_value x resolve x Russia's share of the forces; shift: the power-shift term.
        """
        p, m = self.ru.params, self.params
        russian, ukrainian = self.forces(day)
        total = russian + ukrainian
        if isinstance(total, np.ndarray):
            share = np.divide(russian, total, out=np.full(total.shape, 0.5), where=total > 0)
        else:
            share = russian / total if total > 0 else 0.5
        shift = m.power_shift_weight * np.log(self._force_ratio(day) / self._force_ratio_0)
        return p.offensive_gain * p.resolve * share + shift, p.offensive_value * p.resolve * share, shift

    # --- quantities derived from the agents' state -------------------------------------------

    def ground_troops(self) -> np.ndarray:
        """Effective ground troops F: troops in Ukraine plus neighbouring troops at ``neighbour_weight``."""
        uk, fr, de = self.guarantors
        return uk.effective_troops() + fr.effective_troops() + de.effective_troops()

    def air_maritime(self) -> np.ndarray:
        """Capability of the guarantors' air and maritime roles, A (ODD 1)."""
        uk, fr, de = self.guarantors
        return uk.air_maritime() + fr.air_maritime() + de.air_maritime()

    def capability(self, day: int | None = None, ground: np.ndarray | None = None,
                   air_maritime: np.ndarray | None = None) -> np.ndarray:
        """Capability C for deterrence by denial, in the scenario's ``capability`` form (ODD 1).

        ``ground`` and ``air_maritime``, if given, are today's :meth:`ground_troops` and :meth:`air_maritime`.
        """
        m = self.params
        russian, _ = self.forces(self.day if day is None else day)
        ground = self.ground_troops() if ground is None else ground
        air_maritime = self.air_maritime() if air_maritime is None else air_maritime
        return self.capability_form(ground, air_maritime, m.troop_scale, m.balance_unit, russian)

    def presence(self, in_ukraine: np.ndarray | None = None) -> np.ndarray:
        """X: the foreign presence Russia objects to and is provoked by, in troop_scale units (ODD 7).

        ``in_ukraine``, if given, is today's :meth:`coalition_troops`.
        """
        m = self.params
        in_ukraine = self.coalition_troops() if in_ukraine is None else in_ukraine
        return (in_ukraine + m.neighbour_objection_weight * self.de.neighbour_troops) / m.troop_scale

    def coalition_troops(self) -> np.ndarray:
        """European ground troops inside Ukraine, per world."""
        uk, fr, de = self.guarantors
        return uk.troops + fr.troops + de.troops

    def _bases_in_ukraine(self, worlds: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Weight of the permanent bases in Ukraine, 0-1, per world (of ``worlds``, indices, if given): the
        largest of the guarantors' (ODD 25)."""
        bases = np.zeros(self.world_ids[worlds].size)
        for g in self.guarantors:
            held = g.params.permanent_bases  # per world, possibly
            if held.any() if isinstance(held, np.ndarray) else held:
                bases = np.maximum(bases, g.bases_in_ukraine(worlds))
        return bases

    def guarantee(self) -> np.ndarray:
        """Guarantee strength Ukraine perceives, 0-1, per world (ODD 2)."""
        ukraine_view = self.ground_troops() / self.params.troop_scale + self.air_maritime()
        return guarantee_strength(ukraine_view, self._bases_in_ukraine(), self.us.detection_probability,
                                  self.params)

    def commitment(self, germany: np.ndarray | None = None) -> np.ndarray:
        """Probability that at least one guarantor would enter a war, 1 - prod(1 - pi_g) (ODD 21); with
        Germany's pi_g replaced by ``germany`` if given."""
        uk, fr, de = self.guarantors
        germany = de.commitment() if germany is None else germany
        return 1.0 - (1.0 - uk.commitment()) * (1.0 - fr.commitment()) * (1.0 - germany)

    def assess_credibility(self, live: np.ndarray | None = None) -> np.ndarray:
        """Russia's belief that the guarantors would fight, 0-1, in the ``credibility`` form (ODD 11, 21);
        also kept as ``self.credibility``, today's value (recorded in the trajectories), in the ``live``
        worlds if given: elsewhere it stays as it was when their ceasefire ended."""
        credibility = self.credibility_form(self.ru.reputation, self.commitment(), self.params.commitment_share)
        self.credibility = credibility if live is None else np.where(live, credibility, self.credibility)
        return credibility

    def expected_cost(self, credibility: np.ndarray, capability: np.ndarray,
                      in_ukraine: np.ndarray | None = None) -> np.ndarray:
        """K: what Russia expects an offensive to cost, per world (ODD 16).

        Credibility times denial (``deterrence_weight`` x C) plus the tripwire (``entry_cost``, while any
        guarantor has troops in Ukraine), plus sanctions. ``in_ukraine``: today's :meth:`coalition_troops`.
        """
        m = self.params
        in_ukraine = self.coalition_troops() if in_ukraine is None else in_ukraine
        tripwire = m.entry_cost * self.presence_form(in_ukraine, m.presence_half)
        return credibility * (m.deterrence_weight * capability + tripwire) + m.sanctions_weight * self.sanctions

    def _foreseen_entry(self, expected_cost: np.ndarray) -> np.ndarray | float:
        """Expected rise of K when Germany's troops enter Ukraine, discounted by the time to the entry, where it
        is still ahead (ODD 27): deployment_probability x exp(-(delay - day) / foresight_days) x (K' - K), K'
        the expected cost with Germany's troops in Ukraine; 0 elsewhere. Russia knows the plan, not the draw."""
        de, m = self.de, self.params
        p = de.params
        ahead = (~de.deployed) & (self.day < p.deployment_delay_days) & (p.troops > 0.0) \
            & (p.deployment_probability > 0.0) & (m.foresight > 0.0)
        if not ahead.any():
            return 0.0
        russian, _ = self.forces(self.day)
        ground = self.ground_troops() + np.where(ahead, p.troops, 0.0)
        capability = self.capability_form(ground, self.air_maritime(), m.troop_scale, m.balance_unit, russian)
        credibility = self.credibility_form(self.ru.reputation, self.commitment(de.commitment_if_entered()),
                                            m.commitment_share)
        in_ukraine = self.coalition_troops() + np.where(ahead, p.troops, 0.0)
        entered = credibility * (m.deterrence_weight * capability
                                 + m.entry_cost * self.presence_form(in_ukraine, m.presence_half)) \
            + m.sanctions_weight * self.sanctions
        discount = np.exp(-np.maximum(p.deployment_delay_days - self.day, 0.0) / m.foresight_days)
        return np.where(ahead, p.deployment_probability * discount * (entered - expected_cost), 0.0)

    def waiting_value(self, expected_cost: np.ndarray) -> np.ndarray | float:
        """What Russia expects to gain by waiting instead of attacking today (ODD 27): foresight x (the fall of K
        that foreseen elections promise - the rise that Germany's foreseen entry threatens)."""
        m = self.params
        if not np.any(m.foresight > 0.0):
            return 0.0
        # the discounted number of elections still ahead, each of the four electing states counting a quarter
        gaps = self.electoral_days[self.electoral_days > self.day] - self.day
        if isinstance(m.foresight_days, np.ndarray):
            window = np.exp(-gaps[:, None] / m.foresight_days[None, :]).sum(axis=0) / 4.0
        else:
            window = float(np.exp(-gaps / m.foresight_days).sum()) / 4.0
        opening = expected_cost * (m.election_turnover * m.election_shock * window)
        return m.foresight * (opening - self._foreseen_entry(expected_cost))

    def note_withdrawal(self, worlds: np.ndarray) -> None:
        """An agent withdrew troops or monitoring in ``worlds`` (indices or mask): the guarantee may erode
        there."""
        self.eroded[worlds] = True

    def incident_rate(self, in_ukraine: np.ndarray | None = None) -> np.ndarray:
        """Expected incidents per day, per world (ODD 5): reduced by the troops in Ukraine where the
        ``deployment`` form puts them on the line, and by monitoring. ``in_ukraine``: today's
        :meth:`coalition_troops`."""
        m = self.params
        in_ukraine = self.coalition_troops() if in_ukraine is None else in_ukraine
        uncovered = self.deployment_form(in_ukraine, m.troop_scale, m.front_km, m.buffer_density)  # 1 - cover
        # 1 - buffer_reduction * cover, written as (1 - buffer_reduction) + buffer_reduction * (1 - cover)
        buffer = (1.0 - m.buffer_incident_reduction) + m.buffer_incident_reduction * uncovered
        return (m.incident_rate * buffer) * (1.0 - m.monitoring_incident_reduction * self.us.detection_probability)

    @property
    def detection_probability(self) -> np.ndarray:
        """US probability of detecting a violation, 0-1, per world."""
        return self.us.detection_probability

    # --- one day: step() and its phases, in the order of ODD section 3 ------------------------

    def step(self) -> None:
        """One day in every world whose ceasefire holds: the process overview of ODD section 3, phase by phase.

        Every phase works on the arrays of the worlds stepped now (all, or fewer after compaction); ``live``
        masks those whose ceasefire held this morning, and the others keep their state.
        """
        self.day += 1
        live = self.holding
        self.hold_elections(live)  # phase 0, eq. 22
        self.update_commitments(live)  # 1, eq. 14-15
        forces = self.assess_forces()  # 2, eq. 1, 7, 23
        u_probe, u_breakdown, u_incidents = self.draw_daily_uniforms()  # for phases 4, 7 and 3
        incidents = self.observe_incidents(live, forces, u_incidents)  # 3, eq. 5-6
        probes = self.probe_and_answer(live, forces, u_probe)  # 4, eq. 8-12
        spoilers = self.spoil(live)  # 5, eq. 24
        self.update_sanctions(live, probes)  # 6, eq. 12
        self.update_escalation(live, incidents, probes, spoilers)  # 6, eq. 13
        self.build_institutions(live)  # 6, eq. 26
        self.break_down(live, forces, u_breakdown)  # 7, eq. 13, 16, 17, 26, 27
        self.bookkeeping(live, incidents, probes, spoilers)  # 8, eq. 18-19
        self._record()
        if self.day >= self.horizon_days or not self.holding.any():
            self.running = False

    def hold_elections(self, live: np.ndarray) -> None:
        """Phase 0: elections dated today may each bring a less committed government, per world (ODD 22)."""
        codes = self.elections.get(self.day)
        if not codes:
            return
        agent_of = {"UK": self.uk, "FR": self.fr, "DE": self.de, "US": self.us}
        for position, code in enumerate(codes):
            u_turnover = uniforms(self.keys, (Lane.ELECTION,), self.day * 8 + position)[0]
            turnover = (live & (u_turnover < self.params.election_turnover)).nonzero()[0]
            agent_of[code].hold_election(turnover)

    def update_commitments(self, live: np.ndarray) -> None:
        """Phase 1: Germany may enter Ukraine (ODD 15); guarantors draw down while support is low (ODD 14)."""
        self.guarantor_set.do("update_commitments", live)

    def assess_forces(self) -> Forces:
        """Phase 2: today's capability, presence and hostility, from today's troops and Russian forces
        (ODD 1, 7, 23); computed once, as they change only with the commitments."""
        ground, air_maritime, in_ukraine = self.ground_troops(), self.air_maritime(), self.coalition_troops()
        capability = self.capability(ground=ground, air_maritime=air_maritime)
        hostility = self.ru.hostility(self.presence(in_ukraine))
        return Forces(ground, air_maritime, in_ukraine, capability, hostility)

    def draw_daily_uniforms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Today's uniforms of every stepped world, drawn at once: whether Russia probes (ODD 8), the
        breakdown draw (ODD 13, 16) and the two uniforms of the incident counts (ODD 5-6, shape (2, worlds))."""
        u_today = uniforms(self.keys, (Lane.PROBE_AND_BREAKDOWN, Lane.INCIDENTS), self.day)
        return u_today[0], u_today[1], u_today[2:]

    def observe_incidents(self, live: np.ndarray, forces: Forces, u_incidents: np.ndarray) -> Incidents:
        """Phase 3: incidents along the contact line and their detection by the US (ODD 5-6)."""
        total, detected = self.us.observe_incidents(self.incident_rate(forces.in_ukraine) * live, u_incidents)
        return Incidents(total, detected)

    def probe_and_answer(self, live: np.ndarray, forces: Forces, u_probe: np.ndarray) -> Probes:
        """Phase 4: Russia may probe (ODD 8); the probe may be detected and blamed (ODD 9) and answered by the
        present guarantors (ODD 10); Russia learns (ODD 11); the US may sanction and Ukraine retaliate (ODD 12).

        Worked out only in the worlds that probe today: the arrays of the result hold one value per such world.
        """
        probing = self.ru.probe(live, forces.hostility, u_probe).nonzero()[0]
        u_detect, u_attribute, u_sanction, u_retaliate, *u_answer, _ = uniforms(
            self.keys[probing], _PROBE_LANES, self.day)
        detected, blamed = self.us.verify(probing, u_detect, u_attribute)
        answered_by = {g: g.respond(probing, blamed, u) for g, u in zip(self.guarantors, u_answer, strict=True)}
        uk_answered, fr_answered, de_answered = answered_by.values()
        answered = uk_answered | fr_answered | de_answered
        self.ru.learn(probing, answered)
        sanctioned = self.us.sanction(probing, blamed, u_sanction)
        retaliated = self.ua.retaliate(probing, blamed, u_retaliate)
        return Probes(probing, detected, blamed, answered_by, answered, sanctioned, retaliated)

    def spoil(self, live: np.ndarray) -> Spoilers:
        """Phase 5: irregulars of either side may attack; an attack is calmed only if verified and rightly
        attributed (ODD 24)."""
        spoiling = self._spoiler_attacks(live)
        u_spoiler = uniforms(self.keys[spoiling], (Lane.SPOILER_VERIFICATION,), self.day)
        _, handled = self.us.verify(spoiling, u_spoiler[0], u_spoiler[1])
        return Spoilers(spoiling, handled)

    def _spoiler_attacks(self, live: np.ndarray) -> np.ndarray:
        """Indices of the live worlds where irregulars attack today (ODD 24); each such world's next
        attack day is drawn (a geometric gap: a daily Bernoulli(``spoiler_rate``) event)."""
        attacking = events_due(self.day, self.next_spoiler_day, self.spoiler_draws, self.keys, Lane.SPOILER_GAP,
                               self.params.spoiler_rate)
        return attacking[live[attacking]]

    def update_sanctions(self, live: np.ndarray, probes: Probes) -> None:
        """Phase 6: sanctions pressure decays, and rises where a blamed probe drew new sanctions (ODD 12)."""
        m, probing = self.params, probes.worlds
        # "x + live * change" (here "x - live * decay") leaves x exactly as it was in the worlds that have ended
        self.sanctions = self.sanctions - live * (m.sanctions_decay * self.sanctions)
        self.sanctions[probing] += at(m.sanctions_step, probing) * probes.sanctioned

    def update_escalation(self, live: np.ndarray, incidents: Incidents, probes: Probes, spoilers: Spoilers) -> None:
        """Phase 6: escalation moves with incidents (verified ones damped), decays, and moves with today's probes,
        answers, joint calming, retaliations and unhandled spoiler attacks (ODD 13)."""
        m, probing, spoiling = self.params, probes.worlds, spoilers.worlds
        undetected = incidents.total - incidents.detected
        stream = undetected + (1.0 - m.verified_incident_damping) * incidents.detected
        self.escalation = self.escalation + live * (m.incident_escalation * stream
                                                    - m.escalation_decay * self.escalation)
        self.escalation[probing] += (
            at(m.probe_escalation, probing)
            + np.where(probes.blamed,
                       at(m.response_escalation, probing) * probes.answered - at(m.joint_calming, probing),
                       at(m.misperception_escalation, probing))
            + at(m.retaliation_escalation, probing) * probes.retaliated)
        self.escalation[spoiling] += at(m.spoiler_escalation, spoiling) * ~spoilers.handled
        # joint calming cannot take escalation below 0
        if isinstance(m.joint_calming, np.ndarray):
            calmed = probing[m.joint_calming[probing] > 0.0]
            self.escalation[calmed] = np.maximum(self.escalation[calmed], 0.0)
        elif m.joint_calming > 0.0:
            self.escalation[probing] = np.maximum(self.escalation[probing], 0.0)

    def build_institutions(self, live: np.ndarray) -> None:
        """Phase 6: holding builds the institution stock towards 1 with time constant ``institution_days``;
        escalation erodes it (ODD 26)."""
        m, stock = self.params, self.institution
        change = (1.0 - stock) / m.institution_days - m.institution_erosion * self.escalation * stock
        self.institution = np.clip(stock + live * change, 0.0, 1.0)

    def break_down(self, live: np.ndarray, forces: Forces, u_breakdown: np.ndarray) -> None:
        """Phase 7: one cause per world from one draw: a major offensive (ODD 16, 27), else an escalation
        spiral (ODD 13), else Ukraine's withdrawal (ODD 17); the first two scaled by the ``duration`` form
        (ODD 26). Russia's credibility is today's, after its learning."""
        m = self.params
        expected_cost = self.expected_cost(self.assess_credibility(live), forces.capability, forces.in_ukraine)
        drive, value, shift = self.drive(self.day)
        offensive_hazard = self.ru.offensive_hazard(drive, value, shift, forces.hostility, expected_cost,
                                                    self.escalation, self.waiting_value(expected_cost))
        spiral_hazard = self.spiral_form(self.escalation, m.escalation_threshold, m.spiral_hazard, m.spiral_slope)
        duration = self.duration_form(self.institution, m.institution_effect)
        offensive_hazard = offensive_hazard * duration
        spiral_hazard = spiral_hazard * duration
        offensive = live & (u_breakdown < offensive_hazard)
        spiral = live & ~offensive & (u_breakdown < offensive_hazard + (1.0 - offensive_hazard) * spiral_hazard)
        ended = offensive | spiral
        withdrawn = self._withdrawals(live, ended, forces.ground, forces.air_maritime)
        ended[withdrawn] = True
        for worlds, cause in ((offensive, "major_offensive"), (spiral, "escalation_spiral"),
                              (withdrawn, "ukrainian_withdrawal")):
            self.cause[worlds] = CAUSE_CODES[cause]
            self.breakdown_day[worlds] = self.day
        self.holding = live & ~ended

    def _withdrawals(self, live: np.ndarray, ended: np.ndarray, ground: np.ndarray,
                     air_maritime: np.ndarray) -> np.ndarray:
        """Indices of the worlds Ukraine leaves today (ODD 17), among those ``live`` and not yet ``ended``.

        A withdrawal needs both Ukraine weighing it (a rare daily draw) and an eroded guarantee. The
        guarantee is computed only where Ukraine weighs leaving and something was withdrawn: elsewhere
        troops and monitoring are at least what they were on day 0, so the guarantee has not eroded.
        Skipping the other worlds changes no outcome.
        """
        where = self.ua.consider_withdrawal()
        where = where[live[where] & ~ended[where] & self.eroded[where]]
        if where.size == 0:
            return where
        ukraine_view = ground[where] / at(self.params.troop_scale, where) + air_maritime[where]
        guarantee = guarantee_strength(ukraine_view, self._bases_in_ukraine(where),
                                       self.us.detection_probability[where], self.params, where)
        return where[self.ua.withdraws(guarantee, self.agreed_guarantee[where], where)]

    def bookkeeping(self, live: np.ndarray, incidents: Incidents, probes: Probes, spoilers: Spoilers) -> None:
        """Phase 8: the slow variables, guarantors' domestic support (ODD 18) and US impatience (ODD 19), move
        with today's detected violations and answers; the day's events are counted."""
        m, probing = self.params, probes.worlds
        detected_violations = incidents.detected  # extended in place by the detected probes: not read again
        detected_violations[probing] += probes.detected
        violation_loss = m.support_loss_per_100_violations / 100.0 * detected_violations
        for g, answered_g in probes.answered_by.items():
            g.absorb_losses(live, violation_loss, probing[answered_g])
        self.us.lose_patience(live, detected_violations)
        self.incidents += incidents.total
        self.detected_violations += detected_violations
        self.probes[probing] += 1
        self.detected_probes[probing] += probes.detected
        self.responses[probing] += probes.answered
        self.sanctions_imposed[probing] += probes.sanctioned
        self.spoiler_events[spoilers.worlds] += 1

    def run(self) -> CeasefireModel:
        """Step until every world has ended or the horizon is reached; returns self.

        Ended worlds are dropped from the stepped arrays whenever they make up ``COMPACT_ENDED_SHARE`` of them;
        on return every per-world array covers all worlds again, in their original order.
        """
        self._compact()
        while self.running:
            self.step()
            if np.count_nonzero(self.holding) <= (1.0 - COMPACT_ENDED_SHARE) * self.active_worlds:
                self._compact()
        self._restore()
        return self

    def release(self) -> None:
        """Let this finished model be garbage-collected.

        Mesa 3.3's ``Agent._ids`` maps every model ever built to its agent-id counter, which keeps each
        model alive (mesa issue #3179, fixed by mesa PR #3180); a process running many models would
        grow without bound.
        """
        registry = getattr(mesa.Agent, "_ids", None)
        if isinstance(registry, dict):
            registry.pop(self, None)

    # --- compaction: step only the worlds whose ceasefire holds -----------------------------

    def _per_world_arrays(self) -> Iterator[tuple[MutableMapping[str, Any], str]]:
        """Every per-world array as (holder, name), the array being ``holder[name]``: the attributes listed in
        the ``world_state`` of the model, of its agents and of its parameter views (through their ``vars``), and
        every entry of the model's ``world_state_maps``."""
        for owner in (self, *self.agents, self.params, *self.agent_params.values()):
            for name in owner.world_state:
                yield vars(owner), name
        for attribute in self.world_state_maps:
            mapping = getattr(self, attribute)
            for name in mapping:
                yield mapping, name

    def _compact(self) -> None:
        """Archive the final state of ended worlds and drop them from every per-world array."""
        keep = self.holding
        if keep.all():
            return
        self._blank_ended(~keep)
        self._blanked = True  # every world still stepped holds
        ended_ids = self.world_ids[~keep]
        for holder, name in self._per_world_arrays():
            values = holder[name]
            full = self._archive.setdefault((id(holder), name), np.empty(self.worlds, dtype=values.dtype))
            full[ended_ids] = values[~keep]
            holder[name] = values[keep]

    def _restore(self) -> None:
        """Put every per-world array back to all worlds in their original order."""
        self._blank_pending()  # before, while only the stepped worlds are to be looked at
        if not self._archive:
            return
        ids = self.world_ids
        for holder, name in self._per_world_arrays():
            full = self._archive[(id(holder), name)]
            full[ids] = holder[name]
            holder[name] = full
        self._archive = {}

    @property
    def trajectories(self) -> dict[str, np.ndarray] | None:
        """Variable -> array (horizon + 1, worlds) of each day's values, NaN where the ceasefire does not hold
        (``None`` unless recorded)."""
        self._blank_pending()
        return self._trajectories

    def _record(self) -> None:
        """Store today's trajectory values of every stepped world.

        Writing all of them, not only those that hold, saves selecting the holding ones every day; the values of
        a world whose ceasefire has ended are blanked to NaN later, from its last day on (:meth:`_blank_ended`),
        before it is dropped from the stepped arrays or the trajectories are read.
        """
        if self._trajectories is None:
            return
        # every world, in order, until the first compaction: a plain row write instead of a scatter
        columns = slice(None) if self.active_worlds == self.worlds else self.world_ids
        for name in TRAJECTORY_VARIABLES:
            value = getattr(self, name)
            value = value() if callable(value) else value
            self._trajectories[name][self.day, columns] = value
        self._blanked = False

    def _blank_pending(self) -> None:
        """Blank the values recorded for the stepped worlds that have ended since the last blanking."""
        if not self._blanked:
            self._blank_ended(~self.holding)
            self._blanked = True

    def _blank_ended(self, ended: np.ndarray) -> None:
        """Set to NaN the recorded values of the stepped worlds ``ended`` (a mask) from the day their
        ceasefire ended (day 0 where none was agreed) to today."""
        if self._trajectories is None or not ended.any():
            return
        ids = self.world_ids[ended]
        first_blank = np.maximum(self.breakdown_day[ended], 0)
        start = int(first_blank.min())
        blank = np.arange(start, self.day + 1)[:, None] >= first_blank[None, :]
        for recorded in self._trajectories.values():
            block = recorded[start:self.day + 1, ids]
            block[blank] = np.nan
            recorded[start:self.day + 1, ids] = block
