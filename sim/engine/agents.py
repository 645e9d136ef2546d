"""The six states as Mesa agents whose state is held as numpy arrays over a batch of worlds.

Each agent owns the rules of its role as short verb methods. An array attribute has shape
``(worlds,)``: element ``i`` is this state in independent world ``i``. Methods take a boolean
``live`` mask (worlds whose ceasefire still holds) and leave the other worlds untouched; the
methods that follow a probe work on ``probing``, the indices of the worlds that probed today
(a few per cent of them), with their other arguments and results given for those worlds only.
The contested mechanisms (objection, capability, credibility, escalation, acceptance) are not
here: their rival forms live in :mod:`sim.mechanisms`, and the model wires the chosen ones.
Equations are numbered as in docs/ODD.md.
"""

from __future__ import annotations

from typing import Protocol

import mesa
import numpy as np

from sim.engine.streams import Lane, events_due, first_events, gamma_quantile, normal_pairs, poisson_quantile, uniforms
from sim.engine.world_params import ParamView, at
from sim.mechanisms.credibility import guarantor_commitment
from sim.mechanisms.offensive import OffensiveInputs
from sim.mechanisms.ukraine import UkraineInputs


class Batch(Protocol):
    """What the agents read of the model that steps them (:class:`sim.engine.model.CeasefireModel`)."""

    params: ParamView  # the model's own parameters (``scenario.model``)
    day: int  # days since the ceasefire began, 0 during the agreement phase
    keys: np.ndarray  # each stepped world's 64-bit stream key (``sim.engine.streams``)

    @property
    def active_worlds(self) -> int:
        """Number of worlds the state arrays currently cover."""

    def note_withdrawal(self, worlds: np.ndarray) -> None:
        """Troops or monitoring were withdrawn in ``worlds`` (indices or mask)."""


def exp32(x: np.ndarray) -> np.ndarray:
    """``exp(x)`` computed in single precision, for the daily rates and probabilities of a step.

    About four times faster than double precision on CPUs without AVX-512 (numpy vectorises only the
    single-precision exp there). Rounding ``x`` to single precision gives a relative error of about
    ``|x|`` x 6e-8 (under 3e-6 for the arguments of a step, capped at 50), immaterial for a rate or a
    probability that meets a random draw. Results below about 1e-38 lose precision, below 1e-45 are 0.
    Returned in double precision, so that what is computed from it does not depend on whether the
    parameters it meets are numbers or per-world arrays (numpy keeps single precision with a number,
    not with an array).
    """
    return np.exp(np.asarray(x, dtype=np.float32)).astype(float)


class State(mesa.Agent):
    """A state taking part in the ceasefire. ``code`` is UK, FR, DE, US, UA or RU; ``params`` its block of the
    scenario (``scenario.agents.<code>``).

    ``world_state`` names the attributes that are per-world arrays; the model compacts them
    (drops ended worlds) while it runs and restores them to all worlds when it finishes.
    """

    model: Batch
    world_state: tuple[str, ...] = ()

    def __init__(self, model: Batch, code: str, params: ParamView) -> None:
        super().__init__(model)
        self.code = code
        self.params = params

    @property
    def worlds(self) -> int:
        """Number of worlds the state arrays currently cover."""
        return self.model.active_worlds


