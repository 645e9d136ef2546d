"""The "Must show" claims of issue 9 about the default structure, each as a one-sided statistical test.

Every claim compares two arms of the baseline scenario that differ in one setting, with everything else at
baseline. Each arm has its own seed, so the arms are independent samples and the unpaired two-proportion
z-test has exactly its nominal size (the engine would reuse random numbers across arms with equal seeds,
which makes an unpaired test conservative, not wrong; separate seeds keep the stated power honest).

Tolerances are derived, never tuned: every claim is tested at the one-sided level ``FAMILY_ALPHA / CLAIMS``
(Bonferroni over the ``CLAIMS`` claims of this file), so the chance that any claim of this file fails by
sampling noise alone when the model does what it claims is at most ``FAMILY_ALPHA``. Arm sizes are chosen
so each test has power against the effect a first look at the model showed; the power is stated by each
test. ``test_the_tests_can_fail`` shows that the same assertions reject the claims turned around.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from sim.experiments.run import run_scenario
from sim.spec.scenario import load_scenario

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
HOLD_DAY = 365
FAMILY_ALPHA = 0.01
CLAIMS = 7
"""One-sided comparisons below: detection (hold, spiral), resolve, bases (deal, hold), Russian troops, intent."""
Z_CRIT = NormalDist().inv_cdf(1.0 - FAMILY_ALPHA / CLAIMS)  # about 2.98
GUARANTORS = ("UK", "FR", "DE")


@dataclass(frozen=True)
class Share:
    """``k`` successes out of ``n`` trials."""

    k: int
    n: int

    @property
    def p(self) -> float:
        return self.k / self.n


@dataclass(frozen=True)
class Arm:
    """The outcome of one arm: P(deal), P(hold HOLD_DAY | deal), share of deals ending in a spiral."""

    deal: Share
    hold: Share
    spiral: Share
    runs: pd.DataFrame


@cache
def arm(settings: tuple[tuple[str, object], ...], replications: int, seed: int) -> Arm:
    """Run the baseline with ``settings`` (dotted path, value) for HOLD_DAY days; cached across tests."""
    overrides = {"replications": replications, "horizon_days": HOLD_DAY, "seed": seed, **dict(settings)}
    runs = run_scenario(load_scenario(BASELINE, overrides), record_trajectories=False).runs
    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    n_agreed = int(agreed.sum())
    held = int((agreed & ~(breakdown <= HOLD_DAY)).sum())
    spirals = int((runs["cause"] == "escalation_spiral").sum())
    return Arm(Share(n_agreed, len(runs)), Share(held, n_agreed), Share(spirals, n_agreed), runs)


def z_higher(a: Share, b: Share) -> float:
    """z of ``a.p - b.p`` under H0 ``a.p == b.p`` (pooled standard error), independent samples."""
    pooled = (a.k + b.k) / (a.n + b.n)
    return (a.p - b.p) / math.sqrt(pooled * (1.0 - pooled) * (1.0 / a.n + 1.0 / b.n))


def describe(a: Share, b: Share) -> str:
    """The difference ``a.p - b.p`` with its 95 % interval (unpooled), for messages."""
    se = math.sqrt(a.p * (1 - a.p) / a.n + b.p * (1 - b.p) / b.n)
    d = a.p - b.p
    return f"{a.p:.4f} - {b.p:.4f} = {d:+.4f} (95 % CI {d - 1.96 * se:+.4f} .. {d + 1.96 * se:+.4f})"


def assert_higher(a: Share, b: Share, what: str) -> None:
    """``a.p`` is significantly above ``b.p`` at the file's Bonferroni level."""
    z = z_higher(a, b)
    assert z > Z_CRIT, f"{what}: not significantly higher: {describe(a, b)}, z = {z:.2f} <= {Z_CRIT:.2f}"


def assert_not_higher(a: Share, b: Share, what: str) -> None:
    """``a.p`` is not significantly above ``b.p`` at the file's Bonferroni level."""
    z = z_higher(a, b)
    assert z <= Z_CRIT, f"{what}: significantly higher: {describe(a, b)}, z = {z:.2f} > {Z_CRIT:.2f}"


def power(p_low: float, p_high: float, n_low: float, n_high: float) -> float:
    """Approximate power of ``assert_higher`` when the true proportions are ``p_high`` > ``p_low``."""
    se = math.sqrt(p_low * (1 - p_low) / n_low + p_high * (1 - p_high) / n_high)
    return NormalDist().cdf((p_high - p_low) / se - Z_CRIT)


def each(param: str, value: object, codes: tuple[str, ...] = GUARANTORS) -> tuple[tuple[str, object], ...]:
    return tuple((f"agents.{code}.{param}", value) for code in codes)


# Arm sizes. About 10,000 worlds take 1 s at 365 days. Deals are about 80 % of worlds.
# Detection and resolve: first-look effects 0.758 -> 0.871 and 0.802 -> 0.875 on P(hold | deal), 0.101 -> 0.027
# on spirals; with 10,000 worlds per arm the power is above 0.9999 for each.
SMALL = 10_000
# Bases: the effect on P(hold | deal) is small (first look 0.831 -> 0.845). With 40,000 worlds per arm
# (about 32,000 deals) power(0.831, 0.845, 32_000, 32_000) = 0.97; with 20,000 it would be only 0.66.
LARGE = 40_000
# Russian troops use LARGE too: power 0.97 to flag a true rise of 0.014 in P(hold | deal), and power 0.997
# for the reversed check in test_the_tests_can_fail to reject the first-look fall 0.860 -> 0.844.


