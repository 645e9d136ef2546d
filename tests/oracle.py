"""A plain, one-world-per-model implementation of the ceasefire rules (model v3): the test oracle.

``sim.engine.model.CeasefireModel`` steps a batch of worlds with numpy arrays and shared uniform
draws. This module implements the same rules again, independently and as plainly as possible,
from the specification (docs/ODD.md, section 7) and the engine's reading of it: one ``mesa.Model``
is one world, every agent's state is a Python scalar, every random event is one scalar draw from
``self.rng`` made only when it is needed. The rival forms of the contested mechanisms are written
out here again (the dictionaries ``OBJECTION``, ``ACCEPTANCE``, ``SPIRAL``, ``PRESENCE``,
``UNCOVERED``, ``DURATION``, ``COUNTED`` and the ``if`` chains of ``capability``, ``credibility``,
Russia's type, the offensive and Ukraine's acceptance); nothing is taken from ``sim.mechanisms`` or
``sim.engine.agents``. It reproduces the engine's *distribution* of outcomes, not its random
stream; ``tests/test_oracle_agreement.py`` compares the two statistically. It is also the
baseline of ``benchmarks/bench_engine.py``.

Every form of the first and second versions is kept (``scenarios/legacy_v1.yaml`` and
``scenarios/legacy_v2.yaml`` run here too); version 3 adds the presence weight W(T) of a force
(tripwire, a guarantor's stake, bases, the principled objection), where the troops stand, Russia's
type, the offensive as a choice, the institution stock that makes a holding ceasefire safer,
Ukraine weighing the deal against fighting on, the US's estimate of all violations, the terms of the
deal, Russia's resolve at the table and Russia's foresight of elections and of Germany's entry.

Day 0: Russia's type is drawn, then whether Germany will ever deploy into Ukraine, then up to
``US.mediation_rounds`` negotiation rounds. Order of events in one day:

0. elections on this day's date: a guarantor's or the US's government may become less committed;
1. commitments: Germany may enter Ukraine; guarantors with support below their threshold draw down;
2. presence, capability, hostility and the force levels of the day;
3. incidents along the contact line and their detection;
4. a possible Russian probe: detection, attribution, answers, sanctions, Ukrainian retaliation, learning;
5. a possible spoiler attack, handled jointly only if detected and correctly attributed;
6. sanctions pressure, escalation and then the institution stock are updated;
7. breakdown, first cause wins: major offensive, escalation spiral, Ukrainian withdrawal;
8. domestic support erodes or recovers; the US may lose patience and scale monitoring down.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd

from sim.engine.model import CAUSE_CODES
from sim.spec.calendar import election_days
from sim.spec.scenario import Scenario

CAUSE_NAMES: dict[int, str] = {code: name for name, code in CAUSE_CODES.items()}
"""Cause name of each code, the inverse of ``CAUSE_CODES``."""

COUNT_COLUMNS: tuple[str, ...] = (
    "incidents", "detected_violations", "probes", "detected_probes", "responses", "sanctions_imposed",
    "spoiler_events",
)
"""Per-world event counters reported by ``run_oracle`` besides the outcome."""

EXPONENT_CAP = 50.0
"""Largest exponent of a hazard's exponential (and largest |log-odds / noise| of the offensive choice)."""


def logistic(x: float) -> float:
    """The logistic function 1 / (1 + e^-x) of a scalar, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# --- the rival forms, one small function each --------------------------------------------------

PRESENCE: dict[str, Callable[[float, float], float]] = {
    # (troops T, presence_half) -> share of a presence-dependent effect, W(T) in [0, 1]
    "switch": lambda t, half: 1.0 if t > 0 else 0.0,
    "dose": lambda t, half: t / (t + half),
}
"""How much of the tripwire, a guarantor's stake, bases and the principled objection a force buys."""

UNCOVERED: dict[str, Callable[[float, float, float, float], float]] = {
    # (troops in Ukraine T, troop_scale, front_km, buffer_density) -> share of the front left uncovered
    "rear": lambda t, scale, front, density: 1.0,
    "interposition": lambda t, scale, front, density: math.exp(-(t / front) / density),
    "blanket": lambda t, scale, front, density: math.exp(-t / scale),
}
"""Where the troops stand: the share of the contact line their presence leaves to incidents."""

OBJECTION: dict[str, Callable[[float, float, float, float], float]] = {
    # (presence X, troop_objection, objection_scale, presence_half in X's units) -> log-odds of acceptance lost
    "linear": lambda x, w, scale, half: w * x,
    "principled": lambda x, w, scale, half: w * scale * x / (x + half),
    "saturating": lambda x, w, scale, half: w * scale * (1.0 - math.exp(-x / scale)),
}
"""Russia's objection to a Western presence, by form."""

