"""The structural ensemble: its design, its variance decomposition, and ``ceasefire ensemble``.

Statistical tolerances. The decomposition tests use synthetic grids with a fixed generator seed, so they
cannot flake; each tolerance is about 4 standard errors of the estimator under that grid's size, derived
in the test's docstring, so a decomposition that misattributes variance by more than that fails.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.cli.main as cli
import sim.engine.packing
import sim.experiments.ensemble as ensemble
from sim.cli.ensemble import add_ensemble_commands
from sim.core.errors import InputError
from sim.experiments.ensemble import (
    MECHANISM_NAMES,
    OUTPUTS,
    all_combinations,
    choose_combinations,
    make_design,
    prior_draws,
    variance_shares,
)
from sim.mechanisms import DEFAULT_STRUCTURE, LEGACY_STRUCTURE, REGISTRY, V2_STRUCTURE
from sim.spec.scenario import get_path, load_scenario
from sim.spec.sources import load_commitments

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


# --------------------------------------------------------------------------- design


def test_all_combinations_are_every_distinct_choice_of_forms_including_default_and_legacy():
    combos = all_combinations()
    expected = math.prod(len(forms) for forms in REGISTRY.values())
    assert expected == 3 * 2 * 3 * 2 * 3 * 2 * 3 * 2 * 2 * 2 * 2 * 2 == 20_736 and len(combos) == expected
    assert len({tuple(c.values()) for c in combos}) == expected
    assert DEFAULT_STRUCTURE in combos and V2_STRUCTURE in combos and LEGACY_STRUCTURE in combos


def test_a_combination_sample_is_seeded_distinct_and_of_the_size_asked():
    first, rule = choose_combinations("sample:10", seed=7)
    again, _ = choose_combinations("sample:10", seed=7)
    other, _ = choose_combinations("sample:10", seed=8)
    assert first == again and first != other
    assert len({tuple(c.values()) for c in first}) == 10 and "sample:10" in rule


@pytest.mark.parametrize("spec", ["some", "sample:", "sample:0", "sample:20737", "sample:-2", "sample:x", "all:3"])
def test_a_bad_combinations_value_is_refused_in_one_line(spec: str):
    with pytest.raises(InputError, match="^--combinations: "):
        choose_combinations(spec, seed=1)


def test_the_design_is_a_full_factorial_with_the_same_draws_and_seeds_in_every_combination():
    design = make_design(BASELINE, "sample:3", draws=3, replications=20, horizon_days=30, seed=11)
    assert design.cells == list(itertools.product(range(3), range(3)))
    assert len(set(design.seeds)) == 3
    for d in range(3):
        scenarios = [design.scenario(c, d) for c in range(3)]
        dumps = [s.model_dump(exclude={"structure"}) for s in scenarios]
        assert all(dump == dumps[0] for dump in dumps)  # same parameters, seed, worlds and horizon
        assert scenarios[0].seed == design.seeds[d] and scenarios[0].replications == 20
        assert [s.structure.model_dump() for s in scenarios] == list(design.combinations)
    assert design.scenario(0, 0).model_dump() != design.scenario(0, 1).model_dump()


def test_prior_draws_lie_in_their_priors_and_leave_the_scenarios_own_values_alone(write_yaml):
    own = write_yaml(f"extends: {BASELINE.name}\nname: own\nagents:\n  RU:\n    table_gain: 0.123\n")
    (own.parent / BASELINE.name).write_text(BASELINE.read_text(encoding="utf-8"), encoding="utf-8")
    base = load_scenario(own)
    draws = prior_draws(base, 5, seed=3)
    priors = load_commitments().priors()
    assert draws.source == "prior"
    assert "agents.RU.table_gain" not in draws.values[0]
    assert set(draws.values[0]) == set(priors) - {"agents.RU.table_gain"}
    for values in draws.values:
        for path, value in values.items():
            assert priors[path].contains(value), f"{path}: {value} outside {priors[path].describe()}"
    design = make_design(own, "sample:1", draws=2, replications=5, horizon_days=5, seed=3)
    assert get_path(design.scenario(0, 1).model_dump(), "agents.RU.table_gain") == 0.123


def test_draws_0_runs_every_combination_once_at_the_scenarios_own_values():
    design = make_design(BASELINE, "sample:4", draws=0, replications=5, horizon_days=5, seed=2)
    assert design.cells == [(c, 0) for c in range(4)] and design.draws.source == ensemble.FIXED_SOURCE
    base = load_scenario(BASELINE, {"replications": 5, "horizon_days": 5, "seed": 2})
    assert design.scenario(2, 0).model_dump(exclude={"structure"}) == base.model_dump(exclude={"structure"})


def test_posterior_draws_follow_the_weights_and_say_where_they_come_from(tmp_path: Path):
    posterior = tmp_path / "posterior.csv"
    posterior.write_text("agents.RU.war_cost,model.troop_scale,weight\n1.5,9000,0\n2.5,11000,1\n",
                         encoding="utf-8")
    design = make_design(BASELINE, "sample:2", draws=4, replications=5, horizon_days=5, seed=1,
                         posterior=posterior)
    assert design.draws.source == f"posterior {posterior}"
    assert all(v == {"agents.RU.war_cost": 2.5, "model.troop_scale": 11000.0} for v in design.draws.values)
    assert design.scenario(1, 3).agents.RU.war_cost == 2.5


@pytest.mark.parametrize(
    ("text", "field"),
    [("agents.RU.war_cost\n1.0\n", "weight"), ("agents.RU.nonsense,weight\n1,1\n", "agents.RU.nonsense"),
     ("agents.RU.war_cost,weight\n1,-1\n", "weight"), ("agents.RU.war_cost,weight\nabc,1\n", "agents.RU.war_cost")],
)
def test_a_bad_posterior_file_is_refused_naming_the_file_and_field(tmp_path: Path, text, field):
    posterior = tmp_path / "posterior.csv"
    posterior.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=f"^{re.escape(str(posterior))}: '?{re.escape(field)}'?: "):
        make_design(BASELINE, "sample:1", draws=2, replications=5, horizon_days=5, posterior=posterior)


def test_runs_are_the_same_whatever_the_number_of_workers():
    design = make_design(BASELINE, "sample:2", draws=2, replications=30, horizon_days=20, seed=5)
    one = ensemble.run_ensemble(design, workers=1).runs
    two = ensemble.run_ensemble(design, workers=2).runs
    pd.testing.assert_frame_equal(one, two)


# --------------------------------------------------------------------------- variance decomposition


def _binomial_grid(p: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Estimates ``Binomial(n, p) / n`` of each cell and their binomial variances."""
    k = rng.binomial(n, p)
    return k / n, ensemble.mc_variance(k.astype(float), np.full(p.shape, float(n)))


