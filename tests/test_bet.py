"""The article's bet: both sides can win at the table, the bet table and its figure, ``ceasefire bet``.

Statistical tolerances. The two "side" tests compare P(deal) at a low and a high troop level with a
one-sided two-proportion z-test (pooled standard error). There are ``N_COMPARISONS`` such comparisons in
this file; each is run at level ``ALPHA / N_COMPARISONS`` (Bonferroni), so the family-wise chance that
a model with no effect passes is at most ``ALPHA``. Both levels run the same worlds (common random
numbers), which makes the two estimates positively correlated: the pooled z-test ignores that
correlation and so overstates the error of the difference, i.e. it is conservative.

The bootstrap of the optimum is tested on constructed per-world tables: exact cases (a level that wins in
every resample), a split whose expected share is computed exactly from the binomial distribution and
checked with a two-sided binomial tolerance at ``ALPHA``, a clearly separated optimum (its margin is
over 6 standard errors, so a resample choosing another level has probability below 1e-9), and the
coverage of the interval on a synthetic Bernoulli problem, checked against the nominal 95 % with a
one-sided binomial tolerance at ``ALPHA``.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.stats import binom

import sim.cli.main as cli
from sim.cli.bet import add_bet_commands
from sim.experiments.bet import (
    DEFAULT_VARIANT,
    OPTIMUM_COLUMNS,
    OUTCOMES,
    TABLE_COLUMNS,
    VALIDITY_COLUMN,
    BetResult,
    PairedWorlds,
    best_troops,
    bet_table,
    central_range,
    optimum_interval,
    optimum_intervals,
    paired_worlds,
    run_bet,
    structure_variant,
)
from sim.experiments.run import run_scenario
from sim.experiments.sweep.design import load_sweep
from sim.outputs.plots.bet import plot_bet
from sim.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
DETERRENCE_WINS = ROOT / "scenarios" / "bet_deterrence_wins.yaml"
PROVOCATION_WINS = ROOT / "scenarios" / "bet_provocation_wins.yaml"
THE_BET = ROOT / "scenarios" / "sweeps" / "the_bet.yaml"

ALPHA = 0.001
"""Family-wise error rate of the side tests."""
N_COMPARISONS = 2
"""One-sided comparisons in this file (deterrence wins, provocation wins)."""
Z_CRITICAL = NormalDist().inv_cdf(1.0 - ALPHA / N_COMPARISONS)
"""About 3.29."""

WORLDS = 2000
SEED = 20261125
LOW, HIGH = 5000, 40000
"""Coalition troops (UK + France, half each) at which P(deal) is compared: the range stated in docs/THE_BET.md."""


def deal_count(scenario_file: Path, troops: int) -> int:
    """Worlds (of ``WORLDS``) that reach a deal at ``troops``; one simulated day is enough for P(deal)."""
    scenario = load_scenario(scenario_file, {"replications": WORLDS, "seed": SEED, "horizon_days": 1,
                                             "agents.UK.troops": troops / 2, "agents.FR.troops": troops / 2})
    return int(run_scenario(scenario, record_trajectories=False).runs["agreed"].sum())


def z_two_proportions(k_high: int, k_low: int, n: int) -> float:
    """z of P(high) - P(low) with the pooled standard error, both samples of size ``n``."""
    pooled = (k_high + k_low) / (2 * n)
    se = math.sqrt(pooled * (1.0 - pooled) * 2.0 / n)
    return (k_high - k_low) / n / se


def test_deterrence_wins_at_the_table_more_troops_more_deals():
    low, high = deal_count(DETERRENCE_WINS, LOW), deal_count(DETERRENCE_WINS, HIGH)
    z = z_two_proportions(high, low, WORLDS)
    assert z > Z_CRITICAL, f"P(deal) {low / WORLDS:.3f} at {LOW} -> {high / WORLDS:.3f} at {HIGH}: z {z:.2f}"


def test_provocation_wins_at_the_table_more_troops_fewer_deals():
    low, high = deal_count(PROVOCATION_WINS, LOW), deal_count(PROVOCATION_WINS, HIGH)
    z = z_two_proportions(low, high, WORLDS)
    assert z > Z_CRITICAL, f"P(deal) {low / WORLDS:.3f} at {LOW} -> {high / WORLDS:.3f} at {HIGH}: z {z:.2f}"


def test_the_bet_sweep_runs_coalition_troops_0_to_60k_for_five_years():
    sweep = load_sweep(THE_BET)
    assert sweep.base.horizon_days >= 1825, "P(hold 5 y) needs a five-year horizon"
    assert sweep.base.name == "baseline"
    assert list(sweep.points[:, 0]) == [5000.0 * i for i in range(13)]
    assert sweep.overrides(12) == {"agents.UK.troops": 30000.0, "agents.FR.troops": 30000.0}


def test_the_bet_sweep_takes_a_structural_form_under_fixed(tmp_path: Path):
    text = THE_BET.read_text(encoding="utf-8").replace("scenario: ../baseline.yaml",
                                                      f"scenario: {ROOT / 'scenarios' / 'baseline.yaml'}")
    path = tmp_path / "variant.yaml"
    path.write_text(text + "fixed:\n  structure.objection: principled\n", encoding="utf-8")
    assert load_sweep(path).scenario_at(3).structure.objection == "principled"


@pytest.fixture(scope="module")
def small_bet() -> BetResult:
    variants = (DEFAULT_VARIANT, structure_variant("objection", "linear"))
    return run_bet(replications=60, seed=7, variants=variants, horizon=400, bootstrap=200)


@pytest.fixture(scope="module")
def small_table(small_bet: BetResult) -> pd.DataFrame:
    return small_bet.table


def test_bet_table_is_the_table_of_run_bet(small_table):
    variants = (DEFAULT_VARIANT, structure_variant("objection", "linear"))
    pd.testing.assert_frame_equal(bet_table(replications=60, seed=7, variants=variants, horizon=400), small_table)


def test_bet_table_has_every_promised_column_and_a_row_per_variant_and_troop_level(small_table):
    assert list(small_table.columns) == [*TABLE_COLUMNS, VALIDITY_COLUMN]
    assert len(small_table) == 2 * 13
    assert list(small_table["variant"].unique()) == ["default", "objection=linear"]
    assert (small_table.groupby("variant")["troops"].apply(list) == [[5000.0 * i for i in range(13)]] * 2).all()
    assert small_table["structure"].str.contains("objection=linear").sum() == 13


def test_bet_table_probabilities_lie_in_their_intervals_within_0_and_1(small_table):
    for outcome in ("p_deal", "p_hold_1y_given_deal", "p_hold_1y"):
        p, low, high = (small_table[f"{outcome}{s}"] for s in ("", "_ci_low", "_ci_high"))
        assert ((low >= 0) & (low <= p) & (p <= high) & (high <= 1)).all(), outcome
    assert small_table["p_hold_5y"].isna().all(), "P(hold 5 y) must be missing when the horizon is 400 days"


def test_bet_table_hold_given_deal_times_deal_is_hold_over_all_worlds(small_table):
    product = small_table["p_deal"] * small_table["p_hold_1y_given_deal"].fillna(0.0)
    assert np.allclose(product, small_table["p_hold_1y"])


def test_bet_table_same_seed_same_numbers_as_a_plain_run(small_table):
    scenario = load_scenario(ROOT / "scenarios" / "baseline.yaml", {
        "replications": 60, "seed": 7, "horizon_days": 400, "agents.UK.troops": 10000, "agents.FR.troops": 10000})
    agreed = run_scenario(scenario, record_trajectories=False).runs["agreed"].mean()
    row = small_table[(small_table["variant"] == "default") & (small_table["troops"] == 20000)].iloc[0]
    assert row["p_deal"] == pytest.approx(agreed)


def test_plot_bet_returns_a_figure_with_four_panels_and_writes_png(small_table, tmp_path: Path):
    path = tmp_path / "bet.png"
    fig = plot_bet(small_table, path)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == list(OUTCOMES.values())
    assert path.stat().st_size > 10_000


def test_plot_bet_refuses_a_table_without_its_columns(small_table):
    with pytest.raises(ValueError, match="p_hold_5y"):
        plot_bet(small_table.drop(columns=["p_hold_5y"]))


def bet_parser() -> argparse.ArgumentParser:
    """The ``ceasefire`` parser with the bet command, as sim.cli.main builds it once hooked up."""
    parser = argparse.ArgumentParser(prog="ceasefire")
    add_bet_commands(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture
def ceasefire(monkeypatch: pytest.MonkeyPatch):
    """Run ``ceasefire ARGS`` through sim.cli.main.main (its error handling and exit codes)."""
    monkeypatch.setattr(cli, "build_parser", bet_parser)
    return lambda *argv: cli.main([str(a) for a in argv])


def test_bet_command_writes_its_tables_figure_and_manifest(ceasefire, tmp_path: Path):
    out = tmp_path / "bet"
    assert ceasefire("bet", "--replications", 20, "--horizon", 30, "--variants", "default", "--out", out,
                     "--quiet") == 0
    assert sorted(p.name for p in out.iterdir()) == ["intent.csv", "manifest.json", "optimum.csv", "the_bet.csv",
                                                     "the_bet.png"]
    table = pd.read_csv(out / "the_bet.csv")
    assert list(table.columns) == [*TABLE_COLUMNS, VALIDITY_COLUMN] and len(table) == 13
    assert len(pd.read_csv(out / "intent.csv")) == 13 * 4
    optimum = pd.read_csv(out / "optimum.csv")
    assert list(optimum.columns) == list(OPTIMUM_COLUMNS)
    assert list(optimum["outcome"]) == ["p_deal"], "a 30-day horizon defines P(deal) only"
    assert optimum["resamples"].tolist() == [1000]


def test_bet_command_bootstrap_0_writes_no_optimum(ceasefire, tmp_path: Path):
    out = tmp_path / "bet"
    assert ceasefire("bet", "--replications", 10, "--horizon", 30, "--variants", "default", "--bootstrap", 0,
                     "--out", out, "--quiet") == 0
    assert not (out / "optimum.csv").exists() and (out / "the_bet.csv").exists()


@pytest.mark.parametrize(("args", "message"), [
    (("--variants", "objection=cubic"), "--variants: unknown variant 'objection=cubic'"),
    (("--replications", "0"), "--replications: must be >= 1"),
    (("--horizon", "0"), "--horizon: must be >= 1"),
    (("--bootstrap", "-1"), "--bootstrap: must be >= 0 resamples (got -1"),
])
def test_bet_command_refuses_bad_input_with_one_line_and_exit_2(ceasefire, tmp_path: Path, capsys, args, message):
    assert ceasefire("bet", *args, "--out", tmp_path / "bet", "--quiet") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "bet").exists()


# --------------------------------------------------------------------------- where the optimum is

def worlds_of(hold: np.ndarray, troops: np.ndarray | None = None) -> PairedWorlds:
    """Paired worlds whose every world agreed, holding (at 1 and 5 years) as in ``hold`` (levels x worlds)."""
    hold = np.asarray(hold, dtype=bool)
    troops = np.arange(hold.shape[0]) * 5000.0 if troops is None else troops
    return PairedWorlds(troops, np.ones_like(hold), hold, hold)


def test_a_level_better_in_every_world_is_the_whole_interval():
    n = 1000
    hold = np.zeros((3, n), dtype=bool)
    hold[0, : n // 2] = True
    hold[1] = True  # holds in every world: it wins every resample, strictly
    found = optimum_interval(worlds_of(hold), "p_hold_1y", resamples=500, seed=1)
    assert (found.best, found.low, found.high, found.modal) == (5000.0, 5000.0, 5000.0, 5000.0)
    assert found.share_at_best == 1.0 and list(found.shares) == [0.0, 1.0, 0.0]
    assert list(found.values) == [0.5, 1.0, 0.0]


def test_the_bootstrap_is_paired_a_small_worldwise_gain_always_wins():
    """Level 1 holds wherever level 0 does and in 40 more worlds of 4,000: an unpaired bootstrap would put
    level 0 first in about a fifth of resamples (difference 0.010, unpaired SE 0.011); the paired one never
    does, except in a resample drawing none of the 40 worlds (probability (1 - 40/4000)^4000 < 1e-17)."""
    n = 4000
    hold = np.zeros((2, n), dtype=bool)
    hold[0, :2000] = True
    hold[1, :2040] = True
    found = optimum_interval(worlds_of(hold), "p_hold_1y", resamples=1000, seed=2)
    assert (found.low, found.high, found.share_at_best) == (5000.0, 5000.0, 1.0)


def test_two_levels_equal_in_expectation_split_the_resamples():
    """Levels 0 and 1 hold in disjoint halves of 2,000 worlds; a resample drawing K of its worlds from the
    first half picks level 0 iff K >= 1,000 (ties to the lowest level), K ~ Binomial(2000, 1/2). Level 2 holds
    in a subset of level 0's worlds at a higher troop level, so it never wins."""
    n, resamples = 2000, 2000
    hold = np.zeros((3, n), dtype=bool)
    hold[0, : n // 2] = True
    hold[1, n // 2:] = True
    hold[2, : n // 4] = True
    found = optimum_interval(worlds_of(hold), "p_hold_1y", resamples=resamples, seed=3)
    expected = binom.sf(n // 2 - 1, n, 0.5)  # P(K >= 1000), about 0.509
    tolerance = NormalDist().inv_cdf(1 - ALPHA / 2) * math.sqrt(expected * (1 - expected) / resamples)
    assert abs(found.shares[0] - expected) <= tolerance, f"share at level 0 {found.shares[0]:.3f}, {expected:.3f}"
    assert found.shares[2] == 0.0
    assert (found.best, found.low, found.high) == (0.0, 0.0, 5000.0)


def test_ties_go_to_the_lowest_troop_level():
    hold = np.zeros((3, 10), dtype=bool)
    hold[1:, :5] = True  # levels 1 and 2 hold in the same worlds: every resample ties them
    found = optimum_interval(worlds_of(hold), "p_hold_1y", resamples=100, seed=4)
    assert (found.best, found.low, found.high, found.share_at_best) == (5000.0, 5000.0, 5000.0, 1.0)


def test_the_bootstrap_is_reproducible_from_its_seed():
    rng = np.random.default_rng(5)
    worlds = worlds_of(rng.random((6, 300)) < np.array([0.50, 0.55, 0.57, 0.56, 0.52, 0.5])[:, None])
    first, again = (optimum_interval(worlds, "p_hold_1y", 400, seed=11) for _ in range(2))
    other = optimum_interval(worlds, "p_hold_1y", 400, seed=12)
    assert np.array_equal(first.shares, again.shares) and (first.low, first.high) == (again.low, again.high)
    assert not np.array_equal(first.shares, other.shares), "another seed must draw other resamples"


def test_several_problems_on_shared_resamples_give_what_each_gives_alone():
    rng = np.random.default_rng(9)
    agreed = rng.random((4, 300)) < 0.7
    worlds = PairedWorlds(np.arange(4) * 5000.0, agreed, agreed & (rng.random((4, 300)) < 0.8), None)
    other = worlds_of(rng.random((3, 300)) < np.array([0.5, 0.52, 0.51])[:, None])
    pairs = [(worlds, "p_deal"), (worlds, "p_hold_1y_given_deal"), (other, "p_hold_1y"), (worlds, "p_hold_1y")]
    together = optimum_intervals(pairs, 300, seed=10)  # 300 resamples: two batches
    for (paired, outcome), found in zip(pairs, together, strict=True):
        alone = optimum_interval(paired, outcome, 300, seed=10)
        assert np.array_equal(found.shares, alone.shares) and np.array_equal(found.values, alone.values, equal_nan=True)
        assert (found.best, found.low, found.high) == (alone.best, alone.low, alone.high)
    with pytest.raises(ValueError, match="same number of worlds"):
        optimum_intervals([(worlds, "p_deal"), (worlds_of(np.ones((2, 5), dtype=bool)), "p_deal")], 10)


def test_a_clearly_separated_optimum_is_found_and_inside_its_interval():
    """P = 0.3, 0.5, 0.7, 0.6 over 2,000 independent worlds: the best beats the next by 0.1, about 6.5
    standard errors of the difference (0.015)."""
    p = np.array([0.3, 0.5, 0.7, 0.6])
    rng = np.random.default_rng(6)
    found = optimum_interval(worlds_of(rng.random((4, 2000)) < p[:, None]), "p_hold_1y", 1000, seed=6)
    assert found.best == 10000.0 and found.low <= 10000.0 <= found.high


def test_the_interval_covers_the_true_optimum_at_least_at_its_level():
    """A near tie: P = 0.40, 0.46, 0.50, 0.47, 0.42 over 500 independent worlds (the best beats the next by
    about one standard error), so the full sample picks the wrong level about a third of the time. Over
    ``problems`` fresh samples the 95 % interval must contain the true optimum at least 95 % of the time,
    less a one-sided binomial tolerance at ``ALPHA``. (The percentile bootstrap of an argmax carries no
    exact guarantee; on such near ties it is conservative, which is what this checks.)"""
    p = np.array([0.40, 0.46, 0.50, 0.47, 0.42])
    problems, level = 200, 0.95
    rng = np.random.default_rng(7)
    covered = wrong_pick = 0
    for index in range(problems):
        found = optimum_interval(worlds_of(rng.random((5, 500)) < p[:, None]), "p_hold_1y", 200, index, level)
        covered += found.low <= 10000.0 <= found.high
        wrong_pick += found.best != 10000.0
    floor = level - NormalDist().inv_cdf(1 - ALPHA) * math.sqrt(level * (1 - level) / problems)
    assert covered / problems >= floor, f"coverage {covered / problems:.3f} < {floor:.3f}"
    assert wrong_pick > 0, "a near tie, or the test would not need a bootstrap"


def test_the_conditional_outcome_is_a_ratio_and_a_level_without_deals_never_wins():
    agreed = np.zeros((3, 100), dtype=bool)
    agreed[1, :50] = agreed[2] = True
    hold = agreed.copy()
    hold[1, :10] = False  # level 1: 40 of 50 deals hold (0.8); level 2: 100 of 100 (1.0); level 0: no deal
    found = optimum_interval(PairedWorlds(np.array([0.0, 5000.0, 10000.0]), agreed, hold, None),
                             "p_hold_1y_given_deal", 300, seed=8)
    assert np.isnan(found.values[0]) and list(found.values[1:]) == [0.8, 1.0]
    assert (found.best, found.low, found.high) == (10000.0, 10000.0, 10000.0)


@pytest.mark.parametrize(("tally", "expected"), [
    ([0, 1000, 0], (1, 1)),
    ([25, 950, 25], (1, 1)),  # exactly 2.5 % in each tail: dropped
    ([26, 948, 26], (0, 2)),
    ([500, 0, 500], (0, 2)),
    ([0, 0, 1], (2, 2)),
])
def test_central_range_drops_the_lowest_and_highest_optima(tally, expected):
    assert central_range(np.array(tally), 0.95) == expected


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"resamples": 0}, "resamples: must be an integer >= 1"),
    ({"resamples": -5}, "resamples: must be an integer >= 1"),
    ({"level": 1.0}, "level: must lie in"),
    ({"outcome": "p_win"}, "outcome: must be one of"),
])
def test_optimum_interval_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optimum_interval(worlds_of(np.ones((2, 5), dtype=bool)), **{"outcome": "p_hold_1y", **kwargs})