class Guarantor(State):
    """A European guarantor with ground troops in Ukraine from day 0 (UK, France).

    Attributes:
        troops: ground troops inside Ukraine, count >= 0, per world.
        support: domestic support for the mission, 0-1, per world.
        resolve: probability of answering a blamed probe, 0-1, per world (elections can lower it).
        responses: probes this guarantor answered, per world.
    """

    world_state = ("troops", "support", "resolve", "responses", "roles_only")

    def __init__(self, model: Batch, code: str, params: ParamView) -> None:
        super().__init__(model, code, params)
        self.troops = per_world(params.troops, self.worlds)
        self.support = per_world(params.domestic_support, self.worlds)
        self.resolve = per_world(params.resolve, self.worlds)
        self.responses = np.zeros(self.worlds, dtype=np.int64)
        # troops on neighbouring NATO soil: none for a guarantor that deploys into Ukraine from day 0
        self.neighbour_troops: np.ndarray | float = 0.0
        # a guarantor that commits air or maritime roles without ground troops keeps them (ODD 1)
        no_troops = per_world(params.troops + getattr(params, "neighbour_troops", 0.0), self.worlds) == 0.0
        self.roles_only = no_troops & model.params.roles_without_troops

    def effective_troops(self) -> np.ndarray:
        """Troops that count towards the coalition's ground capability (ODD 1)."""
        return self.troops

    def air_maritime(self) -> np.ndarray:
        """Capability of the air and maritime roles while this guarantor takes part: while it has troops in or
        around Ukraine, or from day 0 if it committed the roles without ground troops (ODD 1). The roles do
        not grow with the ground force: they are aircraft and ships of their own."""
        m = self.model.params
        weight = m.air_weight * self.params.air_role + m.maritime_weight * self.params.maritime_role
        if not isinstance(weight, np.ndarray) and weight == 0.0:
            return np.zeros(self.worlds)
        return weight * (((self.troops + self.neighbour_troops) > 0.0) | self.roles_only)

    def bases_in_ukraine(self, worlds: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Weight of the permanent bases this guarantor holds in Ukraine, 0-1, per world (of ``worlds``,
        indices, if given): the presence weight of the troops that man them (ODD 25)."""
        m = self.model.params
        # the form over every world, then the subset: a mixed form (packing) indexes all worlds' forms
        weight = self.model.presence_form(self.troops, m.presence_half)[worlds]
        return weight * at(self.params.permanent_bases, worlds)

    def commitment(self) -> np.ndarray:
        """pi_g, the probability that this guarantor would enter a war, per world (ODD 21); the stake of its
        troops in Ukraine is weighted by their presence weight (ODD 25)."""
        m = self.model.params
        bases_held = self.params.permanent_bases
        any_bases = bases_held.any() if isinstance(bases_held, np.ndarray) else bases_held
        bases = self.bases_in_ukraine() if any_bases else 0.0
        presence = self.model.presence_form(self.troops, m.presence_half)
        neighbour_only = (self.troops == 0.0) & (self.neighbour_troops > 0.0)
        return guarantor_commitment(self.resolve, self.support_ratio(), presence, bases,
                                    neighbour_only, m.presence_stake, m.bases_stake, m.neighbour_stake)

    def support_ratio(self) -> np.ndarray:
        """Domestic support over its initial value, per world (1 where the initial support is 0)."""
        initial = self.params.domestic_support
        if isinstance(initial, np.ndarray):
            return np.divide(self.support, initial, out=np.ones(self.worlds), where=initial > 0.0)
        return self.support / initial if initial > 0.0 else np.ones(self.worlds)

    def commitment_if_entered(self) -> np.ndarray:
        """pi_g as it would be with this guarantor's troops in Ukraine (for Russia's foresight, ODD 27)."""
        return self.commitment()

    def respond(self, probing: np.ndarray, blamed: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Answer a detected probe blamed on Russia with probability ``resolve`` if present (ODD 10).

        Args:
            probing: indices of the worlds that probed today; ``blamed`` and ``uniform`` are theirs.
        Returns:
            whether this guarantor answered, in each of the ``probing`` worlds.
        """
        answered = blamed & (self.troops[probing] > 0) & (uniform < self.resolve[probing])
        self.responses[probing] += answered
        return answered

    def hold_election(self, turnover: np.ndarray) -> None:
        """A new, less committed government in the worlds ``turnover`` (indices): support and resolve
        fall by ``election_shock`` (ODD 22)."""
        keep = 1.0 - at(self.model.params.election_shock, turnover)
        self.support[turnover] *= keep
        self.resolve[turnover] *= keep

    def absorb_losses(self, live: np.ndarray, violation_loss: np.ndarray, answered: np.ndarray) -> None:
        """Domestic support erodes with violations and answered probes and recovers slowly (ODD 18).

        Args:
            violation_loss: support lost today to detected violations, the same for every guarantor.
            answered: indices of the worlds where this guarantor answered a probe today.
        """
        m = self.model.params
        # support + live * (support_recovery * (initial - support) - violation_loss), floored at 0, in place:
        # nothing changes in the other worlds (support >= 0 there, so max(., 0) keeps it). Support never
        # exceeds its initial value (recovery approaches it from below), so only 0 bounds it
        support = np.subtract(self.params.domestic_support, self.support)
        support *= m.support_recovery
        support -= violation_loss
        support *= live
        support += self.support
        np.maximum(support, 0.0, out=support)
        if answered.size:
            # max(max(x - a, 0) - b, 0) = max(x - a - b, 0) for b >= 0: the answer's loss can come second
            support[answered] = np.maximum(support[answered] - at(m.support_loss_per_response, answered), 0.0)
        self.support = support

    def drawdown_rate(self, worlds: np.ndarray | slice = slice(None)) -> np.ndarray | float:
        """Daily fraction of troops withdrawn while support is low; permanent bases slow it (ODD 14). In the
        worlds ``worlds`` (indices) where it differs between worlds."""
        m = self.model.params
        bases_held = self.params.permanent_bases
        if isinstance(bases_held, np.ndarray):
            factor = np.where(bases_held[worlds], at(m.bases_drawdown_factor, worlds), 1.0)
        else:
            factor = at(m.bases_drawdown_factor, worlds) if bases_held else 1.0
        return at(m.drawdown_rate, worlds) * factor

    def drawing_down(self, live: np.ndarray) -> np.ndarray:
        """Indices of the worlds where domestic support is below the drawdown threshold."""
        return (live & (self.support < self.params.drawdown_threshold)).nonzero()[0]

    def draw_down(self, troops: np.ndarray, where: np.ndarray) -> np.ndarray:
        """Draw ``troops`` down, in place, for a day in the worlds ``where`` (indices); a residue below
        ``min_presence`` leaves. Returns ``troops``."""
        where = where[troops[where] > 0.0]  # where nothing is left, nothing changes
        if where.size == 0:  # the common case: nothing to do today
            return troops
        self.model.note_withdrawal(where)
        reduced = troops[where] * (1.0 - self.drawdown_rate(where))
        reduced[reduced < at(self.model.params.min_presence, where)] = 0.0
        troops[where] = reduced
        return troops

    def update_commitments(self, live: np.ndarray) -> None:
        """Withdraw troops while support is below the drawdown threshold (ODD 14)."""
        self.troops = self.draw_down(self.troops, self.drawing_down(live))