def test_structure_alone_gets_all_the_variance():
    """y[c, d] = s_c exactly; the only other term is the binomial variance handed in, whose share is
    bounded by v / var(s) = 1e-6 / 0.02: the structure share must exceed 1 - 1e-4."""
    s = np.linspace(0.2, 0.7, 12)
    y = np.repeat(s[:, None], 8, axis=1)
    parts = variance_shares(y, np.full(y.shape, 1e-6))
    assert parts["share_structure"] > 1 - 1e-4
    assert parts["share_parameters"] == 0.0


def test_a_parameter_effect_shared_by_every_combination_is_not_counted_as_structure():
    """y[c, d] = t_d: between-combination variance is exactly 0, within is var(t); parameters > 1 - 1e-4."""
    t = np.linspace(0.1, 0.9, 8)
    y = np.repeat(t[None, :], 12, axis=0)
    parts = variance_shares(y, np.full(y.shape, 1e-6))
    assert parts["share_parameters"] > 1 - 1e-4 and parts["share_structure"] < 1e-12


def test_binomial_noise_alone_is_counted_as_monte_carlo():
    """Every cell Binomial(400, 0.3)/400, independent; C = 100, K = 20. The within-combination variance
    has 1,900 degrees of freedom (relative SD sqrt(2/1900) = 0.032), so the parameter share is
    0 +- 0.032 (4 SD: < 0.13); the structure term (MS_c - MS_res)/K, MS_c with 99 df, relative SD 0.14,
    divided by K = 20, gives a share of 0 +- 0.007 (4 SD: < 0.03)."""
    rng = np.random.default_rng(5)
    y, v = _binomial_grid(np.full((100, 20), 0.3), 400, rng)
    parts = variance_shares(y, v)
    assert parts["share_parameters"] < 0.13 and parts["share_structure"] < 0.03
    assert parts["share_monte_carlo"] > 0.84


