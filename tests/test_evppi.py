"""Value of information (sim.stats.evppi): EVPI and EVPPI against toy decisions whose values are known exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.stats.decision import criteria
from sim.stats.evppi import evpi, evppi, evppi_of, is_discrete

N_FUTURES = 10_000


def toy(n: int = N_FUTURES, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Option A is worth x1 + 0.2 (x2 - 0.5) + N(0, 0.2^2) noise, option B a sure 0.5; x1, x2, x3 ~ U(0, 1).

    E[A | x1] = x1, so EVPPI(x1) = E[max(x1, 0.5)] - max(E[A], 0.5) = 0.625 - 0.5 = 0.125.
    E[A | x2] = 0.5 + 0.2 (x2 - 0.5), so EVPPI(x2) = E[max(0.2 (x2 - 0.5), 0)] = 0.2 x 0.125 = 0.025.
    A does not depend on x3: EVPPI(x3) = 0. The options tie in expectation, the hardest case for the estimator
    (every wiggle of a fitted curve around 0.5 counts as information).
    """
    rng = np.random.default_rng(seed)
    factors = pd.DataFrame({"x1": rng.uniform(0, 1, n), "x2": rng.uniform(0, 1, n), "x3": rng.uniform(0, 1, n)})
    values = pd.DataFrame({"A": factors["x1"] + 0.2 * (factors["x2"] - 0.5) + rng.normal(0, 0.2, n),
                           "B": np.full(n, 0.5)})
    return values, factors


def test_evppi_of_a_continuous_factor_is_within_ten_percent_of_the_known_value():
    pytest.importorskip("sklearn")
    values, factors = toy()
    table = evppi(values, factors)
    # Monte Carlo over 100 seeds at 10,000 futures (not run here): EVPPI(x1) mean 0.1236, SD 0.0016 (range
    # 0.1177-0.1272), so the 10% band, +-0.0125, is about 7 SDs of the estimator's bias plus noise. EVPPI(x2): mean
    # 0.0229, SD 0.0019 (range 0.016-0.027); the 0.01 band is 4 SDs. EVPPI(x3): mean 0.0005, SD 0.0010, max 0.0047.
    assert table.loc["x1", "evppi"] == pytest.approx(0.125, rel=0.10)
    assert table.loc["x2", "evppi"] == pytest.approx(0.025, abs=0.01)
    assert 0 <= table.loc["x3", "evppi"] < 0.1 * 0.125
    assert list(table.index) == ["x1", "x2", "x3"]  # largest first
    assert (table["kind"] == "continuous: penalized spline").all()
    assert table.loc["x1", "r2"] > table.loc["x3", "r2"]


def test_evppi_of_a_discrete_factor_uses_group_means():
    # A is worth 0.3 in structure s0 and 0.7 in s1 (equally likely), B a sure 0.5:
    # EVPPI(structure) = 0.5 x 0.5 + 0.5 x 0.7 - max(0.5, 0.5) = 0.1. A mechanism switch (boolean) that does not
    # matter has EVPPI 0 up to noise. Monte Carlo over 100 seeds: mean 0.0991, SD 0.0011.
    rng = np.random.default_rng(1)
    structure = pd.Series(rng.choice(["s0", "s1"], N_FUTURES), name="structure")
    mechanism = pd.Series(rng.uniform(size=N_FUTURES) < 0.5, name="mechanism")
    values = pd.DataFrame({"A": 0.3 + 0.4 * (structure == "s1") + rng.normal(0, 0.2, N_FUTURES),
                           "B": np.full(N_FUTURES, 0.5)})
    table = evppi(values, pd.concat([structure, mechanism], axis=1))
    assert table.loc["structure", "evppi"] == pytest.approx(0.1, rel=0.10)
    assert table.loc["mechanism", "evppi"] < 0.01
    assert (table["kind"] == "discrete: group means").all()
    assert table["levels"].to_dict() == {"structure": 2, "mechanism": 2}