class ConditionalGuarantor(Guarantor):
    """A guarantor that waits in neighbouring NATO states and may enter Ukraine once the ceasefire has held
    (Germany: "n'exclut rien").

    Attributes:
        troops: ground troops inside Ukraine (0 until deployment), per world.
        neighbour_troops: troops in neighbouring NATO states, per world.
        will_deploy: whether Germany would enter Ukraine at all, drawn once per world (ODD 15).
        deployed: whether the troops have entered Ukraine, per world.
    """

    world_state = Guarantor.world_state + ("neighbour_troops", "will_deploy", "deployed")

    def __init__(self, model: Batch, code: str, params: ParamView) -> None:
        super().__init__(model, code, params)
        u_deploy = uniforms(model.keys, (Lane.INTENT_AND_DEPLOYMENT,), 0)[1]
        self.will_deploy = u_deploy < params.deployment_probability
        self.deployed = self.will_deploy & (params.deployment_delay_days == 0)
        self.troops = np.where(self.deployed, params.troops, 0.0)
        self.neighbour_troops = per_world(params.neighbour_troops, self.worlds)

    def effective_troops(self) -> np.ndarray:
        """Troops in Ukraine plus neighbouring troops at their lower weight (ODD 1)."""
        return self.troops + self.model.params.neighbour_weight * self.neighbour_troops

    def commitment_if_entered(self) -> np.ndarray:
        """pi_g as it would be once Germany's troops have entered Ukraine (ODD 27): the stake of its troops
        there replaces that of troops on neighbouring soil; bases are not foreseen."""
        m = self.model.params
        entered = np.where(self.deployed, self.troops, self.params.troops)
        presence = self.model.presence_form(entered, m.presence_half)
        return guarantor_commitment(self.resolve, self.support_ratio(), presence, 0.0, entered == 0.0,
                                    m.presence_stake, m.bases_stake, m.neighbour_stake * (self.neighbour_troops > 0.0))

    def update_commitments(self, live: np.ndarray) -> None:
        """Enter Ukraine once the ceasefire has held for the delay, if Germany would and support allows;
        else as a guarantor.

        Entering needs support at or above the drawdown threshold, so no world enters and draws down on
        the same day.
        """
        ready = self.model.day >= self.params.deployment_delay_days  # per world if the delay is
        if ready.any() if isinstance(ready, np.ndarray) else ready:
            entering = live & self.will_deploy & ~self.deployed & (self.support >= self.params.drawdown_threshold)
            if isinstance(ready, np.ndarray):
                entering &= ready
            if entering.any():
                self.troops = np.where(entering, self.params.troops, self.troops)
                self.deployed |= entering
        drawing_down = self.drawing_down(live)
        self.troops = self.draw_down(self.troops, drawing_down)
        self.neighbour_troops = self.draw_down(self.neighbour_troops, drawing_down)