def test_known_structure_and_noise_shares_are_recovered():
    """p_c evenly spread over [0.2, 0.6] (C = 60, var 0.0142), K = 10, n = 400 (MC variance ~ 6e-4):
    true structure share 0.0142 / (0.0142 + 6e-4) = 0.96. The estimate of var(p_c) from 60 combinations
    given the true p_c has a relative error of about sqrt(2/59)·(MS_res/(K var)) < 0.01, plus the
    combination means' noise; the share must be 0.96 +- 0.02 and parameters < 0.03."""
    rng = np.random.default_rng(9)
    p = np.repeat(np.linspace(0.2, 0.6, 60)[:, None], 10, axis=1)
    y, v = _binomial_grid(p, 400, rng)
    parts = variance_shares(y, v)
    true_struct = np.var(np.linspace(0.2, 0.6, 60), ddof=1)
    expected = true_struct / (true_struct + np.mean(p * (1 - p) / 400))
    assert abs(parts["share_structure"] - expected) < 0.02
    assert parts["share_parameters"] < 0.03
    assert math.isclose(sum(parts[f"share_{k}"] for k in ("structure", "parameters", "monte_carlo")), 1.0)


def test_fixed_parameters_split_the_variance_between_structure_and_monte_carlo_only():
    """One draw per combination (``--draws 0``): no parameter share; p_c over [0.2, 0.6] (C = 72), n = 2000:
    structure share var(p)/(var(p) + p(1-p)/n) = 0.99; its estimate from 72 values, relative SD
    sqrt(2/71) = 0.17 of var(p), moves the share by < 0.01 (4 SD)."""
    rng = np.random.default_rng(4)
    p = np.linspace(0.2, 0.6, 72)[:, None]
    y, v = _binomial_grid(p, 2000, rng)
    parts = ensemble.balanced_shares(y, v)
    assert parts["share_parameters"] == 0.0 and parts["draws_used"] == 1
    expected = np.var(p, ddof=1) / (np.var(p, ddof=1) + np.mean(p * (1 - p) / 2000))
    assert abs(parts["share_structure"] - expected) < 0.01


def test_a_draw_undefined_in_one_combination_is_left_out_of_every_combination():
    """A run without deals has no P(hold | deal): its draw is dropped in every combination, so the layout
    stays balanced; the shares equal those of the grid without that draw."""
    rng = np.random.default_rng(2)
    y, v = _binomial_grid(np.repeat(np.linspace(0.2, 0.6, 6)[:, None], 5, axis=1), 300, rng)
    holed_y, holed_v = y.copy(), v.copy()
    holed_y[3, 1], holed_v[3, 1] = np.nan, np.nan
    parts = ensemble.balanced_shares(holed_y, holed_v)
    assert parts["draws_used"] == 4
    kept = [0, 2, 3, 4]
    assert parts["share_structure"] == variance_shares(y[:, kept], v[:, kept])["share_structure"]
    one_left = np.full_like(y, np.nan)
    one_left[:, 0] = y[:, 0]
    assert math.isnan(ensemble.balanced_shares(one_left, v)["share_structure"])


# --------------------------------------------------------------------------- command


@pytest.fixture
def ceasefire(monkeypatch):
    """``ceasefire`` with the ensemble command registered (whether or not sim.cli.main registers it yet)."""
    original = cli.build_parser

    def parser() -> argparse.ArgumentParser:
        built = original()
        commands = next(a for a in built._actions if isinstance(a, argparse._SubParsersAction))
        if "ensemble" not in commands.choices:
            add_ensemble_commands(commands)
        return built

    monkeypatch.setattr(cli, "build_parser", parser)
    return lambda *argv: cli.main([str(a) for a in argv])


