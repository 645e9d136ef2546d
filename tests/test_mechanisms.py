"""Each mechanism of the batch engine in isolation (docs/ODD.md section 7), with fixed seeds.

Every test switches one mechanism on or off and checks the behaviour it names; each also checks
that the situation it tests actually arose (probes happened, worlds agreed, ...), so that it can
fail. Statistical comparisons use a z derived from the number of such comparisons in this file
(Bonferroni, family-wise error ``FAMILY_ALPHA``), never a hand-tuned margin.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from sim.model import CAUSE_CODES, CeasefireModel
from tests.conftest import make_scenario

FAMILY_ALPHA = 0.001
STATISTICAL_COMPARISONS = 14
"""Number of z-based comparisons in this file (asserted at the end by counting calls)."""
Z = NormalDist().inv_cdf(1.0 - FAMILY_ALPHA / (2 * STATISTICAL_COMPARISONS))

GUARANTORS = ("UK", "FR", "DE")

CALM = {
    "agents.RU.base_offensive_hazard": 0.0,
    "agents.RU.probe_rate": 0.0,
    "model.escalation_threshold": 1e9,
    "model.withdrawal_hazard": 0.0,
}
"""No breakdown of any kind: every agreed world holds to the horizon."""

_comparisons: list[str] = []


def model(overrides: dict | None = None, worlds: int = 2000, seed: int = 0, horizon: int = 365
          ) -> CeasefireModel:
    """A batch of the baseline scenario with ``overrides``, not yet run."""
    scenario = make_scenario(overrides or {}, horizon_days=horizon)
    return CeasefireModel(scenario, worlds, rng=seed, record_trajectories=False)


def each(param: str, value) -> dict:
    """The same value of ``param`` for the UK, France and Germany."""
    return {f"agents.{code}.{param}": value for code in GUARANTORS}


def two_proportion_z(k1: int, n1: int, k2: int, n2: int, name: str) -> float:
    """(p1 - p2) / its standard error under the pooled proportion."""
    _comparisons.append(name)
    pooled = (k1 + k2) / (n1 + n2)
    return (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))


def one_proportion_z(k: int, n: int, p: float, name: str) -> float:
    """(k/n - p) / sqrt(p (1 - p) / n)."""
    return z_score(k / n, p, math.sqrt(p * (1 - p) / n), name)


def z_score(estimate: float, expected: float, standard_error: float, name: str) -> float:
    """(estimate - expected) / standard_error."""
    _comparisons.append(name)
    return (estimate - expected) / standard_error


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --- detection, answers, learning (ODD eq. 6, 9-11) -----------------------------------------------


def test_without_detection_nothing_is_detected_answered_sanctioned_or_retaliated():
    m = model({"agents.US.detection_probability": 0.0}, seed=1).run()
    assert m.probes.sum() > 0 and m.incidents.sum() > 0, "probes and incidents must happen to go undetected"
    assert m.detected_probes.sum() == 0
    assert m.detected_violations.sum() == 0
    assert m.responses.sum() == 0
    assert m.sanctions_imposed.sum() == 0
    assert m.ua.retaliations.sum() == 0
    assert all(g.responses.sum() == 0 for g in m.guarantors)


def test_probes_not_blamed_on_russia_are_neither_answered_nor_punished():
    overrides = {**each("resolve", 1.0), "agents.US.resolve": 1.0, "agents.UA.resolve": 1.0,
                 "agents.US.attribution_accuracy": 0.0}
    m = model(overrides, seed=20).run()
    assert m.detected_probes.sum() > 100
    assert m.responses.sum() == 0
    assert m.sanctions_imposed.sum() == 0
    assert m.ua.retaliations.sum() == 0


def test_fully_resolute_guarantors_with_perfect_monitoring_answer_every_probe():
    overrides = {
        **each("resolve", 1.0),
        "agents.US.detection_probability": 1.0,
        "agents.US.attribution_accuracy": 1.0,
        "agents.US.patience": 1e9,  # monitoring is never scaled down
    }
    m = model(overrides, seed=2).run()
    assert m.probes.sum() > 100
    np.testing.assert_array_equal(m.detected_probes, m.probes)
    np.testing.assert_array_equal(m.responses, m.detected_probes)
    # the UK and France are present from day 0 (drawdown shrinks troops but never to zero)
    assert (m.uk.troops > 0).all() and (m.fr.troops > 0).all()
    np.testing.assert_array_equal(m.uk.responses, m.detected_probes)
    np.testing.assert_array_equal(m.fr.responses, m.detected_probes)
    # a resolute Russia only ever sees answered probes, so its credibility never falls
    assert (m.ru.belief_unanswered == m.ru.belief_unanswered.min()).all()


def test_guarantors_without_resolve_never_answer_and_credibility_only_falls():
    m = model(each("resolve", 0.0), seed=3)
    prior_answered, prior_credibility = m.ru.belief_answered.copy(), m.ru.credibility.copy()
    m.run()
    assert m.detected_probes.sum() > 100
    assert m.responses.sum() == 0
    assert all(g.responses.sum() == 0 for g in m.guarantors)
    np.testing.assert_array_equal(m.ru.belief_answered, prior_answered)
    probed = m.probes > 0
    assert (m.credibility[probed] < prior_credibility[probed]).all()
    assert (m.credibility[~probed] == prior_credibility[~probed]).all()


def test_answers_sanctions_and_retaliation_are_independent_draws():
    # day 1 only, every world probed, every probe detected and blamed: one chance per world
    overrides = {"agents.RU.probe_rate": 1.0, "agents.US.detection_probability": 1.0,
                 "agents.US.attribution_accuracy": 1.0, "agents.RU.base_offensive_hazard": 0.0,
                 "agents.DE.deployment_delay_days": 0}
    m = model(overrides, worlds=20_000, seed=21, horizon=1).run()
    n = int(m.agreed.sum())
    assert n > 5000 and (m.detected_probes[m.agreed] == 1).all()
    a = m.scenario.agents
    p_answered = 1 - (1 - a.UK.resolve) * (1 - a.FR.resolve) * (1 - a.DE.resolve)
    assert abs(one_proportion_z(int(m.responses.sum()), n, p_answered, "any guarantor answers")) < Z
    both = int(((m.sanctions_imposed == 1) & (m.ua.retaliations == 1)).sum())
    assert abs(one_proportion_z(both, n, a.US.resolve * a.UA.resolve, "sanctioned and retaliated")) < Z


def test_an_answered_probe_raises_credibility_and_an_unanswered_one_lowers_it():
    m = model(worlds=3)
    before = m.ru.credibility.copy()
    probing = np.array([0, 1])  # worlds 0 and 1 probe; world 2 does not
    answered = np.array([True, False])
    m.ru.learn(probing, answered)
    after = m.ru.credibility
    assert after[0] > before[0]
    assert after[1] < before[1]
    assert after[2] == before[2]
    # one observation in a Beta(alpha, beta) belief: alpha += 1 or beta += 1
    alpha, beta = before[0] * m.ru.params.prior_strength, (1 - before[0]) * m.ru.params.prior_strength
    assert after[0] == pytest.approx((alpha + 1) / (alpha + beta + 1))
    assert after[1] == pytest.approx(alpha / (alpha + beta + 1))


# --- commitments (ODD eq. 14, 15, 19) ---------------------------------------------------------------


DELAY = 30


def test_germany_enters_ukraine_on_its_deployment_day_and_not_before():
    overrides = {**CALM, "agents.DE.deployment_delay_days": DELAY,
                 "model.support_loss_per_100_violations": 0.0}  # Germany's support stays above its threshold
    m = model(overrides, worlds=200, seed=4, horizon=DELAY + 5)
    committed = m.scenario.agents.DE.troops
    assert committed > 0 and m.agreed.sum() > 50
    assert (m.de.troops == 0).all()
    for day in range(1, DELAY + 3):
        m.step()
        assert m.holding[m.agreed].all()
        expected = committed if day >= DELAY else 0.0
        assert (m.de.troops[m.agreed] == expected).all(), f"day {day}"
    assert (m.de.troops[~m.agreed] == 0).all(), "worlds without a deal never deploy"
    assert (m.de.neighbour_troops == m.scenario.agents.DE.neighbour_troops).all(), "the neighbours stay"


def test_germany_does_not_enter_while_its_support_is_below_the_drawdown_threshold():
    overrides = {**CALM, "agents.DE.deployment_delay_days": DELAY, "agents.DE.domestic_support": 0.2,
                 "model.support_loss_per_100_violations": 0.0}
    m = model(overrides, worlds=200, seed=5, horizon=DELAY + 5).run()
    assert m.agreed.sum() > 50 and m.day == DELAY + 5
    assert (m.de.troops == 0).all()
    rate = m.params.drawdown_rate  # Germany has no permanent bases
    expected = m.scenario.agents.DE.neighbour_troops * (1 - rate) ** m.day
    np.testing.assert_allclose(m.de.neighbour_troops[m.agreed], expected)


def test_troops_draw_down_below_the_threshold_and_permanent_bases_slow_it():
    overrides = {**CALM, "agents.UK.drawdown_threshold": 1.0, "agents.FR.drawdown_threshold": 1.0,
                 "agents.UK.permanent_bases": True, "agents.FR.permanent_bases": False}
    days = 100
    m = model(overrides, worlds=200, seed=6, horizon=days).run()
    assert m.agreed.sum() > 50 and m.day == days
    m0 = m.params
    uk, fr = m.uk.troops[m.agreed], m.fr.troops[m.agreed]
    np.testing.assert_allclose(uk, 10_000 * (1 - m0.drawdown_rate * m0.bases_drawdown_factor) ** days)
    np.testing.assert_allclose(fr, 10_000 * (1 - m0.drawdown_rate) ** days)
    assert (uk > fr).all() and (uk < 10_000).all()
    assert (m.uk.troops[~m.agreed] == 10_000).all(), "worlds without a deal keep their day-0 state"


def test_a_drawn_down_guarantor_leaves_entirely_and_stops_answering():
    overrides = {**CALM, "agents.UK.drawdown_threshold": 1.0, "agents.UK.permanent_bases": False,
                 "model.drawdown_rate": 0.5, "model.min_presence": 500}
    m = model(overrides, worlds=200, seed=8, horizon=10).run()
    # 10,000 halves daily: 5,000 ... 625, then 312.5 < 500 leaves on day 5
    assert (m.uk.troops[m.agreed] == 0).all()
    assert not m.uk.bases_in_ukraine()[m.agreed].any()
    agreed = np.flatnonzero(m.agreed)
    assert not m.uk.respond(agreed, np.ones(agreed.size, dtype=bool), np.zeros(agreed.size)).any()


def test_troops_stay_while_support_is_above_the_threshold():
    m = model({**CALM, **each("drawdown_threshold", 0.0)}, worlds=200, seed=7, horizon=100).run()
    assert (m.uk.troops == 10_000).all() and (m.fr.troops == 10_000).all()


def test_an_impatient_us_scales_monitoring_down_once_after_day_one():
    overrides = {"agents.US.violation_tolerance": 0.0, "agents.US.patience": 0.0}
    m = model(overrides, worlds=500, seed=8, horizon=10)
    us = m.scenario.agents.US
    initial = us.detection_probability
    assert (m.detection_probability == initial).all()
    m.step()
    live = m.agreed
    assert live.sum() > 100
    np.testing.assert_allclose(m.detection_probability[live], initial * (1 - us.scale_down_fraction))
    assert (m.detection_probability[~live] == initial).all()
    m.step()
    m.step()
    np.testing.assert_allclose(m.detection_probability[live], initial * (1 - us.scale_down_fraction))


def test_a_patient_us_keeps_monitoring():
    m = model({"agents.US.patience": 1e9}, worlds=500, seed=9, horizon=200).run()
    assert m.detected_violations.sum() > 0
    assert (m.detection_probability == m.scenario.agents.US.detection_probability).all()


# --- breakdown (ODD eq. 13, 16, 17) --------------------------------------------------------------


SPIRAL = {"agents.RU.probe_rate": 1.0, "model.probe_escalation": 1e6}


def test_escalation_above_the_threshold_is_an_escalation_spiral():
    m = model({**SPIRAL, "agents.RU.base_offensive_hazard": 0.0}, seed=10).run()
    assert m.agreed.sum() > 500
    assert (m.cause[m.agreed] == CAUSE_CODES["escalation_spiral"]).all()
    assert (m.breakdown_day[m.agreed] == 1).all()
    assert (m.cause[~m.agreed] == CAUSE_CODES["no_deal"]).all()


# the hazard's exp overflows to inf before it is capped at 1 (the result is right; sim warns)
@pytest.mark.filterwarnings("ignore:overflow encountered in exp:RuntimeWarning")
def test_an_offensive_on_the_same_day_takes_precedence_over_the_spiral():
    m = model({**SPIRAL, "model.escalation_hazard_weight": 1.0}, seed=11).run()
    assert m.agreed.sum() > 500
    assert (m.cause[m.agreed] == CAUSE_CODES["major_offensive"]).all()
    assert (m.breakdown_day[m.agreed] == 1).all()


def test_no_major_offensive_without_a_base_hazard():
    offensives = model(seed=12).run().cause == CAUSE_CODES["major_offensive"]
    assert offensives.sum() > 50, "the baseline has offensives, so switching the hazard off can show"
    m = model({"agents.RU.base_offensive_hazard": 0.0, "model.escalation_threshold": 1e9}, seed=12).run()
    assert not (m.cause == CAUSE_CODES["major_offensive"]).any()
    assert (m.cause[m.agreed] == CAUSE_CODES["held"]).mean() > 0.5


def test_ukraine_withdraws_only_once_the_guarantee_has_eroded():
    # no troops: the guarantee is the US monitoring alone until the US halves it on day 1
    no_troops = {**each("troops", 0), "agents.DE.neighbour_troops": 0, "agents.UA.guarantee_threshold": 0.0,
                 "agents.RU.base_offensive_hazard": 0.0, "model.escalation_threshold": 1e9,
                 "model.withdrawal_hazard": 0.05}
    patient = model({**no_troops, "agents.US.patience": 1e9}, seed=13).run()
    assert patient.agreed.sum() > 500
    assert (patient.cause[patient.agreed] == CAUSE_CODES["held"]).all()
    # G falls from 1 - (1 - 0.5 d) to 1 - (1 - 0.25 d): 0.35 -> 0.175 < 0.6 x 0.35
    impatient = model({**no_troops, "agents.US.patience": 0.0, "agents.US.violation_tolerance": 0.0}, seed=13)
    impatient.run()
    assert (impatient.cause[impatient.agreed] == CAUSE_CODES["ukrainian_withdrawal"]).mean() > 0.99


# --- agreement (ODD eq. 2, 3) --------------------------------------------------------------------


def test_ukraine_rejects_a_guarantee_far_below_its_threshold_everywhere():
    overrides = {"agents.UA.guarantee_threshold": 1.0, "model.acceptance_sharpness": 0.001}
    m = model(overrides, worlds=5000, seed=14)
    assert not m.agreed.any()
    assert (m.cause == CAUSE_CODES["no_deal"]).all()
    assert not m.running
    m.run()
    assert m.day == 0 and (m.breakdown_day == -1).all()


def test_russia_accepts_less_often_as_foreign_troops_rise():
    # Ukraine accepts any guarantee (threshold 0, sharp), so agreement is Russia's decision alone
    ukraine_always = {"agents.UA.guarantee_threshold": 0.0, "model.acceptance_sharpness": 0.001,
                      "agents.DE.troops": 0, "agents.DE.neighbour_troops": 0}
    worlds = 20_000
    agreed = {}
    for troops in (0, 20_000):
        m = model({**ukraine_always, "agents.UK.troops": troops, "agents.FR.troops": troops},
                  worlds=worlds, seed=15 + troops)
        agreed[troops] = int(m.agreed.sum())
        ru, us = m.scenario.agents.RU, m.scenario.agents.US
        capability = 2 * troops / m.params.troop_scale
        p = logistic(ru.acceptance_logit + ru.war_cost + m.params.pressure_weight * us.resolve
                     - ru.troop_objection * capability)
        assert abs(one_proportion_z(agreed[troops], worlds, p, f"P(agreed) at {troops}")) < Z
    assert two_proportion_z(agreed[0], worlds, agreed[20_000], worlds, "troop objection") > Z


# --- deterrence, intent and provocation (ODD eq. 4, 7, 8, 16) ------------------------------------


def test_russian_intent_is_gamma_distributed_with_mean_one_and_the_given_variance():
    v, worlds = 3.0, 200_000
    intent = model({"model.intent_variance": v}, worlds=worlds, seed=19, horizon=1).ru.intent
    shape = 1.0 / v
    # Gamma(k, v): variance v, fourth central moment v^2 (3 + 6/k), so Var(s^2) ~ v^2 (2 + 6/k) / n
    assert abs(z_score(intent.mean(), 1.0, math.sqrt(v / worlds), "intent mean")) < Z
    se_variance = v * math.sqrt((2.0 + 6.0 / shape) / worlds)
    assert abs(z_score(intent.var(ddof=1), v, se_variance, "intent variance")) < Z
    assert (intent > 0).all()
    fixed = model({"model.intent_variance": 0.0}, worlds=100, seed=19, horizon=1).ru.intent
    assert (fixed == 1.0).all()



def test_a_higher_deterrence_weight_means_fewer_major_offensives():
    worlds, shares = 10_000, {}
    for weight in (0.0, 3.0):
        m = model({"model.deterrence_weight": weight}, worlds=worlds, seed=16 + int(weight)).run()
        offensives = int((m.cause == CAUSE_CODES["major_offensive"]).sum())
        shares[weight] = (offensives, worlds)
    assert two_proportion_z(*shares[0.0], *shares[3.0], "deterrence") > Z


def test_a_higher_provocation_means_more_probes_at_the_predicted_rate():
    # no breakdown, no drawdown, no German deployment: capability is constant, C = 2 + 0.25 x 0.5
    days, worlds = 90, 4000
    fixed = {**CALM, "agents.RU.probe_rate": 0.04, **each("drawdown_threshold", 0.0)}
    probes = {}
    for provocation in (0.0, 0.5):
        m = model({**fixed, "agents.RU.provocation": provocation}, worlds=worlds, seed=17, horizon=days).run()
        capability = float(m.capability()[0])
        p = min(1.0, 0.04 * (1 + provocation * capability))
        world_days = int(m.agreed.sum()) * days
        probes[provocation] = (int(m.probes.sum()), world_days)
        assert abs(one_proportion_z(*probes[provocation], p, f"probe rate at {provocation}")) < Z
    assert two_proportion_z(*probes[0.5], *probes[0.0], "provocation") > Z


def test_a_higher_detection_probability_means_more_detected_probes():
    counts = {}
    for detection in (0.3, 0.9):
        m = model({"agents.US.detection_probability": detection, "agents.US.patience": 1e9}, seed=18).run()
        counts[detection] = (int(m.detected_probes.sum()), int(m.probes.sum()))
        assert abs(one_proportion_z(*counts[detection], detection, f"detection at {detection}")) < Z
    assert two_proportion_z(*counts[0.9], *counts[0.3], "detection") > Z


def test_the_comparison_budget_counts_every_statistical_comparison():
    # runs last in file order: the z above is only as honest as STATISTICAL_COMPARISONS
    if len(_comparisons) < STATISTICAL_COMPARISONS:
        pytest.skip("only part of the file ran")
    assert len(_comparisons) == STATISTICAL_COMPARISONS, _comparisons