class Monitor(State):
    """The US: leads monitoring and verification, mediates, sanctions, and may lose patience.

    Attributes:
        detection_probability: probability that a violation is detected, 0-1, per world.
        resolve: probability that a blamed probe draws sanctions, 0-1, per world (elections can lower it).
        impatience: accumulated detected violations above tolerance, per world.
        scaled_down: whether monitoring has been scaled down, per world.
    """

    world_state = ("detection_probability", "resolve", "impatience", "scaled_down")

    def __init__(self, model: Batch, code: str, params: ParamView) -> None:
        super().__init__(model, code, params)
        self.detection_probability = per_world(params.detection_probability, self.worlds)
        self.resolve = per_world(params.resolve, self.worlds)
        self.impatience = np.zeros(self.worlds)
        self.scaled_down = np.zeros(self.worlds, dtype=bool)

    def observe_incidents(self, rate: np.ndarray, uniform: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(incidents, detected incidents) per world for a Poisson ``rate`` of incidents per day (ODD 5-6).

        ``uniform``: today's two uniforms per world of the incident stream, shape (2, worlds), if already drawn.

        Each incident is detected independently with ``detection_probability``; by Poisson thinning the
        detected and undetected counts are independent Poisson draws, which is faster than a binomial.
        """
        means = np.empty((2, rate.size))
        np.multiply(rate, self.detection_probability, out=means[0])  # detected
        np.subtract(rate, means[0], out=means[1])  # undetected
        u_counts = uniforms(self.model.keys, (Lane.INCIDENTS,), self.model.day) if uniform is None else uniform
        detected, undetected = poisson_quantile(normal_pairs(u_counts), means)
        return detected + undetected, detected

    def verify(self, worlds: np.ndarray, u_detect: np.ndarray, u_attribute: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """(detected, correctly attributed) for one violation in each of ``worlds`` (indices) (ODD 9)."""
        detected = u_detect < self.detection_probability[worlds]
        return detected, detected & (u_attribute < at(self.params.attribution_accuracy, worlds))

    def sanction(self, probing: np.ndarray, blamed_probe: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Impose new sanctions pressure on a blamed probe with probability ``resolve`` (ODD 12)."""
        return blamed_probe & (uniform < self.resolve[probing])

    def scale_down(self, worlds: np.ndarray) -> None:
        """Cut detection by ``scale_down_fraction`` in ``worlds`` (mask or indices) not yet scaled down."""
        if isinstance(worlds, np.ndarray) and worlds.dtype == bool:
            worlds = worlds.nonzero()[0]
        worlds = worlds[~self.scaled_down[worlds]]
        if worlds.size == 0:
            return
        self.model.note_withdrawal(worlds)
        self.detection_probability[worlds] *= 1.0 - at(self.params.scale_down_fraction, worlds)
        self.scaled_down[worlds] = True

    def hold_election(self, turnover: np.ndarray) -> None:
        """A less committed administration in the worlds ``turnover``: resolve falls by ``election_shock``
        and monitoring is scaled down once (ODD 22)."""
        self.resolve[turnover] *= 1.0 - at(self.model.params.election_shock, turnover)
        self.scale_down(turnover)

    def lose_patience(self, live: np.ndarray, detected_violations: np.ndarray) -> None:
        """Accumulate the violations the US counts (in the ``impatience`` form) above tolerance; past
        ``patience`` scale monitoring down once (ODD 19)."""
        # live * (...): unchanged where the ceasefire has ended (impatience >= 0 there, so max(0, .) keeps it)
        counted = self.model.impatience_form(detected_violations, self.detection_probability)
        excess = counted - self.params.violation_tolerance
        self.impatience = np.maximum(0.0, self.impatience + live * excess)
        losing = live & ~self.scaled_down & (self.impatience > self.params.patience)
        if losing.any():
            self.scale_down(losing)


class Defender(State):
    """Ukraine: accepts a ceasefire only with strong guarantees, retaliates, may withdraw.

    Attributes:
        retaliations: retaliations against probes, per world.
    """

    world_state = ("retaliations", "withdrawal_draws", "next_withdrawal_day")

    def __init__(self, model: Batch, code: str, params: ParamView) -> None:
        super().__init__(model, code, params)
        self.retaliations = np.zeros(self.worlds, dtype=np.int64)
        # the days Ukraine weighs leaving: geometric gaps of a daily Bernoulli(withdrawal_hazard) (ODD 17)
        self.next_withdrawal_day, self.withdrawal_draws = first_events(model.keys, Lane.WITHDRAWAL_GAP,
                                                                       model.params.withdrawal_hazard)

    def acceptance_probability(self, guarantee: np.ndarray, force_ratio_next_year: float | np.ndarray,
                               terms_index: float | np.ndarray) -> np.ndarray:
        """Probability of accepting in one round, in the ``ukraine`` form (ODD 3): the guarantee against the
        threshold, and in the terms form also the war's costs, the military situation (Russian over Ukrainian
        forces a year ahead) and the cost of the deal's terms."""
        p = self.params
        situation = p.situation_weight * np.log(force_ratio_next_year)
        inputs = UkraineInputs(guarantee, p.guarantee_threshold, self.model.params.acceptance_sharpness,
                               p.war_cost, situation, p.terms_weight * terms_index)
        return self.model.ukraine_form(inputs)

    def retaliate(self, probing: np.ndarray, blamed: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Retaliate against a probe, in each of the ``probing`` worlds (ODD 12).

        A probe verified and blamed on Russia goes to the joint mechanism, so Ukraine retaliates with
        probability ``resolve x (1 - verification_restraint)``; one it perceives on its own, unverified,
        with probability ``resolve x self_help_retaliation``.
        """
        m = self.model.params
        probability = at(self.params.resolve, probing) * np.where(
            blamed, 1.0 - at(m.verification_restraint, probing), at(m.self_help_retaliation, probing))
        retaliated = uniform < probability
        self.retaliations[probing] += retaliated
        return retaliated

    def consider_withdrawal(self) -> np.ndarray:
        """Indices of the worlds where Ukraine weighs leaving today: each day with probability
        ``withdrawal_hazard`` (ODD 17), drawn as the gap to the next such day, so without one uniform per
        world and day. Draws the next day in those worlds."""
        model = self.model
        return events_due(model.day, self.next_withdrawal_day, self.withdrawal_draws, model.keys, Lane.WITHDRAWAL_GAP,
                          model.params.withdrawal_hazard)

    def withdraws(self, guarantee: np.ndarray, agreed_guarantee: np.ndarray, worlds: np.ndarray) -> np.ndarray:
        """Whether Ukraine leaves, in the worlds ``worlds`` (indices) where it weighs leaving: once the
        guarantee has eroded (ODD 17).

        Eroded: below ``withdrawal_threshold`` times the guarantee strength Ukraine agreed to on day 0.
        """
        return guarantee < at(self.params.withdrawal_threshold, worlds) * agreed_guarantee


class Aggressor(State):
    """Russia: weighs a ceasefire, probes the guarantors, learns their credibility, may attack.

    Attributes:
        belief_answered, belief_unanswered: Beta(alpha, beta) counts of Russia's belief that a
            probe will be answered, per world.
        intent: Russia's type, mean 1, in the ``types`` form (two types, or a Gamma with variance
            ``model.intent_variance``): it scales the gains Russia expects from fighting on, at the table and
            afterwards (ODD 4).
    """

    world_state = ("belief_answered", "belief_unanswered", "intent")

    def __init__(self, model: Batch, code: str, params: ParamView) -> None:
        super().__init__(model, code, params)
        u_intent = uniforms(model.keys, (Lane.INTENT_AND_DEPLOYMENT,), 0)[0]
        m = model.params
        self.intent = model.types_form(u_intent, gamma_quantile(u_intent, m.intent_variance), m.hawk_share,
                                       m.hawk_ratio)
        self.belief_answered = np.zeros(self.worlds)
        self.belief_unanswered = np.zeros(self.worlds)
        self._log_base: np.float64 | None = None

    def form_prior(self, bases: np.ndarray) -> None:
        """Russia's prior belief that probes will be answered; permanent bases raise it (ODD 4)."""
        p = self.params
        prior = np.minimum(1.0, p.prior_credibility + self.model.params.bases_credibility * bases)
        self.belief_answered = prior * p.prior_strength
        self.belief_unanswered = (1.0 - prior) * p.prior_strength

    @property
    def reputation(self) -> np.ndarray:
        """Mean of Russia's Beta belief that a probe will be answered, 0-1 (ODD 11)."""
        return self.belief_answered / (self.belief_answered + self.belief_unanswered)

    def hostility(self, presence: np.ndarray) -> np.ndarray:
        """Hostility provoked by the foreign presence: ``provocation`` x presence (ODD 7)."""
        return self.params.provocation * presence

    def probe(self, live: np.ndarray, hostility: np.ndarray, uniform: np.ndarray) -> np.ndarray:
        """Test the guarantors with a limited violation, daily probability probe_rate x (1 + hostility)."""
        return live & (uniform < np.minimum(1.0, self.params.probe_rate * (1.0 + hostility)))

    def learn(self, probing: np.ndarray, answered: np.ndarray) -> None:
        """Beta-Bernoulli update in each of the ``probing`` worlds: an answered probe raises credibility,
        an unanswered one lowers it."""
        self.belief_answered[probing] += answered
        self.belief_unanswered[probing] += ~answered

    def _log_base_hazard(self) -> np.ndarray | np.float64 | None:
        """log(base_offensive_hazard), -inf where it is 0; None if it is 0 in every world. Computed once for a
        number (it is constant over a run); per world, each day (the array shrinks as worlds end)."""
        base = self.params.base_offensive_hazard
        if isinstance(base, np.ndarray):
            if np.all(base == 0.0):
                return None
            with np.errstate(divide="ignore"):  # a zero base hazard in some worlds gives -inf: hazard 0 there
                return np.log(base)
        if self._log_base is None and base != 0.0:
            self._log_base = np.log(np.float64(base))
        return self._log_base

    def offensive_hazard(self, drive: float | np.ndarray, value: float | np.ndarray, shift: float | np.ndarray,
                         hostility: np.ndarray, expected_cost: np.ndarray, escalation: np.ndarray,
                         waiting: float | np.ndarray) -> np.ndarray:
        """Daily probability of a major offensive, in the ``offensive`` form (ODD 16, 27).

        Args:
            drive: hazard form: gain of an offensive plus the power shift since day 0 (a number, or per world).
            value, shift: choice form: what an offensive would win before intent; the power-shift term.
            expected_cost: K, what Russia expects an offensive to cost, per world.
            waiting: the value of waiting for a foreseen window (ODD 27), 0 if Russia foresees none.
        """
        m, p = self.model.params, self.params
        inputs = OffensiveInputs(
            intent=self.intent, drive=drive, value=value, shift=shift, hostility=hostility,
            expected_cost=expected_cost, escalation_push=m.escalation_hazard_weight * escalation, waiting=waiting,
            log_base=self._log_base_hazard(), ceiling=m.offensive_ceiling, noise=m.offensive_noise,
            resumption_cost=p.resumption_cost)
        return self.model.offensive_form(inputs)


def per_world(value: np.ndarray | float, worlds: int) -> np.ndarray:
    """A new float array of ``worlds`` values: ``value`` everywhere, or a copy of it if it is per world."""
    return np.array(np.broadcast_to(np.asarray(value, dtype=float), (worlds,)))


def guarantee_strength(
    capability: np.ndarray, bases: np.ndarray, detection_probability: np.ndarray, params: ParamView,
    worlds: np.ndarray | slice = slice(None),
) -> np.ndarray:
    """Strength of the guarantee package as Ukraine perceives it, 0-1 (ODD 2).

    ``1 - e^(-C_UA) (1 - bases_guarantee * bases)(1 - monitoring_weight * detection)``: troops, air and
    maritime roles, bases and monitoring each close part of the remaining gap. ``worlds``: the worlds
    (indices) the other arguments are given for, if not all.
    """
    return 1.0 - np.exp(-capability) * (1.0 - at(params.bases_guarantee, worlds) * bases) * (
        1.0 - at(params.monitoring_weight, worlds) * detection_probability
    )
