"""A plain, one-world-per-model implementation of the ceasefire rules: the test oracle.

``sim.model.CeasefireModel`` steps a batch of worlds with numpy arrays and shared uniform
draws. This module implements the same rules again, independently and as plainly as possible:
one ``mesa.Model`` is one world, every agent's state is a Python scalar, every random event is
one scalar draw from ``self.rng`` made only when it is needed. Equation numbers refer to
docs/ODD.md, section 7. It reproduces the engine's *distribution* of outcomes, not its random
stream; ``tests/test_oracle_agreement.py`` compares the two statistically. It is also the
baseline of ``benchmarks/bench_engine.py``.

Day 0: Russia's intent is drawn, then Ukraine and Russia decide on the deal. Order of events in
one day (ODD section 3, as in ``CeasefireModel.step``):

1. commitments: Germany may enter Ukraine; guarantors whose support is below their drawdown
   threshold withdraw a share of their troops;
2. incidents along the contact line (Poisson) and their detection by the US (binomial: each
   incident is detected independently; the engine draws the equivalent thinned Poissons);
3. a possible Russian probe, its detection and attribution, the guarantors' answers, Russia's
   learning from it, US sanctions and Ukrainian retaliation;
4. sanctions pressure and escalation are updated;
5. breakdown, first cause wins: major offensive, escalation spiral, Ukrainian withdrawal;
6. domestic support erodes or recovers; the US may lose patience and scale monitoring down.
"""

from __future__ import annotations

import math

import mesa
import numpy as np
import pandas as pd

from sim.model import CAUSE_CODES
from sim.scenario import Scenario

CAUSE_NAMES: dict[int, str] = {code: name for name, code in CAUSE_CODES.items()}
"""Cause name of each code, the inverse of ``CAUSE_CODES``."""

COUNT_COLUMNS: tuple[str, ...] = (
    "incidents", "detected_violations", "probes", "detected_probes", "responses", "sanctions_imposed",
)
"""Per-world event counters reported by ``run_oracle`` besides the outcome."""


def logistic(x: float) -> float:
    """The logistic function 1 / (1 + e^-x) of a scalar, without overflow."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class OracleGuarantor(mesa.Agent):
    """The UK or France: troops in Ukraine from day 0, answers probes, may draw down."""

    def __init__(self, model: OracleModel, code: str, params) -> None:
        super().__init__(model)
        self.code = code
        self.params = params
        self.troops = float(params.troops)
        self.support = float(params.domestic_support)
        self.responses = 0

    def effective_troops(self) -> float:
        """Troops counting towards the coalition's capability."""
        return self.troops

    def has_bases_in_ukraine(self) -> bool:
        """Permanent bases count only while this guarantor has troops in Ukraine."""
        return bool(self.params.permanent_bases) and self.troops > 0

    def update_commitments(self) -> None:
        """While support is below the drawdown threshold, withdraw a share of the troops each day (eq. 14)."""
        if self.support < self.params.drawdown_threshold:
            self.troops = self.reduced(self.troops)

    def reduced(self, troops: float) -> float:
        """One day of drawdown; fewer than ``min_presence`` troops left means none."""
        troops *= 1.0 - self.drawdown_rate()
        return 0.0 if troops < self.model.params.min_presence else troops

    def drawdown_rate(self) -> float:
        """Daily share of troops withdrawn; permanent bases slow it."""
        m = self.model.params
        return m.drawdown_rate * (m.bases_drawdown_factor if self.params.permanent_bases else 1.0)

    def answers_probe(self) -> bool:
        """A guarantor with troops in Ukraine answers a blamed probe with probability ``resolve``."""
        if self.troops > 0 and self.model.rng.random() < self.params.resolve:
            self.responses += 1
            return True
        return False

    def absorb_losses(self, detected_violations: int, answered: bool) -> None:
        """Support recovers towards its initial level and is lost to violations and to answering."""
        m = self.model.params
        support = self.support + m.support_recovery * (self.params.domestic_support - self.support)
        support -= m.support_loss_per_100_violations * detected_violations / 100.0
        if answered:
            support -= m.support_loss_per_response
        self.support = min(1.0, max(0.0, support))