def test_ensemble_writes_one_row_per_sampled_combination_plus_pooled_and_the_variance_shares(ceasefire, tmp_path):
    # the default is a seeded sample of 96 of the 20,736 combinations (every one is --combinations all)
    out = tmp_path / "ens"
    assert ceasefire("ensemble", BASELINE, "--draws", 2, "--replications", 4, "--horizon", 5, "--out", out,
                     "--quiet") == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["ensemble.csv", "variance.csv", "form_effects.csv", "runs.csv", "draws.csv", "ensemble.png",
         "manifest.json"])
    table = pd.read_csv(out / "ensemble.csv")
    assert len(table) == 97 and list(table["row"]) == ["combination"] * 96 + ["pooled"]
    combos = table.iloc[:96]
    rows = [dict(zip(MECHANISM_NAMES, r, strict=True)) for r in combos[list(MECHANISM_NAMES)].itertuples(index=False)]
    chosen, _ = choose_combinations("sample:96", seed=load_scenario(BASELINE).seed)
    assert rows == chosen and len({tuple(r.values()) for r in rows}) == 96
    assert list(combos["is_default"]) == [r == DEFAULT_STRUCTURE for r in rows]
    assert list(combos["legacy_forms"]) == [r == LEGACY_STRUCTURE for r in rows]
    assert set(table["parameter_source"]) == {"prior"}
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 192 and runs.groupby("draw")["seed"].nunique().eq(1).all()
    pooled = table.iloc[96]
    for output in ("p_deal", "p_hold_horizon"):
        assert math.isclose(pooled[f"{output}_mean"], runs[output].mean(), abs_tol=1e-9)
        assert math.isclose(pooled[f"{output}_min_structure"], combos[f"{output}_mean"].min(), abs_tol=1e-9)
        assert math.isclose(pooled[f"{output}_max_structure"], combos[f"{output}_mean"].max(), abs_tol=1e-9)
    variance = pd.read_csv(out / "variance.csv")
    assert list(variance["output"]) == list(OUTPUTS)
    assert list(variance.columns[:4]) == ["output", "share_structure", "share_parameters", "share_monte_carlo"]
    shares = variance.set_index("output")[["share_structure", "share_parameters", "share_monte_carlo"]]
    assert np.allclose(shares.loc[["p_deal", "p_hold_horizon"]].sum(axis=1), 1.0)
    assert shares.loc["p_hold_365"].isna().all()  # a 5-day horizon has no 365-day headline


def test_ensemble_sample_writes_that_many_rows_and_a_manifest_naming_the_parameter_source(ceasefire, tmp_path):
    out = tmp_path / "ens"
    assert ceasefire("ensemble", BASELINE, "--combinations", "sample:3", "--draws", 2, "--replications", 40,
                     "--horizon", 365, "--out", out, "--quiet") == 0
    table = pd.read_csv(out / "ensemble.csv")
    assert len(table) == 4 and table["p_hold_365_mean"].notna().all()
    variance = pd.read_csv(out / "variance.csv").set_index("output")
    assert variance.loc[["p_deal", "p_hold_365"], "share_structure"].notna().all()
    assert variance.loc["p_deal", "draws_used"] == 2
    manifest = __import__("json").loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "ensemble" and manifest["parameter_source"] == "prior"
    assert manifest["n_combinations"] == 3 and manifest["run_seeds"] == [20261125, 20261126]
    # the worlds and days of every run, not the base scenario's 10,000 worlds over 730 days
    assert (manifest["replications"], manifest["horizon_days"]) == (40, 365)
    assert (manifest["scenario"]["replications"], manifest["scenario"]["horizon_days"]) == (40, 365)
    # 3 combinations cannot carry a main-effects fit: the table is empty and the manifest says why
    assert pd.read_csv(out / "form_effects.csv").empty
    assert manifest["form_effects"].startswith("not fitted: 3 combinations for ")