ACCEPTANCE: dict[str, Callable[[float, float, float, float, float], float]] = {
    # (base log-odds, intent, K0, table_gain, Russia's resolve) -> Russia's log-odds of accepting a round
    "independent": lambda base, intent, k0, gain, resolve: base,
    "bargaining": lambda base, intent, k0, gain, resolve: base - gain * intent * math.exp(-k0),
    "resolute": lambda base, intent, k0, gain, resolve: base - gain * intent * resolve * math.exp(-k0),
}
"""Russia's weighing of the deal at the table, by form."""

SPIRAL: dict[str, Callable[[float, float, float, float], float]] = {
    # (escalation E, threshold, spiral_hazard, spiral_slope) -> daily probability of a spiral
    "threshold": lambda e, threshold, base, slope: 1.0 if e > threshold else 0.0,
    "smooth": lambda e, threshold, base, slope: min(1.0, base * math.exp(min(EXPONENT_CAP, slope * (e - threshold)))),
}
"""Daily hazard of an escalation spiral, by form."""

DURATION: dict[str, Callable[[float, float], float]] = {
    # (institution stock I, institution_effect) -> factor of both daily breakdown hazards
    "constant": lambda stock, effect: 1.0,
    "institutionalisation": lambda stock, effect: math.exp(-effect * stock),
}
"""How time held changes the hazards of an offensive and of a spiral."""

COUNTED: dict[str, Callable[[int, float], float]] = {
    # (violations detected today, detection probability) -> violations the US holds against its tolerance
    "detected": lambda detected, p: float(detected),
    "estimated": lambda detected, p: detected / p if p > 0 else 0.0,
}
"""What the US counts against its patience."""


# --- the states --------------------------------------------------------------------------------


class OracleGuarantor(mesa.Agent):
    """The UK or France: troops in Ukraine from day 0, answers probes, may draw down."""

    def __init__(self, model: OracleModel, code: str, params) -> None:
        super().__init__(model)
        self.code = code
        self.params = params
        self.troops = float(params.troops)
        self.neighbour_troops = 0.0
        self.support = float(params.domestic_support)
        self.resolve = float(params.resolve)
        # air and maritime roles committed without any ground troops count from day 0, whatever happens, where
        # the scenario says roles count without troops (version 3)
        self.roles_without_troops = (params.troops + getattr(params, "neighbour_troops", 0.0) == 0
                                     and model.params.roles_without_troops)

    def effective_troops(self) -> float:
        """Ground troops counting towards capability: in Ukraine fully, next door at ``neighbour_weight``."""
        return self.troops + self.model.params.neighbour_weight * self.neighbour_troops

    def active(self) -> bool:
        """Whether this guarantor's air and maritime roles count: forces deployed, or roles without troops."""
        return self.troops + self.neighbour_troops > 0 or self.roles_without_troops

    def air_maritime(self) -> float:
        """Capability units of this guarantor's air and maritime roles while it is active."""
        m = self.model.params
        if not self.active():
            return 0.0
        return m.air_weight * self.params.air_role + m.maritime_weight * self.params.maritime_role

    def bases_weight(self) -> float:
        """Permanent bases count by the presence weight of the troops in Ukraine that man them."""
        if not self.params.permanent_bases:
            return 0.0
        return self.model.presence_weight(self.troops)

    def support_factor(self) -> float:
        """Support relative to its initial level, at most 1 (1 if the initial level was 0)."""
        initial = self.params.domestic_support
        return 1.0 if initial == 0 else min(1.0, self.support / initial)

    def commitment(self) -> float:
        """pi_g: probability that this guarantor enters a war, from resolve, stakes and support, 0-1."""
        m = self.model.params
        stakes = m.presence_stake * self.model.presence_weight(self.troops) + m.bases_stake * self.bases_weight()
        if self.troops == 0 and self.neighbour_troops > 0:
            stakes += m.neighbour_stake
        return self.resolve * min(1.0, stakes) * self.support_factor()

    def lose_election(self) -> None:
        """A less committed government: support and resolve both lose ``election_shock``."""
        shock = self.model.params.election_shock
        self.support *= 1.0 - shock
        self.resolve *= 1.0 - shock

    def update_commitments(self) -> None:
        """While support is below the drawdown threshold, withdraw a share of the troops each day."""
        if self.support < self.params.drawdown_threshold:
            self.troops = self.reduced(self.troops)
            self.neighbour_troops = self.reduced(self.neighbour_troops)

    def reduced(self, troops: float) -> float:
        """One day of drawdown; fewer than ``min_presence`` troops left means none."""
        m = self.model.params
        rate = m.drawdown_rate * (m.bases_drawdown_factor if self.params.permanent_bases else 1.0)
        troops *= 1.0 - rate
        return 0.0 if troops < m.min_presence else troops

    def answers_probe(self) -> bool:
        """A guarantor with troops in Ukraine answers a blamed probe with probability ``resolve``."""
        return self.troops > 0 and self.model.chance(self.resolve)

    def absorb_losses(self, detected_violations: int, answered: bool) -> None:
        """Support recovers towards its initial level and is lost to violations and to answering."""
        m = self.model.params
        support = self.support + m.support_recovery * (self.params.domestic_support - self.support)
        support -= m.support_loss_per_100_violations * detected_violations / 100.0
        if answered:
            support -= m.support_loss_per_response
        self.support = min(1.0, max(0.0, support))


