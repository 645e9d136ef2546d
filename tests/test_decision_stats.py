"""Decision criteria over futures (sim.stats.decision): regret, the criteria, their picks and bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.stats.decision import criteria, regret_table

# Three options in four futures, every statistic computed by hand below. Each criterion has a unique pick, and
# they disagree: expected value picks C, the worst decile and satisficing pick A, both regret criteria pick B.
VALUES = pd.DataFrame({"A": [10.0, 10.0, 10.0, 10.0], "B": [20.0, 14.0, 2.0, 12.0], "C": [0.0, 30.0, 12.0, 7.0]},
                      index=pd.Index(["f1", "f2", "f3", "f4"], name="future"))
# best per future: 20, 30, 12, 12 (mean 18.5)
REGRET = pd.DataFrame({"A": [10.0, 20.0, 2.0, 2.0], "B": [0.0, 16.0, 10.0, 0.0], "C": [20.0, 0.0, 0.0, 5.0]},
                      index=VALUES.index)


def test_regret_matches_the_hand_computed_table():
    pd.testing.assert_frame_equal(regret_table(VALUES), REGRET)


def test_the_best_option_in_each_future_has_zero_regret_and_no_regret_is_negative():
    rng = np.random.default_rng(3)
    values = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("ABCD"))
    regret = regret_table(values)
    assert (regret.to_numpy() >= 0).all()
    np.testing.assert_array_equal(regret.min(axis=1).to_numpy(), 0.0)
    best = values.to_numpy().argmax(axis=1)
    np.testing.assert_array_equal(regret.to_numpy()[np.arange(len(values)), best], 0.0)


def test_statistics_match_hand_computation():
    table = criteria(VALUES, threshold=10, bootstrap=0).table
    expected = pd.DataFrame({
        "expected_value": [10.0, 12.0, 12.25],
        # 4 futures: the worst 10% is 0.4 of a future, i.e. the minimum
        "worst_decile": [10.0, 2.0, 0.0],
        "expected_regret": [8.5, 6.5, 6.25],
        "max_regret": [20.0, 16.0, 20.0],
        # sorted regrets r0..r3, numpy's linear quantile at position 0.9 x 3 = 2.7: r2 + 0.7 (r3 - r2)
        "p90_regret": [10 + 0.7 * 10, 10 + 0.7 * 6, 5 + 0.7 * 15],
        "satisficing_share": [1.0, 0.75, 0.5],
    }, index=pd.Index(["A", "B", "C"], name="option"))
    pd.testing.assert_frame_equal(table[expected.columns], expected)


def test_expected_regret_is_best_mean_minus_mean_so_the_expected_value_pick_has_least_expected_regret():
    # E[regret_j] = E[max_k v_k] - E[v_j]: the expected-value pick minimises expected regret, and in expectation its
    # regret is exactly the gap E[max] - max E[v] (0 only when one option is best in every future).
    rng = np.random.default_rng(11)
    values = pd.DataFrame(rng.normal(loc=[0.0, 0.1, 0.05], scale=[1.0, 2.0, 0.5], size=(2000, 3)),
                          columns=["low", "risky", "safe"])
    result = criteria(values, bootstrap=0)
    best_mean = values.max(axis=1).mean()
    np.testing.assert_allclose(result.table["expected_regret"], best_mean - values.mean(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.table["expected_regret"], regret_table(values).mean(), rtol=0, atol=1e-12)
    pick = result.picks.loc["expected value", "pick"]
    assert result.table["expected_regret"].idxmin() == pick
    assert result.table.loc[pick, "expected_regret"] == pytest.approx(best_mean - values.mean().max(), abs=1e-12)


def test_an_option_best_in_every_future_has_zero_regret_everywhere():
    values = VALUES.assign(D=VALUES.max(axis=1) + 1.0)
    result = criteria(values, threshold=12.5, bootstrap=200, seed=1)  # only D meets 12.5 in every future
    assert (result.regret["D"] == 0).all()
    assert result.table.loc["D", ["expected_regret", "max_regret", "p90_regret"]].eq(0).all()
    assert set(result.picks["pick"]) == {"D"}
    assert not result.disagree
    assert result.disagreement().startswith("Criteria agree")


def test_each_criterion_names_its_pick_and_disagreement_is_flagged():
    result = criteria(VALUES, threshold=10, bootstrap=0)
    assert result.picks["pick"].to_dict() == {"expected value": "C", "worst decile": "A", "minimax regret": "B",
                                              "90th-percentile regret": "B", "satisficing": "A"}
    assert result.picks.loc["minimax regret", "score"] == 16.0
    assert (result.picks["tied_with"] == "").all()
    assert result.disagree
    assert result.disagreement().startswith("Criteria disagree: expected value picks C;")


def test_ties_are_named():
    values = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0]})
    picks = criteria(values, bootstrap=0).picks
    assert picks.loc["expected value", "pick"] == "A"
    assert picks.loc["expected value", "tied_with"] == "B"


def test_worst_decile_is_the_mean_of_the_worst_tenth_with_a_fractional_boundary_future():
    values = pd.DataFrame({"A": np.arange(1.0, 21.0)})  # 20 futures: the worst 2 are 1 and 2
    assert criteria(values, bootstrap=0).table.loc["A", "worst_decile"] == pytest.approx(1.5)
    values = pd.DataFrame({"A": np.arange(1.0, 16.0)})  # 15 futures: 1.5 futures, 1 in full and half of 2
    assert criteria(values, bootstrap=0).table.loc["A", "worst_decile"] == pytest.approx((1 + 0.5 * 2) / 1.5)


def test_lower_is_better_mirrors_higher_is_better():
    up = criteria(VALUES, threshold=10, bootstrap=300, seed=4)
    down = criteria(-VALUES, threshold=-10, bootstrap=300, seed=4, higher_is_better=False)
    pd.testing.assert_frame_equal(up.picks.drop(columns="score"), down.picks.drop(columns="score"))
    pd.testing.assert_frame_equal(up.regret, down.regret)
    for column in ("expected_value", "worst_decile"):
        np.testing.assert_allclose(down.table[column], -up.table[column])
        np.testing.assert_allclose(down.table[f"{column}_lo"], -up.table[f"{column}_hi"])
    for column in ("max_regret", "p90_regret", "satisficing_share"):
        np.testing.assert_allclose(down.table[column], up.table[column])


def test_bootstrap_resamples_futures_jointly_and_is_seeded():
    rng = np.random.default_rng(5)
    base = rng.normal(size=300)
    values = pd.DataFrame({"A": base, "B": base + 0.01, "C": rng.normal(size=300)})
    result = criteria(values, threshold=0.0, bootstrap=500, seed=7)
    # B beats A by 0.01 in every future, so in every joint resample: B's expected value is above A's, its regret
    # against A is never positive. Independent resampling of the columns would break both.
    assert result.table.loc["B", "expected_value_lo"] > result.table.loc["A", "expected_value_lo"]
    assert (result.table.loc["B", "expected_value_lo"] <= result.table.loc["B", "expected_value"]
            <= result.table.loc["B", "expected_value_hi"])
    share_lo, share_hi = result.table.loc["A", ["satisficing_share_lo", "satisficing_share_hi"]]
    assert 0 <= share_lo <= result.table.loc["A", "satisficing_share"] <= share_hi <= 1
    assert result.picks["pick_share"].between(0, 1).all()
    again = criteria(values, threshold=0.0, bootstrap=500, seed=7)
    pd.testing.assert_frame_equal(result.table, again.table)
    other = criteria(values, threshold=0.0, bootstrap=500, seed=8)
    assert not result.table.equals(other.table)


def test_without_bootstrap_or_threshold_the_missing_parts_are_nan():
    result = criteria(VALUES, bootstrap=0)
    assert result.table.filter(regex="_(lo|hi)$").isna().all().all()
    assert result.table["satisficing_share"].isna().all()
    assert "satisficing" not in result.picks.index
    assert result.picks["pick_share"].isna().all()


@pytest.mark.parametrize("bad", [
    VALUES.assign(A=[1.0, np.nan, 1.0, 1.0]),
    VALUES.iloc[:0],
])
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError):
        criteria(bad)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        criteria(VALUES, level=1.0)
    with pytest.raises(ValueError):
        criteria(VALUES, bootstrap=-1)
    with pytest.raises(TypeError):
        regret_table(VALUES.to_numpy())
