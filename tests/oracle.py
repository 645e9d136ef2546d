"""A plain, one-world-per-model implementation of the ceasefire rules (model v2): the test oracle.

``sim.engine.model.CeasefireModel`` steps a batch of worlds with numpy arrays and shared uniform
draws. This module implements the same rules again, independently and as plainly as possible,
from the specification (docs/ODD.md, section 7): one ``mesa.Model`` is one world, every agent's
state is a Python scalar, every random event is one scalar draw from ``self.rng`` made only when
it is needed. The rival forms of the contested mechanisms are written out here again (the
dictionaries ``OBJECTION``, ``SPIRAL`` and the ``if`` chains of ``capability`` and
``credibility``); nothing is taken from ``sim.mechanisms`` or ``sim.engine.agents``. It reproduces the
engine's *distribution* of outcomes, not its random stream; ``tests/test_oracle_agreement.py``
compares the two statistically. It is also the baseline of ``benchmarks/bench_engine.py``.

Day 0: Russia's intent is drawn, then whether Germany will ever deploy into Ukraine, then up to
``US.mediation_rounds`` negotiation rounds. Order of events in one day:

0. elections on this day's date: a guarantor's or the US's government may become less committed;
1. commitments: Germany may enter Ukraine; guarantors with support below their threshold draw down;
2. presence, capability, credibility, hostility and the force levels of the day;
3. incidents along the contact line and their detection;
4. a possible Russian probe: detection, attribution, answers, sanctions, Ukrainian retaliation, learning;
5. a possible spoiler attack, handled jointly only if detected and correctly attributed;
6. sanctions pressure and escalation are updated;
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
"""Largest exponent of a hazard's exponential; a hazard is at most 1 long before."""


def logistic(x: float) -> float:
    """The logistic function 1 / (1 + e^-x) of a scalar, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# --- the rival forms, one small function each --------------------------------------------------

OBJECTION: dict[str, Callable[[float, float, float], float]] = {
    # (presence X, troop_objection, objection_scale) -> log-odds of acceptance lost
    "linear": lambda x, w, scale: w * x,
    "categorical": lambda x, w, scale: w * scale if x > 0 else 0.0,
    "saturating": lambda x, w, scale: w * scale * (1.0 - math.exp(-x / scale)),
}
"""Russia's objection to a Western presence, by form."""

SPIRAL: dict[str, Callable[[float, float, float, float], float]] = {
    # (escalation E, threshold, spiral_hazard, spiral_slope) -> daily probability of a spiral
    "threshold": lambda e, threshold, base, slope: 1.0 if e > threshold else 0.0,
    "smooth": lambda e, threshold, base, slope: min(1.0, base * math.exp(min(EXPONENT_CAP, slope * (e - threshold)))),
}
"""Daily hazard of an escalation spiral, by form."""


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

    def effective_troops(self) -> float:
        """Ground troops counting towards capability: in Ukraine fully, next door at ``neighbour_weight``."""
        return self.troops + self.model.params.neighbour_weight * self.neighbour_troops

    def active(self) -> bool:
        """Whether this guarantor has any forces deployed (its air and maritime roles count only then)."""
        return self.troops + self.neighbour_troops > 0

    def air_maritime(self) -> float:
        """Capability units of this guarantor's air and maritime roles while it is active."""
        m = self.model.params
        if not self.active():
            return 0.0
        return m.air_weight * self.params.air_role + m.maritime_weight * self.params.maritime_role

    def has_bases_in_ukraine(self) -> bool:
        """Permanent bases count only while this guarantor has troops in Ukraine."""
        return bool(self.params.permanent_bases) and self.troops > 0

    def commitment(self) -> float:
        """pi_g: probability that this guarantor enters a war, from resolve, stakes and support, 0-1."""
        m = self.model.params
        stakes = 0.0
        if self.troops > 0:
            stakes += m.presence_stake
        if self.has_bases_in_ukraine():
            stakes += m.bases_stake
        if self.troops == 0 and self.neighbour_troops > 0:
            stakes += m.neighbour_stake
        initial = self.params.domestic_support
        support_factor = 1.0 if initial == 0 else min(1.0, self.support / initial)
        return self.resolve * min(1.0, stakes) * support_factor

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
        """Excess violations accumulate; once they pass ``patience`` detection is cut."""
        p = self.params
        self.impatience = max(0.0, self.impatience + detected_violations - p.violation_tolerance)
        if self.impatience > p.patience:
            self.scale_down()


