"""The article's bet: both sides can win at the table, the bet table and its figure, ``ceasefire bet``.

Statistical tolerances. The two "side" tests compare P(deal) at a low and a high troop level with a
one-sided two-proportion z-test (pooled standard error). There are ``N_COMPARISONS`` such comparisons in
this file; each is run at level ``ALPHA / N_COMPARISONS`` (Bonferroni), so the family-wise chance that
a model with no effect passes is at most ``ALPHA``. Both levels run the same worlds (common random
numbers), which makes the two estimates positively correlated: the pooled z-test ignores that
correlation and so overstates the error of the difference, i.e. it is conservative.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim.cli as cli
from sim.bet import (
    DEFAULT_VARIANT,
    OUTCOMES,
    TABLE_COLUMNS,
    bet_table,
    plot_bet,
    structure_variant,
)
from sim.bet_cli import add_bet_commands
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.sweep import load_sweep

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
    path.write_text(text + "fixed:\n  structure.objection: categorical\n", encoding="utf-8")
    assert load_sweep(path).scenario_at(3).structure.objection == "categorical"


@pytest.fixture(scope="module")
def small_table() -> pd.DataFrame:
    variants = (DEFAULT_VARIANT, structure_variant("objection", "linear"))
    return bet_table(replications=60, seed=7, variants=variants, horizon=400)


def test_bet_table_has_every_promised_column_and_a_row_per_variant_and_troop_level(small_table):
    assert list(small_table.columns) == list(TABLE_COLUMNS)
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
    """The ``ceasefire`` parser with the bet command, as sim.cli builds it once hooked up."""
    parser = argparse.ArgumentParser(prog="ceasefire")
    add_bet_commands(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture
def ceasefire(monkeypatch: pytest.MonkeyPatch):
    """Run ``ceasefire ARGS`` through sim.cli.main (its error handling and exit codes)."""
    monkeypatch.setattr(cli, "build_parser", bet_parser)
    return lambda *argv: cli.main([str(a) for a in argv])


def test_bet_command_writes_its_tables_figure_and_manifest(ceasefire, tmp_path: Path):
    out = tmp_path / "bet"
    assert ceasefire("bet", "--replications", 20, "--horizon", 30, "--variants", "default", "--out", out,
                     "--quiet") == 0
    assert sorted(p.name for p in out.iterdir()) == ["intent.csv", "manifest.json", "the_bet.csv", "the_bet.png"]
    table = pd.read_csv(out / "the_bet.csv")
    assert list(table.columns) == list(TABLE_COLUMNS) and len(table) == 13
    assert len(pd.read_csv(out / "intent.csv")) == 13 * 4


@pytest.mark.parametrize(("args", "message"), [
    (("--variants", "objection=cubic"), "--variants: unknown variant 'objection=cubic'"),
    (("--replications", "0"), "--replications: must be >= 1"),
    (("--horizon", "0"), "--horizon: must be >= 1"),
])
def test_bet_command_refuses_bad_input_with_one_line_and_exit_2(ceasefire, tmp_path: Path, capsys, args, message):
    assert ceasefire("bet", *args, "--out", tmp_path / "bet", "--quiet") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "bet").exists()