class OracleConditionalGuarantor(OracleGuarantor):
    """Germany: troops in neighbouring NATO states from day 0; enters Ukraine after the delay."""

    def __init__(self, model: OracleModel, code: str, params) -> None:
        super().__init__(model, code, params)
        self.deployed = params.deployment_delay_days == 0
        self.troops = float(params.troops) if self.deployed else 0.0
        self.neighbour_troops = float(params.neighbour_troops)

    def effective_troops(self) -> float:
        """Troops in Ukraine count fully, troops in neighbouring states at ``neighbour_weight``."""
        return self.troops + self.model.params.neighbour_weight * self.neighbour_troops

    def update_commitments(self) -> None:
        """From day ``deployment_delay_days``, enter Ukraine if support allows (eq. 15); else draw down."""
        support_allows = self.support >= self.params.drawdown_threshold
        if not self.deployed and self.model.day >= self.params.deployment_delay_days and support_allows:
            self.deployed = True
            self.troops = float(self.params.troops)
            return
        super().update_commitments()
        if not support_allows:
            self.neighbour_troops = self.reduced(self.neighbour_troops)


class OracleMonitor(mesa.Agent):
    """The US: detects and attributes violations, sanctions, and may scale monitoring down."""

    def __init__(self, model: OracleModel, params) -> None:
        super().__init__(model)
        self.params = params
        self.detection_probability = float(params.detection_probability)
        self.impatience = 0.0
        self.scaled_down = False

    def detects(self) -> bool:
        """Whether one violation is detected."""
        return self.model.rng.random() < self.detection_probability

    def blames_russia(self) -> bool:
        """Whether a detected probe is attributed to Russia."""
        return self.model.rng.random() < self.params.attribution_accuracy

    def sanctions(self) -> bool:
        """Whether the US answers a blamed probe with new sanctions."""
        return self.model.rng.random() < self.params.resolve

    def lose_patience(self, detected_violations: int) -> None:
        """Excess violations accumulate; once they pass ``patience`` detection is cut, once only."""
        p = self.params
        self.impatience = max(0.0, self.impatience + detected_violations - p.violation_tolerance)
        if not self.scaled_down and self.impatience > p.patience:
            self.detection_probability *= 1.0 - p.scale_down_fraction
            self.scaled_down = True


class OracleDefender(mesa.Agent):
    """Ukraine: accepts only a strong guarantee, retaliates, and may leave a weak ceasefire."""

    def __init__(self, model: OracleModel, params) -> None:
        super().__init__(model)
        self.params = params
        self.retaliations = 0

    def accepts(self, guarantee: float) -> bool:
        """Accept with probability logistic((guarantee - threshold) / sharpness)."""
        sharpness = self.model.params.acceptance_sharpness
        return self.model.rng.random() < logistic((guarantee - self.params.guarantee_threshold) / sharpness)

    def retaliates(self) -> bool:
        """Retaliate against a blamed probe with probability ``resolve``."""
        if self.model.rng.random() < self.params.resolve:
            self.retaliations += 1
            return True
        return False

    def withdraws(self, guarantee: float, agreed_guarantee: float) -> bool:
        """Below ``withdrawal_threshold`` x the agreed guarantee, leave at ``withdrawal_hazard`` (eq. 17)."""
        if guarantee >= self.params.withdrawal_threshold * agreed_guarantee:
            return False
        return self.model.rng.random() < self.model.params.withdrawal_hazard