class OracleDefender(mesa.Agent):
    """Ukraine: accepts only a strong guarantee, retaliates, and may leave a weak ceasefire."""

    def __init__(self, model: OracleModel, params) -> None:
        super().__init__(model)
        self.params = params

    def accepts(self, guarantee: float) -> bool:
        """Accept in one round with probability logistic((guarantee - threshold) / sharpness)."""
        sharpness = self.model.params.acceptance_sharpness
        return self.model.chance(logistic((guarantee - self.params.guarantee_threshold) / sharpness))

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
        """Ukraine's forces in the zone on ``day``, after rearmament."""
        return self.params.troops * (1.0 + self.params.rearmament_rate) ** (day / 365.0)


class OracleAggressor(mesa.Agent):
    """Russia: weighs the deal, probes, learns the guarantors' credibility, may launch an offensive."""

    def __init__(self, model: OracleModel, params) -> None:
        super().__init__(model)
        self.params = params
        # unobserved intent, a multiplier of the offensive hazard: Gamma with mean 1, variance v
        v = model.params.intent_variance
        self.intent = float(model.rng.gamma(1.0 / v, v)) if v > 0 else 1.0
        self.answered = 0.0  # Beta alpha, set by form_prior
        self.unanswered = 0.0  # Beta beta

    def form_prior(self, bases: bool) -> None:
        """Prior belief that probes are answered; permanent bases on day 0 raise it."""
        p = self.params
        prior = min(1.0, p.prior_credibility + (self.model.params.bases_credibility if bases else 0.0))
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

    def offensive_hazard(self, exponent: float) -> float:
        """Daily probability of a major offensive: intent x base hazard x exp(exponent), at most 1."""
        base = self.params.base_offensive_hazard
        if base == 0.0:
            return 0.0
        return min(1.0, self.intent * base * math.exp(min(EXPONENT_CAP, exponent)))


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
        self.ru = OracleAggressor(self, a.RU)  # draws intent: first
        self.de.decide_deployment()  # second
        self.ru.form_prior(self.bases_in_ukraine())
        self.elections: dict[int, list[str]] = {}
        for day, code in election_days(scenario.start_date, scenario.horizon_days):
            self.elections.setdefault(day, []).append(code)
        self.initial_ratio = self.force_ratio(*self.forces(0))

        self.escalation = 0.0
        self.sanctions = 0.0
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

    def troops_in_ukraine(self) -> float:
        """European ground troops physically in Ukraine, T."""
        return self.uk.troops + self.fr.troops + self.de.troops

    def ground_troops(self) -> float:
        """Effective ground troops F: in Ukraine, plus Germany's neighbouring troops at ``neighbour_weight``."""
        return self.uk.effective_troops() + self.fr.effective_troops() + self.de.effective_troops()

    def air_maritime(self) -> float:
        """Capability units A of the active guarantors' air and maritime roles."""
        return self.uk.air_maritime() + self.fr.air_maritime() + self.de.air_maritime()

    def bases_in_ukraine(self) -> bool:
        """Whether any guarantor with permanent bases has troops in Ukraine, B."""
        return any(g.has_bases_in_ukraine() for g in self.guarantors)

    def presence(self) -> float:
        """What Russia objects to, X: troops in Ukraine plus neighbouring troops at a lower weight, per troop_scale."""
        m = self.params
        return (self.troops_in_ukraine() + m.neighbour_objection_weight * self.de.neighbour_troops) / m.troop_scale

    def capability_for_ukraine(self) -> float:
        """Capability as Ukraine sees it, C_UA: absolute, whatever the capability form."""
        return self.ground_troops() / self.params.troop_scale + self.air_maritime()

    def capability(self, russians: float) -> float:
        """Capability for deterrence, C, in the scenario's ``capability`` form; ``russians``: R_t."""
        form, m = self.structure.capability, self.params
        if form == "absolute" or russians == 0:
            return self.ground_troops() / m.troop_scale + self.air_maritime()
        if form == "relative":
            return self.ground_troops() / (m.balance_unit * russians) + self.air_maritime()
        raise ValueError(f"unknown capability form {form}")

    def commitment(self) -> float:
        """c_com: probability that at least one guarantor would enter a war."""
        return 1.0 - (1.0 - self.uk.commitment()) * (1.0 - self.fr.commitment()) * (1.0 - self.de.commitment())

    def credibility(self) -> float:
        """Russia's belief that the guarantee will be honoured, c, in the scenario's ``credibility`` form."""
        form = self.structure.credibility
        if form == "reputation":
            return self.ru.reputation()
        if form == "commitment":
            return self.commitment()
        if form == "both":
            share = self.params.commitment_share
            return share * self.commitment() + (1.0 - share) * self.ru.reputation()
        raise ValueError(f"unknown credibility form {form}")

    def guarantee(self) -> float:
        """Guarantee strength G Ukraine perceives: capability, bases and monitoring each close part of the gap."""
        m = self.params
        gap = math.exp(-self.capability_for_ukraine())
        if self.bases_in_ukraine():
            gap *= 1.0 - m.bases_guarantee
        gap *= 1.0 - m.monitoring_weight * self.us.detection_probability
        return 1.0 - gap

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

    def expected_cost(self, credibility: float, capability: float) -> float:
        """Expected cost of an offensive before sanctions: c x (deterrence_weight x C + entry_cost x tripwire)."""
        m = self.params
        tripwire = 1.0 if self.troops_in_ukraine() > 0 else 0.0
        return credibility * (m.deterrence_weight * capability + m.entry_cost * tripwire)

    # --- day 0 ---------------------------------------------------------------------------------

    def russian_logit(self) -> float:
        """Russia's log-odds of accepting in one round, in the scenario's ``acceptance`` form."""
        a, m = self.config.agents, self.params
        ru = a.RU
        logit = (ru.acceptance_logit + ru.war_cost + m.pressure_weight * a.US.resolve
                 - OBJECTION[self.structure.objection](self.presence(), ru.troop_objection, m.objection_scale))
        if self.bases_in_ukraine():
            logit -= ru.bases_price
        form = self.structure.acceptance
        if form == "independent":
            return logit
        if form == "bargaining":
            cost = self.expected_cost(self.credibility(), self.capability(self.ru.forces(0)))
            return logit - ru.table_gain * self.ru.intent * math.exp(-cost)
        raise ValueError(f"unknown acceptance form {form}")

    def negotiate(self) -> bool:
        """Up to ``mediation_rounds`` rounds; a deal as soon as both accept in the same round."""
        logit = self.russian_logit()
        for _ in range(self.config.agents.US.mediation_rounds):
            if self.ua.accepts(self.agreed_guarantee) and self.ru.accepts(logit):
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
        cover = 1.0 - math.exp(-self.troops_in_ukraine() / m.troop_scale)
        rate = (m.incident_rate * (1.0 - m.buffer_incident_reduction * cover)
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

        # 6. sanctions pressure and escalation
        self.sanctions = self.sanctions * (1.0 - m.sanctions_decay) + m.sanctions_step * sanctioned
        self.escalation = max(0.0, self.escalation * (1.0 - m.escalation_decay)
                              + self.escalation_added(incidents, detected_incidents, probe, blamed, answered,
                                                      retaliated, spoiler_unhandled))

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
        """Step 7: offensive, else spiral, else Ukraine's withdrawal; at most one cause."""
        m, ru = self.params, self.config.agents.RU
        cost = self.expected_cost(credibility, capability) + m.sanctions_weight * self.sanctions
        gain = ru.offensive_gain * ru.resolve * self.force_share(russians, ukrainians)
        exponent = (gain + hostility - cost + m.escalation_hazard_weight * self.escalation
                    + m.power_shift_weight * self.power_shift(russians, ukrainians))
        spiral = SPIRAL[self.structure.escalation](self.escalation, m.escalation_threshold, m.spiral_hazard,
                                                   m.spiral_slope)
        if self.chance(self.ru.offensive_hazard(exponent)):
            self.end("major_offensive")
        elif self.chance(spiral):
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