class OracleConditionalGuarantor(OracleGuarantor):
    """Germany: troops in neighbouring NATO states from day 0; may enter Ukraine after the delay."""

    def __init__(self, model: OracleModel, code: str, params) -> None:
        super().__init__(model, code, params)
        self.troops = 0.0
        self.neighbour_troops = float(params.neighbour_troops)
        self.will_deploy = False
        self.deployed = False

    def decide_deployment(self) -> None:
        """Day 0: whether Germany will ever move troops into Ukraine; at once if there is no delay."""
        self.will_deploy = self.model.chance(self.params.deployment_probability)
        if self.will_deploy and self.params.deployment_delay_days == 0:
            self.deployed = True
            self.troops = float(self.params.troops)

    def entry_ahead(self) -> bool:
        """Whether Russia foresees Germany's entry: planned, not yet made, its day still to come.

        Russia knows the plan (delay, troops, probability), not whether this world's Germany will go."""
        p, m = self.params, self.model.params
        return (not self.deployed and self.model.day < p.deployment_delay_days and p.troops > 0
                and p.deployment_probability > 0 and m.foresight > 0)

    def commitment_once_entered(self) -> float:
        """pi_g as Russia foresees it once the planned troops are in Ukraine: their presence weight is the stake
        (no bases are foreseen, and the neighbouring troops no longer count on their own)."""
        m = self.model.params
        stakes = m.presence_stake * self.model.presence_weight(float(self.params.troops))
        return self.resolve * min(1.0, stakes) * self.support_factor()

    def update_commitments(self) -> None:
        """From day ``deployment_delay_days``, enter Ukraine if it will and support allows; else draw down."""
        p = self.params
        if (self.will_deploy and not self.deployed and self.model.day >= p.deployment_delay_days
                and self.support >= p.drawdown_threshold):
            self.deployed = True
            self.troops = float(p.troops)
            return
        super().update_commitments()


class OracleMonitor(mesa.Agent):
    """The US: detects and attributes violations, sanctions, and may scale monitoring down."""

    def __init__(self, model: OracleModel, params) -> None:
        super().__init__(model)
        self.params = params
        self.detection_probability = float(params.detection_probability)
        self.resolve = float(params.resolve)
        self.impatience = 0.0
        self.scaled_down = False

    def detects(self) -> bool:
        """Whether one violation is detected."""
        return self.model.chance(self.detection_probability)

    def attributes(self) -> bool:
        """Whether a detected violation is blamed on the right side."""
        return self.model.chance(self.params.attribution_accuracy)

    def sanctions(self) -> bool:
        """Whether the US answers a blamed probe with new sanctions."""
        return self.model.chance(self.resolve)

    def scale_down(self) -> None:
        """Cut detection by ``scale_down_fraction``, once in a world's life."""
        if not self.scaled_down:
            self.detection_probability *= 1.0 - self.params.scale_down_fraction
            self.scaled_down = True

    def lose_election(self) -> None:
        """A less committed administration: resolve loses ``election_shock`` and monitoring is scaled down."""
        self.resolve *= 1.0 - self.model.params.election_shock
        self.scale_down()

    def lose_patience(self, detected_violations: int) -> None:
        """The violations the US counts (its ``impatience`` form) above tolerance accumulate; once they pass
        ``patience`` detection is cut."""
        p = self.params
        counted = COUNTED[self.model.structure.impatience](detected_violations, self.detection_probability)
        self.impatience = max(0.0, self.impatience + counted - p.violation_tolerance)
        if self.impatience > p.patience:
            self.scale_down()