class OracleAggressor(mesa.Agent):
    """Russia: weighs the deal, probes, learns the guarantors' credibility, may launch an offensive."""

    def __init__(self, model: OracleModel, params, bases: bool) -> None:
        super().__init__(model)
        self.params = params
        prior = params.prior_credibility
        if bases:
            prior = min(1.0, prior + model.params.bases_credibility)
        self.answered = prior * params.prior_strength  # Beta alpha
        self.unanswered = (1.0 - prior) * params.prior_strength  # Beta beta
        # unobserved intent, a multiplier of the offensive hazard: Gamma with mean 1, variance v (eq. 4)
        v = model.params.intent_variance
        self.intent = float(model.rng.gamma(1.0 / v, v)) if v > 0 else 1.0

    @property
    def credibility(self) -> float:
        """Mean of the Beta belief that a probe will be answered."""
        return self.answered / (self.answered + self.unanswered)

    def accepts(self, capability: float, us_resolve: float) -> bool:
        """Accept with log-odds acceptance + war cost + US pressure - objection to foreign troops."""
        p, m = self.params, self.model.params
        logit = (p.acceptance_logit + p.war_cost + m.pressure_weight * us_resolve
                 - p.troop_objection * capability)
        return self.model.rng.random() < logistic(logit)

    def hostility(self, capability: float) -> float:
        """Hostility provoked by foreign forces."""
        return self.params.provocation * capability

    def probes(self, hostility: float) -> bool:
        """Probe with daily probability probe_rate * (1 + hostility), at most 1."""
        return self.model.rng.random() < min(1.0, self.params.probe_rate * (1.0 + hostility))

    def learn(self, answered: bool) -> None:
        """After a probe: one more observation of an answered or an unanswered probe."""
        if answered:
            self.answered += 1.0
        else:
            self.unanswered += 1.0

    def offensive_hazard(
        self, capability: float, hostility: float, sanctions: float, escalation: float
    ) -> float:
        """Daily probability of a major offensive (eq. 16): intent x base x exp(gain + H - cost + w E)."""
        p, m = self.params, self.model.params
        if p.base_offensive_hazard == 0.0:
            return 0.0
        gain = p.offensive_gain * p.resolve * self.model.force_share
        cost = m.deterrence_weight * self.credibility * capability + m.sanctions_weight * sanctions
        exponent = gain + hostility - cost + m.escalation_hazard_weight * escalation
        return min(1.0, self.intent * p.base_offensive_hazard * math.exp(min(exponent, 700.0)))