@pytest.mark.parametrize(
    "args",
    [["--combinations", "sample:0"], ["--combinations", "every"], ["--draws", "1"], ["--draws", "-3"],
     ["--draws", "0", "--posterior", "p.csv"], ["--replications", "1"], ["--horizon", "0"], ["--workers", "0"],
     ["--seed", "-1"], ["--posterior", "missing.csv"]],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(ceasefire, tmp_path, capsys, monkeypatch, args):
    monkeypatch.setattr(sim.engine.packing, "run_packed", _must_not_run)
    out = tmp_path / "ens"
    assert ceasefire("ensemble", BASELINE, "--draws", 2, "--replications", 5, *args, "--out", out, "--quiet") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert not out.exists()


def _must_not_run(*args, **kwargs):
    raise AssertionError("simulated despite bad input")


def test_a_folder_holding_foreign_files_is_refused_before_any_simulation(ceasefire, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sim.engine.packing, "run_packed", _must_not_run)
    out = tmp_path / "ens"
    out.mkdir()
    (out / "thesis.docx").write_text("mine", encoding="utf-8")
    assert ceasefire("ensemble", BASELINE, "--combinations", "sample:2", "--draws", 2, "--replications", 5,
                     "--out", out, "--quiet") == 2
    assert "--out" in capsys.readouterr().err
    assert (out / "thesis.docx").read_text(encoding="utf-8") == "mine" and len(list(out.iterdir())) == 1


def test_an_interrupted_ensemble_exits_130_and_leaves_no_folder(ceasefire, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.engine.packing, "run_packed", interrupted)
    out = tmp_path / "ens"
    assert ceasefire("ensemble", BASELINE, "--combinations", "sample:2", "--draws", 2, "--replications", 5,
                     "--out", out, "--quiet") == 130
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_posterior_without_file_draws_from_the_committed_posterior(ceasefire, tmp_path):
    from sim.stats.posterior import DEFAULT_POSTERIOR, load_posterior

    out = tmp_path / "ens"
    assert ceasefire("ensemble", BASELINE, "--combinations", "sample:1", "--draws", 2, "--replications", 4,
                     "--horizon", 5, "--posterior", "--out", out, "--quiet") == 0
    manifest = __import__("json").loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameter_source"] == f"posterior {DEFAULT_POSTERIOR}"
    drawn = pd.read_csv(out / "draws.csv")
    assert set(drawn.columns) - {"draw", "seed"} == set(load_posterior(DEFAULT_POSTERIOR).parameters.columns)


def test_the_same_bytes_on_a_dask_cluster(ceasefire, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("sim.experiments.sweep.execute", exc_type=ImportError)  # holds the Dask connection
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    args = ("ensemble", BASELINE, "--combinations", "sample:3", "--draws", 2, "--replications", 40, "--horizon", 60,
            "--quiet")
    assert ceasefire(*args, "--out", tmp_path / "local") == 0
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        assert ceasefire(*args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "dask") == 0
    for name in ("ensemble.csv", "variance.csv", "form_effects.csv", "runs.csv", "draws.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert __import__("json").loads((tmp_path / "dask" / "manifest.json").read_text())["workers"] == 2


# --------------------------------------------------------------------------- the shares' bootstrap intervals


def test_share_intervals_hold_the_estimate_and_are_seeded():
    rng = np.random.default_rng(3)
    y = rng.normal(0.0, 0.1, (30, 1)) + rng.normal(0.0, 0.1, (1, 8)) + rng.normal(0.0, 0.05, (30, 8))
    v = np.full(y.shape, 0.0025)
    first = ensemble.share_intervals(y, v, np.random.default_rng(1), resamples=200)
    again = ensemble.share_intervals(y, v, np.random.default_rng(1), resamples=200)
    assert first == again and list(first) == list(ensemble.INTERVAL_COLUMNS)
    point = variance_shares(y, v)
    for share in ensemble.SHARES:
        assert first[f"{share}_low"] <= point[share] <= first[f"{share}_high"], share
        assert first[f"{share}_high"] - first[f"{share}_low"] > 0.01, share  # 30 x 8 cells are not exact


def test_share_intervals_resample_the_draws_as_well_as_the_combinations():
    """With the same structure, the parameter share's interval from 4 draws must be wider than from 64: resampling
    the combinations alone would not see how few draws there are. The SD of a variance from K draws falls as
    sqrt(2 / (K - 1)): 0.82 at K = 4, 0.18 at K = 64, so a factor 2 in width is a weak requirement."""
    rng = np.random.default_rng(8)
    widths = {}
    for draws in (4, 64):
        y = rng.normal(0.0, 0.1, (40, 1)) + rng.normal(0.0, 0.1, (1, draws)) + rng.normal(0.0, 0.05, (40, draws))
        found = ensemble.share_intervals(y, np.full(y.shape, 0.0025), np.random.default_rng(2), resamples=300)
        widths[draws] = found["share_parameters_high"] - found["share_parameters_low"]
    assert widths[4] > 2 * widths[64]


def test_share_intervals_of_structure_alone_and_of_fixed_parameters():
    s = np.linspace(0.2, 0.7, 12)
    alone = ensemble.share_intervals(np.repeat(s[:, None], 8, axis=1), np.full((12, 8), 1e-6),
                                     np.random.default_rng(0), resamples=100)
    assert alone["share_structure_low"] > 0.99 and alone["share_parameters_high"] == 0.0
    one_draw = ensemble.share_intervals(s[:, None], np.full((12, 1), 1e-4), np.random.default_rng(0), resamples=100)
    assert one_draw["share_parameters_low"] == one_draw["share_parameters_high"] == 0.0
    assert 0.9 < one_draw["share_structure_low"] <= one_draw["share_structure_high"] <= 1.0
    undefined = np.full((12, 8), np.nan)
    assert all(math.isnan(x) for x in ensemble.share_intervals(undefined, undefined, np.random.default_rng(0)).values())