def low_detection() -> Arm:
    return arm((("agents.US.detection_probability", 0.2),), SMALL, 101)


def high_detection() -> Arm:
    return arm((("agents.US.detection_probability", 0.95),), SMALL, 102)


def low_resolve() -> Arm:
    return arm(each("resolve", 0.2), SMALL, 103)


def high_resolve() -> Arm:
    return arm(each("resolve", 1.0), SMALL, 104)


def without_bases() -> Arm:
    return arm(each("permanent_bases", False, ("UK", "FR")), LARGE, 105)


def with_bases() -> Arm:
    """The baseline itself: the UK and France hold permanent bases."""
    return arm(each("permanent_bases", True, ("UK", "FR")), LARGE, 106)


def fewer_russians() -> Arm:
    return arm((("agents.RU.troops", 500_000),), LARGE, 107)


def more_russians() -> Arm:
    return arm((("agents.RU.troops", 900_000),), LARGE, 108)


def test_better_detection_makes_a_deal_more_durable_not_less():
    low, high = low_detection(), high_detection()
    print("P(hold 365 | deal), detection 0.95 vs 0.2:", describe(high.hold, low.hold))
    assert_higher(high.hold, low.hold, "P(hold 365 | deal) at detection 0.95 vs 0.2")


def test_better_detection_does_not_feed_escalation_spirals():
    low, high = low_detection(), high_detection()
    print("spiral share of deals, detection 0.2 vs 0.95:", describe(low.spiral, high.spiral))
    assert_higher(low.spiral, high.spiral, "spiral share of deals at detection 0.2 vs 0.95")


def test_guarantor_resolve_visibly_makes_a_deal_more_durable():
    low, high = low_resolve(), high_resolve()
    print("P(hold 365 | deal), resolve 1.0 vs 0.2:", describe(high.hold, low.hold))
    # the Bonferroni one-sided bound is stricter than "the difference exceeds its 95 % interval" (z > 1.96)
    assert_higher(high.hold, low.hold, "P(hold 365 | deal) at guarantor resolve 1.0 vs 0.2")


def test_permanent_bases_are_a_price_at_the_table():
    without, with_ = without_bases(), with_bases()
    print("P(deal), without vs with bases:", describe(without.deal, with_.deal))
    assert_higher(without.deal, with_.deal, "P(deal) without vs with permanent bases")


def test_permanent_bases_make_a_deal_more_durable():
    without, with_ = without_bases(), with_bases()
    print("P(hold 365 | deal), with vs without bases:", describe(with_.hold, without.hold))
    assert power(0.831, 0.845, 0.8 * LARGE, 0.8 * LARGE) > 0.95  # the arm size above is large enough
    assert_higher(with_.hold, without.hold, "P(hold 365 | deal) with vs without permanent bases")


def test_more_russian_troops_do_not_make_the_ceasefire_more_durable():
    fewer, more = fewer_russians(), more_russians()
    print("P(hold 365 | deal), 900k vs 500k Russian troops:", describe(more.hold, fewer.hold))
    assert_not_higher(more.hold, fewer.hold, "P(hold 365 | deal) at 900k vs 500k Russian troops")


def test_hawkish_worlds_hold_less_often_once_agreed():
    # version 3's default types: two, a revisionist (hawkish) share and a limited-aims rest; quartiles of intent
    # do not separate two values, so the two types are compared directly
    runs = with_bases().runs
    assert "intent" in runs.columns and runs["intent"].notna().all() and (runs["intent"] >= 0).all()
    intent = runs["intent"].to_numpy(dtype=float)
    assert len(np.unique(intent)) == 2, "two types of Russia"
    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    held = agreed & ~(breakdown <= HOLD_DAY)
    dove, hawk = (intent == intent.min()), (intent == intent.max())
    doves, hawks = (Share(int((held & t).sum()), int((agreed & t).sum())) for t in (dove, hawk))
    print("P(hold 365 | deal), limited-aims vs revisionist Russia:", describe(doves, hawks))
    assert_higher(doves, hawks, "P(hold 365 | deal) with a limited-aims vs a revisionist Russia")


def test_the_tests_can_fail():
    # the same assertions, with each claim turned around, must reject it
    failing = [
        lambda: assert_higher(low_detection().hold, high_detection().hold, "reversed detection"),
        lambda: assert_higher(high_detection().spiral, low_detection().spiral, "reversed spirals"),
        lambda: assert_higher(low_resolve().hold, high_resolve().hold, "reversed resolve"),
        lambda: assert_higher(with_bases().deal, without_bases().deal, "reversed bases at the table"),
        lambda: assert_higher(without_bases().hold, with_bases().hold, "reversed bases after it"),
        lambda: assert_not_higher(fewer_russians().hold, more_russians().hold, "reversed Russian troops"),
    ]
    for check in failing:
        with pytest.raises(AssertionError):
            check()


def test_a_ten_year_horizon_runs_and_reports_five_and_ten_years():
    scenario = load_scenario(BASELINE, {"replications": 300, "horizon_days": 3650, "seed": 7})
    summary = run_scenario(scenario, record_trajectories=False).summary.iloc[0]
    for column in ("p_hold_365", "p_hold_730", "p_hold_1825", "p_hold_3650"):
        assert 0.0 <= summary[column] <= 1.0, column
    assert summary["p_hold_3650"] <= summary["p_hold_1825"] <= summary["p_hold_365"]
    assert summary["p_hold_3650"] == summary["p_hold_horizon"]