class OracleModel(mesa.Model):
    """One world of the ceasefire model, one day per ``step``; day 0 is the negotiation."""

    def __init__(self, scenario: Scenario, rng=None) -> None:
        super().__init__(rng=rng)
        self.scenario = scenario
        self.params = scenario.model
        self.day = 0
        a = scenario.agents
        self.uk = OracleGuarantor(self, "UK", a.UK)
        self.fr = OracleGuarantor(self, "FR", a.FR)
        self.de = OracleConditionalGuarantor(self, "DE", a.DE)
        self.guarantors = [self.uk, self.fr, self.de]
        self.us = OracleMonitor(self, a.US)
        self.ua = OracleDefender(self, a.UA)
        self.ru = OracleAggressor(self, a.RU, bases=self.bases_in_ukraine())
        total = a.RU.troops + a.UA.troops
        self.force_share = a.RU.troops / total if total > 0 else 0.5

        self.escalation = 0.0
        self.sanctions = 0.0
        self.breakdown_day: int | None = None
        self.counts = dict.fromkeys(COUNT_COLUMNS, 0)

        # day 0: both sides must accept (eq. 3); Ukraine remembers the guarantee it agreed to
        self.agreed_guarantee = self.guarantee()
        ukraine = self.ua.accepts(self.agreed_guarantee)
        russia = self.ru.accepts(self.capability(), a.US.resolve)
        self.agreed = ukraine and russia
        self.holding = self.agreed
        self.cause = "held" if self.agreed else "no_deal"
        self.running = self.holding and scenario.horizon_days > 0

    def capability(self) -> float:
        """Effective foreign troops in units of ``troop_scale``."""
        return sum(g.effective_troops() for g in self.guarantors) / self.params.troop_scale

    def troops_in_ukraine(self) -> float:
        """European ground troops physically in Ukraine (Germany's neighbouring troops excluded)."""
        return sum(g.troops for g in self.guarantors)

    def bases_in_ukraine(self) -> bool:
        """Whether any guarantor with permanent bases has troops in Ukraine."""
        return any(g.has_bases_in_ukraine() for g in self.guarantors)

    def guarantee(self) -> float:
        """Guarantee strength: troops, bases and monitoring each close part of the remaining gap."""
        m = self.params
        gap = math.exp(-self.capability())  # 1 - cover
        if self.bases_in_ukraine():
            gap *= 1.0 - m.bases_guarantee
        gap *= 1.0 - m.monitoring_weight * self.us.detection_probability
        return 1.0 - gap

    def step(self) -> None:
        """One day of ceasefire (ODD section 3)."""
        m = self.params
        self.day += 1

        # 1. commitments (eq. 14, 15); capability and hostility from today's troops (eq. 1, 7)
        for g in self.guarantors:
            g.update_commitments()
        capability = self.capability()
        hostility = self.ru.hostility(capability)

        # 2. incidents and their detection (eq. 5, 6)
        detection = self.us.detection_probability
        cover = 1.0 - math.exp(-self.troops_in_ukraine() / m.troop_scale)
        rate = (m.incident_rate * (1.0 - m.buffer_incident_reduction * cover)
                * (1.0 - m.monitoring_incident_reduction * detection))
        incidents = int(self.rng.poisson(rate))
        detected_incidents = int(self.rng.binomial(incidents, detection))

        # 3. probe, detection, attribution, answers, learning, sanctions, retaliation (eq. 8-12)
        probe = detected_probe = answered = sanctioned = retaliated = False
        answered_by = dict.fromkeys(self.guarantors, False)
        if self.ru.probes(hostility):
            probe = True
            detected_probe = self.us.detects()
            if detected_probe and self.us.blames_russia():
                for g in self.guarantors:
                    answered_by[g] = g.answers_probe()
                answered = any(answered_by.values())
                sanctioned = self.us.sanctions()
                retaliated = self.ua.retaliates()
            self.ru.learn(answered)

        # 4. sanctions pressure and escalation (eq. 12, 13)
        self.sanctions = self.sanctions * (1.0 - m.sanctions_decay) + m.sanctions_step * sanctioned
        self.escalation = (self.escalation * (1.0 - m.escalation_decay)
                           + m.incident_escalation * incidents
                           + m.probe_escalation * probe
                           + m.response_escalation * answered
                           + m.retaliation_escalation * retaliated)

        # 5. breakdown, the first cause that applies: offensive (eq. 16), spiral (eq. 13), withdrawal (eq. 17)
        hazard = self.ru.offensive_hazard(capability, hostility, self.sanctions, self.escalation)
        if hazard > 0 and self.rng.random() < hazard:
            self.end("major_offensive")
        elif self.escalation > m.escalation_threshold:
            self.end("escalation_spiral")
        elif self.ua.withdraws(self.guarantee(), self.agreed_guarantee):
            self.end("ukrainian_withdrawal")

        # 6. slow variables (eq. 18, 19) and bookkeeping
        detected_violations = detected_incidents + detected_probe
        for g in self.guarantors:
            g.absorb_losses(detected_violations, answered_by[g])
        self.us.lose_patience(detected_violations)
        self.counts["incidents"] += incidents
        self.counts["detected_violations"] += detected_violations
        self.counts["probes"] += probe
        self.counts["detected_probes"] += detected_probe
        self.counts["responses"] += answered
        self.counts["sanctions_imposed"] += sanctioned

        if self.day >= self.scenario.horizon_days:
            self.running = False

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
        return {"agreed": self.agreed, "breakdown_day": day, "cause": self.cause, **self.counts}


def run_oracle(scenario: Scenario, replications: int, seed: int) -> pd.DataFrame:
    """Run ``replications`` independent worlds, one ``OracleModel`` each.

    World ``i`` is seeded with child ``i`` of ``numpy.random.SeedSequence(seed)``.

    Returns:
        One row per world: ``replication, agreed, breakdown_day`` (float, NaN if it did not break
        down), ``cause`` (a name of ``CAUSE_CODES``) and the counts of ``COUNT_COLUMNS``.
    """
    rows = []
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(replications)):
        model = OracleModel(scenario, rng=np.random.default_rng(child)).run()
        rows.append({"replication": i, **model.record()})
    columns = ["replication", "agreed", "breakdown_day", "cause", *COUNT_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"agreed": bool, "breakdown_day": float, **dict.fromkeys(COUNT_COLUMNS, "int64")})