class OracleDefender(mesa.Agent):
    """Ukraine: weighs the deal, retaliates, and may leave a weak ceasefire."""

    def __init__(self, model: OracleModel, params) -> None:
        super().__init__(model)
        self.params = params

    def acceptance(self, guarantee: float) -> float:
        """Probability of accepting in one round, in the scenario's ``ukraine`` form."""
        p, model = self.params, self.model
        logit = (guarantee - p.guarantee_threshold) / model.params.acceptance_sharpness
        form = model.structure.ukraine
        if form == "guarantee":
            return logistic(logit)
        if form == "terms":
            russians, ukrainians = model.forces(365)
            ratio = russians / ukrainians if russians > 0 and ukrainians > 0 else 1.0
            return logistic(logit + p.war_cost + p.situation_weight * math.log(ratio)
                            - p.terms_weight * model.terms_index())
        raise ValueError(f"unknown ukraine form {form}")

    def retaliates(self, blamed: bool) -> bool:
        """Retaliate against a probe: restrained when it is handled jointly, on its own perception otherwise."""
        m = self.model.params
        share = (1.0 - m.verification_restraint) if blamed else m.self_help_retaliation
        return self.model.chance(self.params.resolve * share)

    def withdraws(self) -> bool:
        """Below ``withdrawal_threshold`` x the agreed guarantee, leave at ``withdrawal_hazard``."""
        # the rare draw first: the guarantee is then worked out on few days (the order of two
        # independent conditions does not change the law)
        if not self.model.chance(self.model.params.withdrawal_hazard):
            return False
        return self.model.guarantee() < self.params.withdrawal_threshold * self.model.agreed_guarantee

    def forces(self, day: int) -> float:
        """Ukraine's forces in the zone on ``day``, after rearmament, under the deal's cap."""
        cap = self.model.params.terms_force_cap
        return self.params.troops * cap * (1.0 + self.params.rearmament_rate) ** (day / 365.0)


class OracleAggressor(mesa.Agent):
    """Russia: weighs the deal, probes, learns the guarantors' credibility, may launch an offensive."""

    def __init__(self, model: OracleModel, params) -> None:
        super().__init__(model)
        self.params = params
        self.intent = self.draw_type()
        self.answered = 0.0  # Beta alpha, set by form_prior
        self.unanswered = 0.0  # Beta beta

    def draw_type(self) -> float:
        """Russia's unobserved intent, mean 1, in the scenario's ``types`` form."""
        m, model = self.model.params, self.model
        form = model.structure.types
        if form == "gamma":  # Gamma with mean 1 and variance v
            v = m.intent_variance
            return float(model.rng.gamma(1.0 / v, v)) if v > 0 else 1.0
        if form == "two_types":  # a revisionist share with hawk_ratio times the intent of the limited-aims rest
            limited = 1.0 / (1.0 + m.hawk_share * (m.hawk_ratio - 1.0))
            return m.hawk_ratio * limited if model.chance(m.hawk_share) else limited
        raise ValueError(f"unknown types form {form}")

    def form_prior(self, bases: float) -> None:
        """Prior belief that probes are answered; permanent bases on day 0 raise it by their weight."""
        p = self.params
        prior = min(1.0, p.prior_credibility + self.model.params.bases_credibility * bases)
        self.answered = prior * p.prior_strength
        self.unanswered = (1.0 - prior) * p.prior_strength

    def reputation(self) -> float:
        """Mean of the Beta belief that a probe will be answered."""
        return self.answered / (self.answered + self.unanswered)

    def accepts(self, logit: float) -> bool:
        """Accept in one round with probability logistic(logit)."""
        return self.model.chance(logistic(logit))

    def probes(self, hostility: float) -> bool:
        """Probe with daily probability probe_rate x (1 + hostility), at most 1."""
        return self.model.chance(min(1.0, self.params.probe_rate * (1.0 + hostility)))

    def learn(self, answered: bool) -> None:
        """After a probe: one more observation of an answered or an unanswered probe."""
        if answered:
            self.answered += 1.0
        else:
            self.unanswered += 1.0

    def forces(self, day: int) -> float:
        """Russia's forces in the zone on ``day``, after rearmament."""
        return self.params.troops * (1.0 + self.params.rearmament_rate) ** (day / 365.0)

    def offensive_probability(self, share: float, shift: float, hostility: float, cost: float, escalation: float,
                              waiting: float) -> float:
        """Daily probability of a major offensive, in the scenario's ``offensive`` form (before the duration
        factor). ``share``: Russia's share of the forces; ``shift``: the weighted power shift since day 0;
        ``cost``: K; ``waiting``: the value of waiting for a foreseen window."""
        p, m = self.params, self.model.params
        push = m.escalation_hazard_weight * escalation
        form = self.model.structure.offensive
        if form == "hazard":  # intent x base hazard x exp(gain + shift + hostility - K + escalation), at most 1
            if p.base_offensive_hazard == 0.0:
                return 0.0
            exponent = p.offensive_gain * p.resolve * share + shift + hostility - cost + push
            return min(1.0, self.intent * p.base_offensive_hazard * math.exp(min(EXPONENT_CAP, exponent)))
        if form == "choice":  # attack when fighting now beats both the deal and waiting, up to a ceiling
            utility = (self.intent * p.offensive_value * p.resolve * share + shift + hostility + push - cost
                       - p.resumption_cost - waiting)
            z = max(-EXPONENT_CAP, min(EXPONENT_CAP, utility / m.offensive_noise))
            return m.offensive_ceiling * logistic(z)
        raise ValueError(f"unknown offensive form {form}")