def test_optimum_interval_refuses_an_outcome_beyond_the_horizon():
    worlds = PairedWorlds(np.array([0.0, 1.0]), np.ones((2, 5), dtype=bool), None, None)
    assert worlds.available() == ("p_deal",)
    with pytest.raises(ValueError, match="p_hold_1y: beyond the horizon"):
        optimum_interval(worlds, "p_hold_1y", 10)


def test_paired_worlds_refuses_levels_that_hold_different_worlds():
    runs = pd.DataFrame({"replication": [0, 1], "agreed": [True, False],
                         "breakdown_day": pd.array([None, None], dtype="Int64")})
    with pytest.raises(ValueError, match="does not hold the same replications"):
        paired_worlds({0.0: runs, 5000.0: runs.assign(replication=[0, 2])}, 400)


def test_paired_worlds_from_runs_sorts_worlds_by_replication_and_holds_as_holding_counts():
    runs = pd.DataFrame({"replication": [1, 0, 2], "agreed": [True, True, False],
                         "breakdown_day": pd.array([365, None, None], dtype="Int64")})
    worlds = paired_worlds({5000.0: runs, 0.0: runs}, 400)
    assert list(worlds.troops) == [0.0, 5000.0]
    assert worlds.agreed[0].tolist() == [True, True, False]
    assert worlds.hold_1y[0].tolist() == [True, False, False], "broken on day 365 = not holding at day 365"
    assert worlds.hold_5y is None


