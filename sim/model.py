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

from sim.agents import (
    Aggressor,
    ConditionalGuarantor,
    Defender,
    Guarantor,
    Monitor,
    exp32,
    guarantee_strength,
)
from sim.scenario import Scenario

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

COMPACT_ENDED_SHARE = 0.0625
"""``run()`` drops ended worlds from the stepped arrays once they are this share of them. Changing it
changes the random streams (draws are made for the stepped worlds)."""

_UNIFORMS_PER_PROBE = 4  # detect, attribute, sanction, retaliate; then one per guarantor


def make_generator(seed: int | np.random.SeedSequence | None) -> np.random.Generator:
    """The model's random number generator: numpy's SFC64 bit generator seeded with ``seed``.

    SFC64 rather than numpy's default PCG64 because random draws are the largest single cost of a
    day (SFC64 is about 20 % faster here); both pass the standard statistical test batteries.
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

    Attributes:
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
    ) -> None:
        super().__init__(rng=rng if isinstance(rng, np.random.Generator) else make_generator(rng))
        self.scenario = scenario
        self.params = scenario.model
        self.worlds = int(worlds)
        self.world_ids = np.arange(self.worlds)  # original index of each element of the state arrays
        self.horizon_days = scenario.horizon_days
        self.day = 0
        agents = scenario.agents

        self.uk = Guarantor(self, "UK", agents.UK)
        self.fr = Guarantor(self, "FR", agents.FR)
        self.de = ConditionalGuarantor(self, "DE", agents.DE)
        self.us = Monitor(self, "US", agents.US)
        self.ua = Defender(self, "UA", agents.UA)
        self.guarantors: list[Guarantor] = [self.uk, self.fr, self.de]
        self.guarantor_set = AgentSet(self.guarantors, random=self.random)
        any_bases = bool(self._bases_in_ukraine().any())
        self.ru = Aggressor(self, "RU", agents.RU, bases=any_bases)
        total = agents.RU.troops + agents.UA.troops
        self.force_share = agents.RU.troops / total if total > 0 else 0.5

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
        self.eroded = np.zeros(n, dtype=bool)  # troops or monitoring were withdrawn in this world

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

    world_state = (
        "world_ids", "agreed", "agreed_guarantee", "holding", "escalation", "sanctions", "breakdown_day", "cause",
        "incidents", "detected_violations", "probes", "detected_probes", "responses", "sanctions_imposed",
        "eroded",
    )
    """Attributes of the model that are per-world arrays (the agents list their own)."""

    @property
    def active_worlds(self) -> int:
        """Length of the state arrays now: all worlds, or fewer while ``run()`` has compacted them."""
        return len(self.world_ids)

    # --- quantities derived from the agents' state -------------------------------------------

    def capability(self) -> np.ndarray:
        """Coalition capability: effective troops / troop_scale, per world (ODD 1)."""
        uk, fr, de = self.guarantors
        return (uk.effective_troops() + fr.effective_troops() + de.effective_troops()) / self.params.troop_scale

    def coalition_troops(self) -> np.ndarray:
        """European ground troops inside Ukraine, per world."""
        uk, fr, de = self.guarantors
        return uk.troops + fr.troops + de.troops

    def _bases_in_ukraine(self, worlds: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Whether any guarantor holds permanent bases in Ukraine, per world (of ``worlds``, indices, if given)."""
        bases = np.zeros(self.world_ids[worlds].size, dtype=bool)
        for g in self.guarantors:
            if g.params.permanent_bases:
                bases |= g.bases_in_ukraine(worlds)
        return bases

    def guarantee(self) -> np.ndarray:
        """Guarantee strength Ukraine perceives, 0-1, per world (ODD 2)."""
        return guarantee_strength(self.capability(), self._bases_in_ukraine(), self.us.detection_probability,
                                  self.params)

    def note_withdrawal(self, worlds: np.ndarray) -> None:
        """An agent withdrew troops or monitoring in ``worlds`` (indices or mask): the guarantee may erode
        there."""
        self.eroded[worlds] = True

    def _withdrawals(self, live: np.ndarray, ended: np.ndarray, capability: np.ndarray) -> np.ndarray:
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
        guarantee = guarantee_strength(capability[where], self._bases_in_ukraine(where),
                                       self.us.detection_probability[where], self.params)
        return where[self.ua.withdraws(guarantee, self.agreed_guarantee[where])]

    def incident_rate(self) -> np.ndarray:
        """Expected incidents per day, per world (ODD 5): reduced by the buffer of troops in Ukraine and by
        monitoring."""
        m = self.params
        uncovered = exp32(self.coalition_troops() * (-1.0 / m.troop_scale))  # 1 - cover
        # 1 - buffer_reduction * cover, written as (1 - buffer_reduction) + buffer_reduction * (1 - cover)
        buffer = (1.0 - m.buffer_incident_reduction) + m.buffer_incident_reduction * uncovered
        return (m.incident_rate * buffer) * (1.0 - m.monitoring_incident_reduction * self.us.detection_probability)

    @property
    def credibility(self) -> np.ndarray:
        """Russia's belief that the guarantee will be honoured, 0-1, per world."""
        return self.ru.credibility

    @property
    def detection_probability(self) -> np.ndarray:
        """US probability of detecting a violation, 0-1, per world."""
        return self.us.detection_probability

    # --- the agreement phase and one day ------------------------------------------------------

    def negotiate(self) -> np.ndarray:
        """Day 0: a deal needs both Ukraine's and Russia's acceptance (ODD 2)."""
        u_ukraine, u_russia = self.rng.random((2, self.active_worlds))
        ukraine = self.ua.accepts(self.agreed_guarantee, u_ukraine)
        russia = self.ru.accepts(self.capability(), self.scenario.agents.US.resolve, u_russia)
        return ukraine & russia

    def step(self) -> None:
        """One day in every world whose ceasefire holds (order of events: ODD section 'Process overview')."""
        self.day += 1
        live = self.holding
        m = self.params
        self.guarantor_set.do("update_commitments", live)

        capability = self.capability()
        hostility = self.ru.hostility(capability)
        u_probe, u_offensive = self.rng.random((2, self.active_worlds))

        # incidents and their detection (ODD 5-6)
        incidents, detected_violations = self.us.observe_incidents(self.incident_rate() * live)

        # probes, their detection and attribution, answers and learning (ODD 8-11): worked out only in
        # the worlds that probe today; arrays named *_probing hold one value per probing world
        probing = self.ru.probe(live, hostility, u_probe).nonzero()[0]
        u_detect, u_attribute, u_sanction, u_retaliate, *u_answer = self.rng.random(
            (_UNIFORMS_PER_PROBE + len(self.guarantors), probing.size))
        detected_probing, blamed_probing = self.us.attribute_probe(probing, u_detect, u_attribute)
        answered_by = {g: g.respond(probing, blamed_probing, u) for g, u in zip(self.guarantors, u_answer, strict=True)}
        uk_answered, fr_answered, de_answered = answered_by.values()
        answered_probing = uk_answered | fr_answered | de_answered
        self.ru.learn(probing, answered_probing)
        sanctioned_probing = self.us.sanction(blamed_probing, u_sanction)
        retaliated_probing = self.ua.retaliate(probing, blamed_probing, u_retaliate)

        # sanctions and escalation dynamics (ODD 12-13)
        # "x + live * change" leaves x exactly as it was in the worlds that have ended
        self.sanctions = self.sanctions - live * (m.sanctions_decay * self.sanctions)
        self.sanctions[probing] += m.sanctions_step * sanctioned_probing
        self.escalation = self.escalation + live * (m.incident_escalation * incidents
                                                    - m.escalation_decay * self.escalation)
        self.escalation[probing] += (m.probe_escalation + m.response_escalation * answered_probing
                                     + m.retaliation_escalation * retaliated_probing)

        # breakdown: offensive first, then the spiral, then Ukraine's withdrawal (ODD 13, 16, 17)
        hazard = self.ru.offensive_hazard(capability, hostility, self.sanctions, self.escalation, self.force_share)
        offensive = live & (u_offensive < hazard)
        spiral = live & ~offensive & (self.escalation > m.escalation_threshold)
        ended = offensive | spiral
        withdrawn = self._withdrawals(live, ended, capability)
        ended[withdrawn] = True
        for worlds, cause in ((offensive, "major_offensive"), (spiral, "escalation_spiral"),
                              (withdrawn, "ukrainian_withdrawal")):
            self.cause[worlds] = CAUSE_CODES[cause]
            self.breakdown_day[worlds] = self.day
        self.holding = live & ~ended

        # bookkeeping and slow variables (ODD 18-19)
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
        return [self, *self.agents]

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