def test_group_means_are_exact_for_a_discrete_factor():
    # Two futures per level; E(value | level) is the level's mean exactly, so EVPPI is plain arithmetic:
    # A - B per level: l0: (1 + 3) / 2 = 2, l1: (-4 + -2) / 2 = -3; mean increment -0.5 -> B is chosen without
    # information; with it: mean over futures of max(0, increment) = (2 + 2 + 0 + 0) / 4 = 1.0.
    values = pd.DataFrame({"A": [1.0, 3.0, -4.0, -2.0], "B": [0.0, 0.0, 0.0, 0.0]})
    factor = pd.Series(["l0", "l0", "l1", "l1"], name="level")
    value, kind, _ = evppi_of(values, factor)
    assert value == pytest.approx(1.0 - 0.0)
    assert kind == "discrete: group means"
    assert evpi(values) == pytest.approx((1 + 3 + 0 + 0) / 4 - 0.0)


def test_evpi_is_known_and_equals_the_least_expected_regret():
    rng = np.random.default_rng(2)
    x1 = rng.uniform(0, 1, N_FUTURES)
    values = pd.DataFrame({"A": x1, "B": np.full(N_FUTURES, 0.5)})
    # E[max(x1, 0.5)] - max(E x1, 0.5) = 0.125; MC SE of the first term sd(max(x1, 0.5)) / sqrt(n) = 0.0016.
    assert evpi(values) == pytest.approx(0.125, rel=0.10)
    noisy, factors = toy(n=2000, seed=3)
    expected_regret = criteria(noisy, bootstrap=0).table["expected_regret"]
    assert evpi(noisy) == pytest.approx(expected_regret.min(), abs=1e-12)


def test_evppi_is_between_zero_and_evpi():
    pytest.importorskip("sklearn")
    values, factors = toy(n=3000, seed=4)
    values = values.assign(C=0.45 + 0.1 * factors["x3"])
    table = evppi(values, factors)
    total = evpi(values)
    assert (table["evppi"] >= 0).all()
    assert (table["evppi"] <= total + 1e-9).all()
    np.testing.assert_allclose(table["share_of_evpi"], table["evppi"] / total)


def test_lower_is_better_gives_the_same_evppi_as_its_mirror():
    pytest.importorskip("sklearn")
    values, factors = toy(n=2000, seed=5)
    up = evppi(values, factors)
    down = evppi(-values, factors, higher_is_better=False)
    pd.testing.assert_frame_equal(up, down)
    assert evpi(-values, higher_is_better=False) == pytest.approx(evpi(values))


def test_one_option_has_no_value_of_information():
    values, factors = toy(n=200, seed=6)
    table = evppi(values[["A"]], factors)
    assert (table["evppi"] == 0).all()
    assert evpi(values[["A"]]) == 0


def test_pygam_agrees_with_the_known_value():
    pytest.importorskip("pygam")
    values, factors = toy(n=5000, seed=7)
    value, kind, _ = evppi_of(values, factors["x1"], method="gam")
    assert kind == "continuous: pygam LinearGAM"
    # at 5,000 futures the estimator's SD is about 0.003 and pygam's estimate is within 0.0015 of the spline's
    assert value == pytest.approx(0.125, rel=0.10)


def test_which_factors_count_as_discrete():
    assert is_discrete(pd.Series(["a", "b"]))
    assert is_discrete(pd.Series([True, False]))
    assert is_discrete(pd.Series([1, 2, 3] * 10))
    assert not is_discrete(pd.Series(np.linspace(0, 1, 50)))


def test_bad_input_is_refused():
    values, factors = toy(n=100, seed=8)
    with pytest.raises(ValueError):
        evppi(values, factors.iloc[:50])
    with pytest.raises(ValueError):
        evppi_of(values, factors["x1"], method="forest")
    with pytest.raises(ValueError):
        evppi_of(values.assign(A=np.nan), factors["x1"])
