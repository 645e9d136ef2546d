"""The ceasefire model: a ``mesa.Model`` stepping a batch of independent worlds, one day per step.

Day 0 is the agreement phase; each ``step()`` is one day of ceasefire in every world whose
ceasefire still holds. Worlds that never agreed or have broken down are masked out and keep
their final state; ``run()`` also drops them from the arrays it steps once they are a sixteenth
of them (compaction) and restores every array to all worlds, in order, when it finishes.
See docs/ODD.md for the order of events and every equation.
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.agent import AgentSet

from sim.engine.agents import (
    Aggressor,
    ConditionalGuarantor,
    Defender,
    Guarantor,
    Monitor,
    exp32,
    guarantee_strength,
    logistic,
)
from sim.engine.streams import Lane, geometric_gap, uniforms, world_keys
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

FORM_ATTRIBUTES: dict[str, str] = {
    "objection": "objection_form", "capability": "capability_form", "credibility": "credibility_form",
    "escalation": "spiral_form", "acceptance": "acceptance_form",
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
    """

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
        if keys is None:
            keys = (rng.integers(0, 2**64 - 1, self.worlds, dtype=np.uint64, endpoint=True)
                    if isinstance(rng, np.random.Generator)
                    else world_keys(rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(rng),
                                    (), np.arange(self.worlds)))
        self.keys = np.asarray(keys, dtype=np.uint64)
        if self.keys.shape != (self.worlds,):
            raise ValueError(f"{self.keys.size} keys for {self.worlds} worlds")
        views = split_world_values(world_values, self.worlds)
        self.config = scenario
        self.params = ParamView(scenario.model, views.get("model"))
        self._param_views = [self.params] + [
            ParamView(getattr(scenario.agents, code), views.get(f"agents.{code}"))
            for code in ("RU", "UK", "FR", "DE", "US", "UA")]
        ru_params, uk_params, fr_params, de_params, us_params, ua_params = self._param_views[1:]
        self.world_ids = np.arange(self.worlds)  # original index of each element of the state arrays
        self.horizon_days = scenario.horizon_days
        self.day = 0
        form_state = self._set_forms(scenario, world_forms)
        self.elections: dict[int, list[str]] = {}
        for day, code in election_days(scenario.start_date, self.horizon_days):
            self.elections.setdefault(day, []).append(code)

        # a per-world rearmament rate takes few values (one per point of a pack): each world's growth of forces
        # is computed with Python's power of its value, as for a number (numpy's vectorised power can differ
        # in the last bit), and gathered by each world's level
        self._rearmament_levels: dict[str, np.ndarray] = {}
        self._growth_by_level: dict[str, tuple[float, np.ndarray]] = {}
        for code, view in (("RU", ru_params), ("UA", ua_params)):
            if isinstance(view.rearmament_rate, np.ndarray):
                self._rearmament_levels[code], level = np.unique(view.rearmament_rate, return_inverse=True)
                setattr(self, f"rearmament_level_{code}", level)
        self.world_state = type(self).world_state + form_state + tuple(f"rearmament_level_{code}"
                                                                       for code in self._rearmament_levels)

        self.ru = Aggressor(self, "RU", ru_params)
        self.uk = Guarantor(self, "UK", uk_params)
        self.fr = Guarantor(self, "FR", fr_params)
        self.de = ConditionalGuarantor(self, "DE", de_params)
        self.us = Monitor(self, "US", us_params)
        self.ua = Defender(self, "UA", ua_params)
        self.guarantors: list[Guarantor] = [self.uk, self.fr, self.de]
        self.guarantor_set = AgentSet(self.guarantors, random=self.random)
        self.ru.form_prior(self._bases_in_ukraine())
        self._force_ratio_0 = self._force_ratio(0)
        if isinstance(self._force_ratio_0, np.ndarray):  # per world: compacted with the worlds
            self.world_state += ("_force_ratio_0",)

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
        # spoiler attacks: each world's next attack day, drawn as geometric gaps (ODD 24)
        self.spoiler_draws = np.ones(n, dtype=np.int64)
        self.next_spoiler_day = geometric_gap(uniforms(self.keys, (Lane.SPOILER_GAP,), 0)[0], self.params.spoiler_rate)

        self.trajectories: dict[str, np.ndarray] | None = (
            {name: np.full((self.horizon_days + 1, n), np.nan, dtype=np.float32) for name in TRAJECTORY_VARIABLES}
            if record_trajectories
            else None
        )
        self._archive: dict[tuple[object, str], np.ndarray] = {}
        self.agreed_guarantee = self.guarantee()
        self.agreed = self.negotiate()
        self.holding = self.agreed.copy()
        self.cause[~self.agreed] = CAUSE_CODES["no_deal"]
        self.running = bool(self.holding.any()) and self.horizon_days > 0
        self._record()

    def _set_forms(self, scenario: Scenario, world_forms: dict[str, np.ndarray] | None) -> tuple[str, ...]:
        """Set each mechanism's form function (``objection_form``, ...): the scenario's, or a
        :class:`~sim.mechanisms.MixedForm` where ``world_forms`` gives worlds different forms. Returns the
        names of the per-world form indices this adds to the model's state."""
        world_forms = dict(world_forms or {})
        unknown = sorted(set(world_forms) - set(FORM_ATTRIBUTES))
        if unknown:
            raise ValueError(f"world_forms: no mechanism named {', '.join(unknown)} (see sim.mechanisms.REGISTRY)")
        state: list[str] = []
        for mechanism, attribute in FORM_ATTRIBUTES.items():
            forms = REGISTRY[mechanism]
            names = [getattr(scenario.structure, mechanism)]
            if mechanism in world_forms:
                per_world = np.asarray(world_forms[mechanism], dtype=str)
                if per_world.shape != (self.worlds,):
                    raise ValueError(f"world_forms[{mechanism!r}]: {per_world.size} forms for {self.worlds} worlds")
                names, index = np.unique(per_world, return_inverse=True)
                wrong = sorted(set(names) - set(forms))
                if wrong:
                    raise ValueError(f"world_forms[{mechanism!r}]: no form named {', '.join(wrong)}")
                if names.size > 1:
                    setattr(self, f"form_index_{mechanism}", index)
                    state.append(f"form_index_{mechanism}")
                    setattr(self, attribute, MixedForm([forms[name] for name in names], self,
                                                       f"form_index_{mechanism}"))
                    continue
            setattr(self, attribute, forms[str(names[0])])
        return tuple(state)

    world_state = (
        "world_ids", "agreed", "agreed_guarantee", "holding", "escalation", "sanctions", "breakdown_day", "cause",
        "incidents", "detected_violations", "probes", "detected_probes", "responses", "sanctions_imposed",
        "spoiler_events", "eroded", "credibility", "keys", "spoiler_draws", "next_spoiler_day",
    )
    """Attributes of the model that are per-world arrays (the agents list their own)."""

    @property
    def active_worlds(self) -> int:
        """Length of the state arrays now: all worlds, or fewer while ``run()`` has compacted them."""
        return len(self.world_ids)

    # --- forces in the zone: the same in every world on a given day, unless rearmament is per world ----------

    def forces(self, day: int) -> tuple[float | np.ndarray, float | np.ndarray]:
        """Russian and Ukrainian troops in the zone on ``day``, after rearmament (ODD 23)."""
        ru, ua = self.ru.params, self.ua.params
        years = day / 365.0
        return ru.troops * self._growth("RU", ru.rearmament_rate, years), \
            ua.troops * self._growth("UA", ua.rearmament_rate, years)

    def _growth(self, code: str, rate: float | np.ndarray, years: float) -> float | np.ndarray:
        """``(1 + rate) ** years``: a number, or per world from each distinct rate's number."""
        if not isinstance(rate, np.ndarray):
            return (1.0 + rate) ** years
        cached = self._growth_by_level.get(code)
        if cached is None or cached[0] != years:  # forces are asked for several times a day
            cached = (years, np.array([(1.0 + float(level)) ** years for level in self._rearmament_levels[code]]))
            self._growth_by_level[code] = cached
        return cached[1][getattr(self, f"rearmament_level_{code}")]

    def _force_ratio(self, day: int) -> float | np.ndarray:
        russian, ukrainian = self.forces(day)
        if isinstance(russian, np.ndarray) or isinstance(ukrainian, np.ndarray):
            russian, ukrainian = np.broadcast_arrays(russian, ukrainian)
            return np.divide(russian, ukrainian, out=np.ones(russian.shape), where=(russian > 0) & (ukrainian > 0))
        return russian / ukrainian if russian > 0 and ukrainian > 0 else 1.0

    def drive(self, day: int) -> float | np.ndarray:
        """Russia's log-hazard drive to attack on ``day``: expected gain plus the power shift since day 0 (ODD 16);
        per world where Russia's gain, resolve, the power-shift weight or a rearmament rate are per world."""
        p, m = self.ru.params, self.params
        russian, ukrainian = self.forces(day)
        total = russian + ukrainian
        if isinstance(total, np.ndarray):
            share = np.divide(russian, total, out=np.full(total.shape, 0.5), where=total > 0)
        else:
            share = russian / total if total > 0 else 0.5
        shift = np.log(self._force_ratio(day) / self._force_ratio_0)
        return p.offensive_gain * p.resolve * share + m.power_shift_weight * shift

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
        """Whether any guarantor holds permanent bases in Ukraine, per world (of ``worlds``, indices, if given)."""
        bases = np.zeros(self.world_ids[worlds].size, dtype=bool)
        for g in self.guarantors:
            held = g.params.permanent_bases  # per world, possibly
            if held.any() if isinstance(held, np.ndarray) else held:
                bases |= g.bases_in_ukraine(worlds)
        return bases

    def guarantee(self) -> np.ndarray:
        """Guarantee strength Ukraine perceives, 0-1, per world (ODD 2)."""
        ukraine_view = self.ground_troops() / self.params.troop_scale + self.air_maritime()
        return guarantee_strength(ukraine_view, self._bases_in_ukraine(), self.us.detection_probability,
                                  self.params)

    def commitment(self) -> np.ndarray:
        """Probability that at least one guarantor would enter a war, 1 - prod(1 - pi_g) (ODD 21)."""
        uk, fr, de = self.guarantors
        return 1.0 - (1.0 - uk.commitment()) * (1.0 - fr.commitment()) * (1.0 - de.commitment())

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
        tripwire = m.entry_cost * (in_ukraine > 0.0)
        return credibility * (m.deterrence_weight * capability + tripwire) + m.sanctions_weight * self.sanctions

    def note_withdrawal(self, worlds: np.ndarray) -> None:
        """An agent withdrew troops or monitoring in ``worlds`` (indices or mask): the guarantee may erode
        there."""
        self.eroded[worlds] = True

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

    def incident_rate(self, in_ukraine: np.ndarray | None = None) -> np.ndarray:
        """Expected incidents per day, per world (ODD 5): reduced by the buffer of troops in Ukraine and by
        monitoring. ``in_ukraine``: today's :meth:`coalition_troops`."""
        m = self.params
        in_ukraine = self.coalition_troops() if in_ukraine is None else in_ukraine
        uncovered = exp32(in_ukraine * (-1.0 / m.troop_scale))  # 1 - cover
        # 1 - buffer_reduction * cover, written as (1 - buffer_reduction) + buffer_reduction * (1 - cover)
        buffer = (1.0 - m.buffer_incident_reduction) + m.buffer_incident_reduction * uncovered
        return (m.incident_rate * buffer) * (1.0 - m.monitoring_incident_reduction * self.us.detection_probability)

    @property
    def detection_probability(self) -> np.ndarray:
        """US probability of detecting a violation, 0-1, per world."""
        return self.us.detection_probability

    # --- the agreement phase and one day ------------------------------------------------------

    def negotiate(self) -> np.ndarray:
        """Day 0: up to ``US.mediation_rounds`` rounds; a deal needs both sides to accept in one (ODD 3)."""
        m, ru = self.params, self.ru.params
        presence = self.presence()
        price = self.objection_form(presence, ru.troop_objection, m.objection_scale) \
            + ru.bases_price * self._bases_in_ukraine()
        base = ru.acceptance_logit + ru.war_cost + m.pressure_weight * self.us.params.resolve - price
        expected_cost = self.expected_cost(self.assess_credibility(), self.capability(0))
        russia = logistic(self.acceptance_form(base, self.ru.intent, expected_cost, ru.table_gain))
        ukraine = self.ua.acceptance_probability(self.agreed_guarantee)
        agreed = np.zeros(self.active_worlds, dtype=bool)
        rounds = self.us.params.mediation_rounds  # per world, possibly: each world stops after its own
        for round_ in range(int(np.max(rounds))):
            u_ukraine, u_russia = uniforms(self.keys, (Lane.NEGOTIATION,), round_)
            accepted = (u_ukraine < ukraine) & (u_russia < russia)
            if isinstance(rounds, np.ndarray):
                accepted &= round_ < rounds
            agreed |= accepted
        return agreed

    def _spoiler_attacks(self, live: np.ndarray) -> np.ndarray:
        """Indices of the live worlds where irregulars attack today (ODD 24); each such world's next
        attack day is drawn (a geometric gap: a daily Bernoulli(``spoiler_rate``) event)."""
        attacking = (self.next_spoiler_day == self.day).nonzero()[0]
        if attacking.size:
            u_gap = uniforms(self.keys[attacking], (Lane.SPOILER_GAP,), self.spoiler_draws[attacking])[0]
            self.next_spoiler_day[attacking] += geometric_gap(u_gap, at(self.params.spoiler_rate, attacking))
            self.spoiler_draws[attacking] += 1
        return attacking[live[attacking]]

    def hold_elections(self, live: np.ndarray) -> None:
        """Elections dated today: each may bring a less committed government, per world (ODD 22)."""
        agent_of = {"UK": self.uk, "FR": self.fr, "DE": self.de, "US": self.us}
        for position, code in enumerate(self.elections.get(self.day, ())):
            u_turnover = uniforms(self.keys, (Lane.ELECTION,), self.day * 8 + position)[0]
            turnover = (live & (u_turnover < self.params.election_turnover)).nonzero()[0]
            agent_of[code].hold_election(turnover)

    def step(self) -> None:
        """One day in every world whose ceasefire holds (order of events: ODD section 'Process overview')."""
        self.day += 1
        live = self.holding
        m = self.params
        if self.day in self.elections:
            self.hold_elections(live)
        self.guarantor_set.do("update_commitments", live)

        # today's forces, computed once: they change only with the commitments above
        ground, air_maritime, in_ukraine = self.ground_troops(), self.air_maritime(), self.coalition_troops()
        capability = self.capability(ground=ground, air_maritime=air_maritime)
        hostility = self.ru.hostility(self.presence(in_ukraine))
        u_today = uniforms(self.keys, (Lane.PROBE_AND_BREAKDOWN, Lane.INCIDENTS), self.day)
        u_probe, u_breakdown = u_today[0], u_today[1]

        # incidents and their detection (ODD 5-6)
        incidents, detected_incidents = self.us.observe_incidents(self.incident_rate(in_ukraine) * live, u_today[2:])

        # probes, their verification, answers and learning (ODD 8-12): worked out only in the worlds that
        # probe today; arrays named *_probing hold one value per probing world
        probing = self.ru.probe(live, hostility, u_probe).nonzero()[0]
        u_detect, u_attribute, u_sanction, u_retaliate, *u_answer, _ = uniforms(
            self.keys[probing], _PROBE_LANES, self.day)
        detected_probing, blamed_probing = self.us.verify(probing, u_detect, u_attribute)
        answered_by = {g: g.respond(probing, blamed_probing, u) for g, u in zip(self.guarantors, u_answer, strict=True)}
        uk_answered, fr_answered, de_answered = answered_by.values()
        answered_probing = uk_answered | fr_answered | de_answered
        self.ru.learn(probing, answered_probing)
        sanctioned_probing = self.us.sanction(probing, blamed_probing, u_sanction)
        retaliated_probing = self.ua.retaliate(probing, blamed_probing, u_retaliate)

        # spoilers: irregulars of either side; calm if verified and rightly attributed (ODD 24)
        spoiling = self._spoiler_attacks(live)
        u_spoiler = uniforms(self.keys[spoiling], (Lane.SPOILER_VERIFICATION,), self.day)
        _, handled = self.us.verify(spoiling, u_spoiler[0], u_spoiler[1])

        # sanctions and escalation dynamics (ODD 12-13)
        # "x + live * change" leaves x exactly as it was in the worlds that have ended
        self.sanctions = self.sanctions - live * (m.sanctions_decay * self.sanctions)
        self.sanctions[probing] += at(m.sanctions_step, probing) * sanctioned_probing
        undetected = incidents - detected_incidents
        stream = undetected + (1.0 - m.verified_incident_damping) * detected_incidents
        self.escalation = self.escalation + live * (m.incident_escalation * stream
                                                    - m.escalation_decay * self.escalation)
        self.escalation[probing] += (
            at(m.probe_escalation, probing)
            + np.where(blamed_probing,
                       at(m.response_escalation, probing) * answered_probing - at(m.joint_calming, probing),
                       at(m.misperception_escalation, probing))
            + at(m.retaliation_escalation, probing) * retaliated_probing)
        self.escalation[spoiling] += at(m.spoiler_escalation, spoiling) * ~handled
        if isinstance(m.joint_calming, np.ndarray):
            calmed = probing[m.joint_calming[probing] > 0.0]
            self.escalation[calmed] = np.maximum(self.escalation[calmed], 0.0)
        elif m.joint_calming > 0.0:
            self.escalation[probing] = np.maximum(self.escalation[probing], 0.0)

        # breakdown, one cause per world: offensive, then spiral, then Ukraine's withdrawal (ODD 13, 16, 17)
        expected_cost = self.expected_cost(self.assess_credibility(live), capability, in_ukraine)
        offensive_hazard = self.ru.offensive_hazard(self.drive(self.day), hostility, expected_cost, self.escalation)
        spiral_hazard = self.spiral_form(self.escalation, m.escalation_threshold, m.spiral_hazard, m.spiral_slope)
        offensive = live & (u_breakdown < offensive_hazard)
        spiral = live & ~offensive & (u_breakdown < offensive_hazard + (1.0 - offensive_hazard) * spiral_hazard)
        ended = offensive | spiral
        withdrawn = self._withdrawals(live, ended, ground, air_maritime)
        ended[withdrawn] = True
        for worlds, cause in ((offensive, "major_offensive"), (spiral, "escalation_spiral"),
                              (withdrawn, "ukrainian_withdrawal")):
            self.cause[worlds] = CAUSE_CODES[cause]
            self.breakdown_day[worlds] = self.day
        self.holding = live & ~ended

        # bookkeeping and slow variables (ODD 18-19)
        detected_violations = detected_incidents
        detected_violations[probing] += detected_probing
        violation_loss = m.support_loss_per_100_violations / 100.0 * detected_violations
        for g, answered_g in answered_by.items():
            g.absorb_losses(live, violation_loss, probing[answered_g])
        self.us.lose_patience(live, detected_violations)
        self.incidents += incidents
        self.detected_violations += detected_violations
        self.probes[probing] += 1
        self.detected_probes[probing] += detected_probing
        self.responses[probing] += answered_probing
        self.sanctions_imposed[probing] += sanctioned_probing
        self.spoiler_events[spoiling] += 1

        self._record()
        if self.day >= self.horizon_days or not self.holding.any():
            self.running = False

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

    def _state_owners(self) -> list[object]:
        return [self, *self.agents, *(view for view in self._param_views if view.world_state)]

    def _compact(self) -> None:
        """Archive the final state of ended worlds and drop them from every per-world array."""
        keep = self.holding
        if keep.all():
            return
        ended_ids = self.world_ids[~keep]
        for owner in self._state_owners():
            for name in owner.world_state:
                values = getattr(owner, name)
                full = self._archive.setdefault((owner, name), np.empty(self.worlds, dtype=values.dtype))
                full[ended_ids] = values[~keep]
                setattr(owner, name, values[keep])

    def _restore(self) -> None:
        """Put every per-world array back to all worlds in their original order."""
        if not self._archive:
            return
        ids = self.world_ids
        for owner in self._state_owners():
            for name in owner.world_state:
                full = self._archive[(owner, name)]
                full[ids] = getattr(owner, name)
                setattr(owner, name, full)
        self._archive = {}

    def _record(self) -> None:
        """Store today's trajectory values of the worlds whose ceasefire holds."""
        if self.trajectories is None:
            return
        holding = self.holding
        ids = self.world_ids[holding]
        for name in TRAJECTORY_VARIABLES:
            value = getattr(self, name)
            value = value() if callable(value) else value
            self.trajectories[name][self.day, ids] = value[holding]