def test_the_bets_worlds_give_its_table_and_its_optimum(small_bet):
    table, optimum = small_bet.table, small_bet.optimum
    for name, worlds in small_bet.worlds.items():
        rows = table[table["variant"] == name]
        assert list(worlds.troops) == list(rows["troops"]) and worlds.worlds == 60
        assert np.allclose(worlds.agreed.mean(axis=1), rows["p_deal"])
        assert np.allclose(worlds.hold_1y.mean(axis=1), rows["p_hold_1y"])
    assert list(optimum.columns) == list(OPTIMUM_COLUMNS)
    assert len(optimum) == 2 * 3, "two variants x the three outcomes defined at 400 days"
    hold = optimum[optimum["outcome"] == "p_hold_1y"].reset_index(drop=True)
    picks = best_troops(table, "p_hold_1y")
    assert list(hold["best_troops"]) == list(picks["troops"])
    assert np.allclose(hold["best_value"], picks["p_hold_1y"])
    inside = (optimum["interval_low"] <= optimum["best_troops"]) & (optimum["best_troops"] <= optimum["interval_high"])
    assert (inside | (optimum["share_at_best"] <= 0.025)).all(), "more than the dropped tail at the best: inside"
    assert (optimum["interval_low"] <= optimum["interval_high"]).all()
    assert (optimum["seed"] == 7).all() and (optimum["resamples"] == 200).all()


def test_the_bet_gives_the_same_bytes_on_a_dask_cluster(ceasefire, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("sim.experiments.sweep.execute", exc_type=ImportError)  # holds the Dask connection
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    args = ("bet", "--replications", 40, "--horizon", 60, "--variants", "default,legacy_v1", "--bootstrap", 20,
            "--quiet")
    assert ceasefire(*args, "--out", tmp_path / "local") == 0
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        assert ceasefire(*args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "dask") == 0
    for name in ("the_bet.csv", "intent.csv", "optimum.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