# --- one world ---------------------------------------------------------------------------------


class OracleModel(mesa.Model):
    """One world of the ceasefire model, one day per ``step``; day 0 is the negotiation."""

    def __init__(self, scenario: Scenario, rng=None) -> None:
        super().__init__(rng=rng)
        self.config = scenario
        self.params = scenario.model
        self.structure = scenario.structure
        self.day = 0
        a = scenario.agents
        self.uk = OracleGuarantor(self, "UK", a.UK)
        self.fr = OracleGuarantor(self, "FR", a.FR)
        self.de = OracleConditionalGuarantor(self, "DE", a.DE)
        self.guarantors = [self.uk, self.fr, self.de]
        self.by_code = {g.code: g for g in self.guarantors}
        self.us = OracleMonitor(self, a.US)
        self.ua = OracleDefender(self, a.UA)
        self.ru = OracleAggressor(self, a.RU)  # draws Russia's type: first
        self.de.decide_deployment()  # second
        self.ru.form_prior(self.bases_in_ukraine())
        self.elections: dict[int, list[str]] = {}
        for day, code in election_days(scenario.start_date, scenario.horizon_days):
            self.elections.setdefault(day, []).append(code)
        self.initial_ratio = self.force_ratio(*self.forces(0))

        self.escalation = 0.0
        self.sanctions = 0.0
        self.institution = 0.0
        self.breakdown_day: int | None = None
        self.counts = dict.fromkeys(COUNT_COLUMNS, 0)

        self.agreed_guarantee = self.guarantee()
        self.agreed = self.negotiate()
        self.holding = self.agreed
        self.cause = "held" if self.agreed else "no_deal"
        self.running = self.holding and scenario.horizon_days > 0

    def chance(self, p: float) -> bool:
        """A Bernoulli(p) event; a uniform is drawn only when the outcome is uncertain."""
        if p <= 0.0:
            return False
        if p >= 1.0:
            return True
        return self.rng.random() < p

    # --- quantities of the day -----------------------------------------------------------------

    def presence_weight(self, troops: float) -> float:
        """W(T): the share of a presence-dependent effect ``troops`` buy, in the scenario's ``presence`` form."""
        return PRESENCE[self.structure.presence](troops, self.params.presence_half)

    def troops_in_ukraine(self) -> float:
        """European ground troops physically in Ukraine, T."""
        return self.uk.troops + self.fr.troops + self.de.troops

    def ground_troops(self) -> float:
        """Effective ground troops F: in Ukraine, plus Germany's neighbouring troops at ``neighbour_weight``."""
        return self.uk.effective_troops() + self.fr.effective_troops() + self.de.effective_troops()

    def air_maritime(self) -> float:
        """Capability units A of the active guarantors' air and maritime roles."""
        return self.uk.air_maritime() + self.fr.air_maritime() + self.de.air_maritime()

    def bases_in_ukraine(self) -> float:
        """Weight of the permanent bases in Ukraine, B: the largest of the guarantors'."""
        return max(g.bases_weight() for g in self.guarantors)

    def presence(self) -> float:
        """What Russia objects to, X: troops in Ukraine plus neighbouring troops at a lower weight, per troop_scale."""
        m = self.params
        return (self.troops_in_ukraine() + m.neighbour_objection_weight * self.de.neighbour_troops) / m.troop_scale

    def capability_for_ukraine(self) -> float:
        """Capability as Ukraine sees it, C_UA: absolute, whatever the capability form."""
        return self.ground_troops() / self.params.troop_scale + self.air_maritime()

    def capability(self, russians: float, ground: float | None = None) -> float:
        """Capability for deterrence, C, in the scenario's ``capability`` form; ``russians``: R_t; ``ground``:
        effective ground troops if not today's."""
        form, m = self.structure.capability, self.params
        ground = self.ground_troops() if ground is None else ground
        if form == "absolute" or russians <= 0:
            return ground / m.troop_scale + self.air_maritime()
        if form == "relative":
            return ground / (m.balance_unit * russians) + self.air_maritime()
        raise ValueError(f"unknown capability form {form}")

    def commitment(self, germany: float | None = None) -> float:
        """c_com: probability that at least one guarantor would enter a war (Germany's pi_g replaced if given)."""
        germany = self.de.commitment() if germany is None else germany
        return 1.0 - (1.0 - self.uk.commitment()) * (1.0 - self.fr.commitment()) * (1.0 - germany)

    def credibility(self, germany: float | None = None) -> float:
        """Russia's belief that the guarantee will be honoured, c, in the scenario's ``credibility`` form."""
        form = self.structure.credibility
        if form == "reputation":
            return self.ru.reputation()
        if form == "commitment":
            return self.commitment(germany)
        if form == "both":
            share = self.params.commitment_share
            return share * self.commitment(germany) + (1.0 - share) * self.ru.reputation()
        raise ValueError(f"unknown credibility form {form}")

    def guarantee(self) -> float:
        """Guarantee strength G Ukraine perceives: capability, bases and monitoring each close part of the gap."""
        m = self.params
        gap = math.exp(-self.capability_for_ukraine())
        gap *= 1.0 - m.bases_guarantee * self.bases_in_ukraine()
        gap *= 1.0 - m.monitoring_weight * self.us.detection_probability
        return 1.0 - gap

    def terms_index(self) -> float:
        """How far the deal's terms favour Russia, 0-1: weighted mean of territory, relief, neutrality and the
        share of Ukraine's forces the cap removes; 0 if every weight is 0."""
        m = self.params
        weights = m.territory_weight + m.relief_weight + m.neutrality_weight + m.force_cap_weight
        if weights <= 0:
            return 0.0
        return (m.territory_weight * m.terms_territory + m.relief_weight * m.terms_sanctions_relief
                + m.neutrality_weight * m.terms_neutrality + m.force_cap_weight * (1.0 - m.terms_force_cap)) / weights

    def forces(self, day: int) -> tuple[float, float]:
        """(R_t, U_t): Russian and Ukrainian forces in the zone on ``day``, after rearmament."""
        return self.ru.forces(day), self.ua.forces(day)

    @staticmethod
    def force_share(russians: float, ukrainians: float) -> float:
        """Russia's share of the forces in the zone; 0.5 if there are none."""
        return russians / (russians + ukrainians) if russians + ukrainians > 0 else 0.5

    @staticmethod
    def force_ratio(russians: float, ukrainians: float) -> float:
        """Russian over Ukrainian forces; 0 where either is 0 (no power shift then)."""
        return russians / ukrainians if russians > 0 and ukrainians > 0 else 0.0

    def power_shift(self, russians: float, ukrainians: float) -> float:
        """ln(phi_t / phi_0): how far the force ratio has moved towards Russia since day 0."""
        ratio = self.force_ratio(russians, ukrainians)
        return math.log(ratio / self.initial_ratio) if ratio > 0 and self.initial_ratio > 0 else 0.0

    def expected_cost(self, credibility: float, capability: float, in_ukraine: float | None = None) -> float:
        """K: c x (deterrence_weight x C + entry_cost x W(T)) + sanctions_weight x sanctions."""
        m = self.params
        in_ukraine = self.troops_in_ukraine() if in_ukraine is None else in_ukraine
        tripwire = self.presence_weight(in_ukraine)
        return credibility * (m.deterrence_weight * capability + m.entry_cost * tripwire) \
            + m.sanctions_weight * self.sanctions

    # --- Russia's foresight --------------------------------------------------------------------

    def foreseen_entry(self, cost: float) -> float:
        """How much Germany's foreseen entry would raise K, times its probability and discounted by the days to
        it; 0 once it is no longer ahead."""
        de, m = self.de, self.params
        if not de.entry_ahead():
            return 0.0
        planned = float(de.params.troops)
        capability = self.capability(self.ru.forces(self.day), ground=self.ground_troops() + planned)
        credibility = self.credibility(germany=de.commitment_once_entered())
        entered = self.expected_cost(credibility, capability, self.troops_in_ukraine() + planned)
        days_to_entry = de.params.deployment_delay_days - self.day
        return de.params.deployment_probability * math.exp(-days_to_entry / m.foresight_days) * (entered - cost)

    def waiting_value(self, cost: float) -> float:
        """What Russia gains by waiting: foresight x (the fall of K elections ahead promise - the rise of K
        Germany's entry ahead threatens). Each election still to come counts a quarter, discounted."""
        m = self.params
        if m.foresight <= 0:
            return 0.0
        window = sum(math.exp(-(day - self.day) / m.foresight_days) * len(codes)
                     for day, codes in self.elections.items() if day > self.day) / 4.0
        opening = cost * m.election_turnover * m.election_shock * window
        return m.foresight * (opening - self.foreseen_entry(cost))

    # --- day 0 ---------------------------------------------------------------------------------

    def russian_logit(self) -> float:
        """Russia's log-odds of accepting in one round, in the scenario's ``acceptance`` form."""
        a, m = self.config.agents, self.params
        ru = a.RU
        objection = OBJECTION[self.structure.objection](self.presence(), ru.troop_objection, m.objection_scale,
                                                        m.presence_half / m.troop_scale)
        logit = (ru.acceptance_logit + ru.war_cost + m.pressure_weight * a.US.resolve - objection
                 - ru.bases_price * self.bases_in_ukraine() + ru.terms_weight * self.terms_index())
        cost = self.expected_cost(self.credibility(), self.capability(self.ru.forces(0)))
        cost += m.foresight * self.foreseen_entry(cost)
        return ACCEPTANCE[self.structure.acceptance](logit, self.ru.intent, cost, ru.table_gain, ru.resolve)

    def negotiate(self) -> bool:
        """Up to ``mediation_rounds`` rounds; a deal as soon as both accept in the same round."""
        logit = self.russian_logit()
        ukraine = self.ua.acceptance(self.agreed_guarantee)
        for _ in range(self.config.agents.US.mediation_rounds):
            if self.chance(ukraine) and self.ru.accepts(logit):
                return True
        return False

    # --- one day -------------------------------------------------------------------------------

    def hold_elections(self) -> None:
        """Step 0: each election of the day brings a less committed government w.p. ``election_turnover``."""
        for code in self.elections.get(self.day, ()):
            if self.chance(self.params.election_turnover):
                if code == "US":
                    self.us.lose_election()
                else:
                    self.by_code[code].lose_election()

    def observe_incidents(self) -> tuple[int, int]:
        """Step 3: (incidents, detected incidents) along the contact line today."""
        m = self.params
        detection = self.us.detection_probability
        uncovered = UNCOVERED[self.structure.deployment](self.troops_in_ukraine(), m.troop_scale, m.front_km,
                                                         m.buffer_density)
        rate = (m.incident_rate * (1.0 - m.buffer_incident_reduction * (1.0 - uncovered))
                * (1.0 - m.monitoring_incident_reduction * detection))
        incidents = int(self.rng.poisson(rate)) if rate > 0 else 0
        # each incident is detected independently: the same law as two independent thinned Poissons
        detected = int(self.rng.binomial(incidents, detection)) if incidents else 0
        return incidents, detected

    def step(self) -> None:
        """One day of ceasefire."""
        m = self.params
        self.day += 1

        # 0-1. elections, then commitments
        self.hold_elections()
        for g in self.guarantors:
            g.update_commitments()

        # 2. the quantities of the day, from today's troops
        russians, ukrainians = self.forces(self.day)
        capability = self.capability(russians)
        hostility = self.config.agents.RU.provocation * self.presence()

        # 3. incidents
        incidents, detected_incidents = self.observe_incidents()

        # 4. probe: detection, attribution; answers and sanctions if blamed; retaliation; learning
        probe = detected_probe = blamed = answered = sanctioned = retaliated = False
        answered_by = dict.fromkeys(self.guarantors, False)
        if self.ru.probes(hostility):
            probe = True
            detected_probe = self.us.detects()
            blamed = detected_probe and self.us.attributes()
            if blamed:
                for g in self.guarantors:
                    answered_by[g] = g.answers_probe()
                answered = any(answered_by.values())
                sanctioned = self.us.sanctions()
            retaliated = self.ua.retaliates(blamed)
            self.ru.learn(answered)

        # 5. spoilers: irregulars of either side; handled jointly only if detected and attributed right
        spoiler = self.chance(m.spoiler_rate)
        spoiler_unhandled = spoiler and not (self.us.detects() and self.us.attributes())

        # 6. sanctions pressure, escalation, then what holding has built and escalation erodes
        self.sanctions = self.sanctions * (1.0 - m.sanctions_decay) + m.sanctions_step * sanctioned
        self.escalation = max(0.0, self.escalation * (1.0 - m.escalation_decay)
                              + self.escalation_added(incidents, detected_incidents, probe, blamed, answered,
                                                      retaliated, spoiler_unhandled))
        stock = self.institution
        stock += (1.0 - stock) / m.institution_days - m.institution_erosion * self.escalation * stock
        self.institution = min(1.0, max(0.0, stock))

        # 7. breakdown, the first cause that applies
        # the offensive is weighed with today's belief, after today's probe has been learnt (ODD step 7)
        self.break_down(capability, self.credibility(), hostility, russians, ukrainians)

        # 8. slow variables and bookkeeping
        detected_violations = detected_incidents + detected_probe
        for g in self.guarantors:
            g.absorb_losses(detected_violations, answered_by[g])
        self.us.lose_patience(detected_violations)
        counts = self.counts
        counts["incidents"] += incidents
        counts["detected_violations"] += detected_violations
        counts["probes"] += probe
        counts["detected_probes"] += detected_probe
        counts["responses"] += answered
        counts["sanctions_imposed"] += sanctioned
        counts["spoiler_events"] += spoiler
        if self.day >= self.config.horizon_days:
            self.running = False

    def escalation_added(self, incidents: int, detected: int, probe: bool, blamed: bool, answered: bool,
                         retaliated: bool, spoiler_unhandled: bool) -> float:
        """Escalation added today before decay; a jointly handled probe calms (may be negative)."""
        m = self.params
        added = m.incident_escalation * ((incidents - detected) + (1.0 - m.verified_incident_damping) * detected)
        if probe:
            added += m.probe_escalation
            if blamed:
                added += m.response_escalation * answered - m.joint_calming
            else:
                added += m.misperception_escalation
            added += m.retaliation_escalation * retaliated
        if spoiler_unhandled:
            added += m.spoiler_escalation
        return added

    def break_down(self, capability: float, credibility: float, hostility: float, russians: float,
                   ukrainians: float) -> None:
        """Step 7: offensive, else spiral, else Ukraine's withdrawal; at most one cause. The duration form scales
        the first two."""
        m = self.params
        cost = self.expected_cost(credibility, capability)
        shift = m.power_shift_weight * self.power_shift(russians, ukrainians)
        waiting = self.waiting_value(cost) if self.structure.offensive == "choice" else 0.0
        offensive = self.ru.offensive_probability(self.force_share(russians, ukrainians), shift, hostility, cost,
                                                  self.escalation, waiting)
        spiral = SPIRAL[self.structure.escalation](self.escalation, m.escalation_threshold, m.spiral_hazard,
                                                   m.spiral_slope)
        duration = DURATION[self.structure.duration](self.institution, m.institution_effect)
        if self.chance(offensive * duration):
            self.end("major_offensive")
        elif self.chance(spiral * duration):
            self.end("escalation_spiral")
        elif self.ua.withdraws():
            self.end("ukrainian_withdrawal")

    def end(self, cause: str) -> None:
        """The ceasefire breaks down today for ``cause``."""
        self.holding = False
        self.running = False
        self.cause = cause
        self.breakdown_day = self.day

    def run(self) -> OracleModel:
        """Step until the ceasefire breaks down or the horizon is reached; returns self."""
        while self.running:
            self.step()
        return self

    def record(self) -> dict:
        """This world's outcome as one row of ``run_oracle``'s table."""
        assert self.cause in CAUSE_CODES
        day = float("nan") if self.breakdown_day is None else float(self.breakdown_day)
        return {"agreed": self.agreed, "breakdown_day": day, "cause": self.cause, "intent": self.ru.intent,
                **self.counts}


def run_oracle(scenario: Scenario, replications: int, seed: int) -> pd.DataFrame:
    """Run ``replications`` independent worlds, one ``OracleModel`` each.

    World ``i`` is seeded with child ``i`` of ``numpy.random.SeedSequence(seed)``.

    Returns:
        One row per world: ``replication, agreed, breakdown_day`` (float, NaN if it did not break
        down), ``cause`` (a name of ``CAUSE_CODES``), ``intent`` (Russia's type, mean 1) and the
        counts of ``COUNT_COLUMNS``.
    """
    rows = []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(replications)):
        model = OracleModel(scenario, rng=np.random.default_rng(child)).run()
        rows.append({"replication": i, **model.record()})
    columns = ["replication", "agreed", "breakdown_day", "cause", "intent", *COUNT_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"agreed": bool, "breakdown_day": float, "intent": float,
                         **dict.fromkeys(COUNT_COLUMNS, "int64")})
