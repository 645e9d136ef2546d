"""Runs, sweeps, bets and reports whose parameters are drawn per world from a posterior (``--posterior``)."""

from __future__ import annotations

import html
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli.main import main
from sim.core.errors import InputError
from sim.engine.packing import run_packed
from sim.experiments.posterior_run import run_with_posterior
from sim.stats.metrics import headline_outcomes, p_hold
from sim.stats.posterior import (
    DEFAULT_POSTERIOR,
    INTERVAL_KIND,
    PosteriorChoice,
    draw_indices,
    draw_scenario,
    load_posterior,
    pooled_from_worlds,
    posterior_world_values,
)
from tests.conftest import BASELINE, make_scenario

HAZARD = "agents.RU.base_offensive_hazard"
CEILING = "model.offensive_ceiling"  # the choice form's (version 3's default) counterpart of the base hazard
SPREAD = {HAZARD: [0.0005, 0.006, 0.003], "model.intent_variance": [0.5, 6.0, 2.0], "weight": [1.0, 2.0, 1.0]}
"""Three particles that give visibly different worlds."""


def _posterior_file(folder: Path, columns: dict[str, list[float]], name: str = "posterior.csv") -> Path:
    path = folder / name
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def _sweep(posterior: Path | None, draws: int = 5, replications: int = 100, horizon: int = 120):
    from sim.experiments.sweep.design import quick_sweep, with_posterior

    sweep = quick_sweep(BASELINE, ["agents.UK.troops=0:20000:3"],
                        {"replications": replications, "horizon_days": horizon, "seed": 5})
    return sweep if posterior is None else with_posterior(sweep, PosteriorChoice(load_posterior(posterior), draws))


def _bad_posteriors(folder: Path) -> dict[str, Path]:
    """Posterior files a command must refuse (and a good one), by the name the error tests give them."""
    return {
        "missing": folder / "missing.csv",
        "bad": _posterior_file(folder, {HAZARD: [0.001]}, "bad.csv"),
        "good": _posterior_file(folder, SPREAD, "good.csv"),
        "fixed": _posterior_file(folder, {"agents.RU.troops": [600000.0], "weight": [1.0]}, "fixed.csv"),
        "clash": _posterior_file(folder, {"agents.UK.troops": [1000.0], "weight": [1.0]}, "clash.csv"),
    }


def _one_line_error(capsys: pytest.CaptureFixture, *argv: object) -> str:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


# --------------------------------------------------------------------------- which world runs which draw


def test_world_r_runs_draw_r_mod_d_whatever_the_number_of_worlds(tmp_path: Path) -> None:
    posterior = load_posterior(_posterior_file(tmp_path, SPREAD))
    values, draw_of_world = posterior_world_values(posterior, 4, seed=11, replications=10)
    assert draw_of_world.tolist() == [r % 4 for r in range(10)]
    picked = draw_indices(posterior, 4, 11)
    for column in posterior.parameters.columns:
        expected = posterior.parameters[column].to_numpy()[picked[np.arange(10) % 4]]
        np.testing.assert_array_equal(values[column], expected)
    # every draw gets 10 // 4 worlds or one more
    assert sorted(np.bincount(draw_of_world).tolist()) == [2, 2, 3, 3]
    # world r keeps its particle when there are more worlds, and another seed picks other particles
    more, _ = posterior_world_values(posterior, 4, seed=11, replications=25)
    np.testing.assert_array_equal(more[HAZARD][:10], values[HAZARD])
    others = [posterior_world_values(posterior, 4, seed=s, replications=10)[0][HAZARD] for s in range(12, 20)]
    assert any(not np.array_equal(o, values[HAZARD]) for o in others)


def test_a_world_with_drawn_values_is_the_world_of_a_plain_run_of_its_particle(tmp_path: Path) -> None:
    """World r of a point with per-world values equals world r of the point run with its draw's values."""
    posterior = load_posterior(_posterior_file(tmp_path, SPREAD))
    scenario = make_scenario(replications=12, horizon_days=60)
    values, draw_of_world = posterior_world_values(posterior, 3, scenario.seed, 12, template=scenario)
    drawn = run_packed([scenario], [()], world_values=[values])[0]
    picked = draw_indices(posterior, 3, scenario.seed)
    for draw, particle in enumerate(picked):
        own = {c: float(posterior.parameters.at[int(particle), c]) for c in posterior.parameters.columns}
        plain = run_packed([draw_scenario(scenario, own, 12, scenario.seed)], [()])[0]
        mine = draw_of_world == draw
        pd.testing.assert_frame_equal(drawn[mine].reset_index(drop=True), plain[mine].reset_index(drop=True))


def test_every_point_of_a_sweep_gets_the_same_world_values(tmp_path: Path, monkeypatch) -> None:
    import sim.experiments.sweep.execute
    from sim.experiments.sweep.execute import completed_points

    sweep = _sweep(_posterior_file(tmp_path, SPREAD), draws=5, replications=20, horizon=30)
    seen: list[list] = []
    real = sim.experiments.sweep.execute.run_packed

    def spy(scenarios, streams, **options):
        seen.append(list(options["world_values"]))
        return real(scenarios, streams, **options)

    monkeypatch.setattr(sim.experiments.sweep.execute, "run_packed", spy)
    records = list(completed_points(sweep, range(sweep.n_points), None, 1))
    expected, _ = sweep.world_draws()
    given = [values for call in seen for values in call]
    assert len(given) == sweep.n_points == len(records)
    for values in given:
        assert values.keys() == expected.keys()
        for path in expected:
            np.testing.assert_array_equal(values[path], expected[path])


# --------------------------------------------------------------------------- intervals


def test_pooled_interval_is_wider_than_the_binomial_one_when_the_parameters_matter(tmp_path: Path) -> None:
    """Two equally weighted particles: a quiet Russia and a belligerent, spiralling one.

    The pooled interval is p ± z·sqrt(s² + p(1−p)/N), the Wilson one about p ± z·sqrt(p(1−p)/N), so it is
    wider when the estimated spread s² across the posterior is positive. s² estimates the between-draw
    variance of the draws' true proportions, which for two particles with P(hold 1 y) p1 and p2, a share w
    of the D draws on the first, is w(1−w)(p1−p2)² D/(D−1). Its sampling error comes from the binomial noise
    e_d of each draw's proportion (variance v_d = p_d(1−p_d)/n_d, mean v): the cross term 2 cov(true, e)
    has variance ≈ 4 s_true² v/(D−1), the noise's own sample variance ≈ 2 v²/(D−1). With the particles
    below (p1 ≈ 0.7, p2 ≈ 0.02) and 20 draws of 10 worlds, s_true² ≈ 0.13 and its error sd ≈ 0.018: the
    spread is 7 sd clear of 0, and the estimate must lie within 4 sd of it. (The normal interval then
    covers nearly all of [0, 1]: the two particles' worlds are that far apart.)
    """
    # the quiet particle makes no offensive in either form of the offensive (a tiny base hazard, no choice ceiling)
    columns = {HAZARD: [0.0002, 0.05], CEILING: [0.0, 0.05], "model.spiral_hazard": [0.0, 1.0],
               "model.spoiler_rate": [0.0, 0.5], "weight": [1.0, 1.0]}
    posterior = load_posterior(_posterior_file(tmp_path, columns))
    draws, worlds = 20, 200
    scenario = make_scenario(replications=worlds, horizon_days=365)
    values, draw_of_world = posterior_world_values(posterior, draws, scenario.seed, worlds, template=scenario)
    runs = run_packed([scenario], [()], world_values=[values])[0]
    hold = headline_outcomes(runs, 365, (365,))[p_hold(365)]
    p, low, high, sd = (float(x[0]) for x in pooled_from_worlds(hold, draw_of_world))

    quiet = values[HAZARD] == 0.0002
    p1, p2 = hold[quiet].mean(), hold[~quiet].mean()
    draw_is_quiet = np.array([quiet[draw_of_world == d][0] for d in range(draws)])
    true_per_draw = np.where(draw_is_quiet, p1, p2)
    spread = float(np.var(true_per_draw, ddof=1))
    n = np.bincount(draw_of_world)
    v = float(np.mean(true_per_draw * (1 - true_per_draw) / n))
    error_sd = math.sqrt((4 * spread * v + 2 * v**2) / (draws - 1))
    assert spread > 4 * error_sd, f"the particles no longer differ enough (p1 {p1:.2f}, p2 {p2:.2f})"
    assert abs(sd**2 - spread) < 4 * error_sd

    from sim.stats.metrics import wilson_interval

    mc_low, mc_high = wilson_interval(int(hold.sum()), worlds)
    assert p == pytest.approx(hold.mean())
    assert high - low > 2 * (float(mc_high) - float(mc_low))  # sqrt(s² + p(1−p)/N) ≈ 3.4x the MC sd
    # the sweep's record of the same point carries the same pooled interval
    from sim.experiments.sweep.execute import run_point

    record = run_point(scenario, 0, draws=(values, draw_of_world))
    assert record["summary"]["p_hold_365_ci_low"] == pytest.approx(low)
    assert record["summary"]["p_hold_365_ci_high"] == pytest.approx(high)
    assert record["posterior"]["p_hold_365_parameter_sd"] == pytest.approx(sd)
    assert record["posterior"]["p_hold_365_mc_ci_low"] == pytest.approx(float(mc_low))


# --------------------------------------------------------------------------- sweeps


def test_a_posterior_sweep_gives_the_same_bytes_on_one_and_two_workers(tmp_path: Path) -> None:
    from sim.cli.sweep import sweep_into

    sweep = _sweep(_posterior_file(tmp_path, SPREAD), draws=5)
    one, two = tmp_path / "one", tmp_path / "two"
    sweep_into(sweep, one, workers=1, plots=False)
    sweep_into(sweep, two, workers=2, plots=False)
    for name in ("sweep.csv", "survival.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    table = pd.read_csv(one / "sweep.csv")
    assert set(table["interval"]) == {INTERVAL_KIND}
    assert (table["p_hold_90_ci_low"] <= table["p_hold_90"]).all()
    assert (table["p_hold_90"] <= table["p_hold_90_ci_high"]).all()
    manifest = json.loads((one / "manifest.json").read_text())
    assert manifest["interval"] == INTERVAL_KIND
    assert manifest["posterior"]["draws"] == 5 and len(manifest["posterior"]["sha256"]) == 64
    assert manifest["sweep"]["posterior"] == {"sha256": manifest["posterior"]["sha256"], "draws": 5}


def test_the_sweep_hash_follows_the_posterior_and_resume_refuses_a_changed_one(tmp_path: Path) -> None:
    from sim.outputs.partial import RecordStore, partial_dir

    first = _posterior_file(tmp_path, SPREAD)
    copied = tmp_path / "elsewhere.csv"
    shutil.copy(first, copied)
    changed = _posterior_file(tmp_path, {**SPREAD, "weight": [1.0, 1.0, 1.0]}, "changed.csv")
    digests = {
        "none": _sweep(None).digest(), "first": _sweep(first).digest(), "copied": _sweep(copied).digest(),
        "more draws": _sweep(first, draws=6).digest(), "changed": _sweep(changed).digest(),
    }
    assert digests["first"] == digests["copied"]  # the file's bytes count, not where it is
    assert len({digests[k] for k in ("none", "first", "more draws", "changed")}) == 4
    folder = partial_dir(tmp_path / "out")
    RecordStore.open(folder, _sweep(first), resume=False, restart=False).close()
    with pytest.raises(InputError, match="the sweep has changed"):
        RecordStore.open(folder, _sweep(changed), resume=True, restart=False)
    RecordStore.open(folder, _sweep(copied), resume=True, restart=False).close()


def test_sweep_posterior_on_the_command_line_writes_pooled_tables_and_plots(tmp_path: Path, capsys) -> None:
    path = _posterior_file(tmp_path, SPREAD)
    out = tmp_path / "out"
    assert main(["sweep", str(BASELINE), "--param", "agents.UK.troops=0:20000:2", "--replications", "40",
                 "--horizon", "30", "--workers", "1", "--posterior", str(path), "--draws", "4",
                 "--out", str(out)]) == 0
    assert "parameters+monte_carlo (4 draws" in capsys.readouterr().out
    assert (out / "hold.png").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior"]["file"] == str(path) and manifest["posterior"]["draws"] == 4


def test_posterior_without_a_file_is_the_committed_one() -> None:
    import argparse

    from sim.cli.common import add_options, posterior_choice

    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    add_options(parser, posterior=True, draws=True)
    args = parser.parse_args(["x.yaml", "--posterior"])
    choice = posterior_choice(args, make_scenario(replications=100))
    assert choice.posterior.source == DEFAULT_POSTERIOR and choice.draws == 20
    assert parser.parse_args(["x.yaml"]).posterior is None


@pytest.mark.parametrize("argv, message", [
    (["--posterior", "{missing}"], "missing.csv: cannot read"),
    (["--posterior", "{bad}"], "bad.csv: weight: column is missing"),
    (["--draws", "5"], "--draws: only with --posterior"),
    (["--posterior", "{good}", "--draws", "21"], "--draws: must be between 1 and 20"),
    (["--posterior", "{fixed}"], "agents.RU.troops: cannot be drawn per world"),
    (["--posterior", "{clash}"], "draws agents.UK.troops, which axis 'agents.UK.troops' also sets"),
])
def test_sweep_posterior_errors_exit_2_in_one_line(tmp_path: Path, capsys, argv, message) -> None:
    argv = [a.format(**_bad_posteriors(tmp_path)) for a in argv]
    err = _one_line_error(capsys, "sweep", BASELINE, "--param", "agents.UK.troops=0:20000:2", "--replications",
                          "40", "--horizon", "30", "--out", tmp_path / "out", *argv)
    assert message in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the bet


def test_bet_posterior_pairs_every_troop_level_and_pools_the_intervals(tmp_path: Path, capsys, monkeypatch) -> None:
    import sim.experiments.bet

    seen: list = []
    real = sim.experiments.bet.run_packed

    def spy(scenarios, streams, **options):
        seen.extend(options["world_values"])
        return real(scenarios, streams, **options)

    monkeypatch.setattr(sim.experiments.bet, "run_packed", spy)
    path = _posterior_file(tmp_path, SPREAD)
    out = tmp_path / "bet"
    assert main(["bet", "--replications", "20", "--horizon", "30", "--variants", "default,legacy_v1",
                 "--bootstrap", "10", "--posterior", str(path), "--draws", "4", "--out", str(out), "--quiet"]) == 0
    assert len(seen) == 26  # 13 troop levels x 2 variants, all given the same worlds' values
    for values in seen[1:]:
        for column in seen[0]:
            np.testing.assert_array_equal(values[column], seen[0][column])
    table = pd.read_csv(out / "the_bet.csv")
    assert set(table["interval"]) == {INTERVAL_KIND}
    assert (table["p_deal_ci_low"] <= table["p_deal"]).all() and (table["p_deal"] <= table["p_deal_ci_high"]).all()
    assert {"p_deal_parameter_sd", "p_deal_mc_ci_low", "p_hold_5y_mc_ci_high"} <= set(table.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["interval"] == INTERVAL_KIND and manifest["posterior"]["draws"] == 4
    assert manifest["posterior"]["sha256"] == load_posterior(path).sha256
    assert "posterior draw" in manifest["optimum"]["method"]
    assert (out / "optimum.csv").exists()


def test_bet_posterior_errors_exit_2_in_one_line(tmp_path: Path, capsys) -> None:
    err = _one_line_error(capsys, "bet", "--replications", "60", "--horizon", "30", "--posterior",
                          tmp_path / "nowhere.csv", "--out", tmp_path / "bet")
    assert "nowhere.csv" in err
    err = _one_line_error(capsys, "bet", "--replications", "20", "--horizon", "30", "--draws", "4",
                          "--out", tmp_path / "bet")
    assert "--draws: only with --posterior" in err


# --------------------------------------------------------------------------- the report


def test_the_report_of_a_posterior_run_says_its_intervals_include_the_parameters(tmp_path: Path, capsys) -> None:
    path = _posterior_file(tmp_path, SPREAD)
    run_dir, plain_dir = tmp_path / "drawn", tmp_path / "plain"
    common = ["--replications", "40", "--horizon", "30", "--quiet"]
    assert main(["run", str(BASELINE), *common, "--posterior", str(path), "--draws", "2", "--out", str(run_dir)]) == 0
    assert main(["run", str(BASELINE), *common, "--no-plots", "--out", str(plain_dir)]) == 0
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["interval"] == INTERVAL_KIND and manifest["posterior"]["sha256"] == load_posterior(path).sha256
    out = tmp_path / "report.html"
    assert main(["report", str(run_dir), str(plain_dir), "--out", str(out)]) == 0
    text = html.unescape(out.read_text())
    assert "Parameter uncertainty included" in text and "2 draws of 20 worlds each" in text
    assert "Monte Carlo only (Wilson)" in text and "The 2 posterior draws of this run" in text
    assert "drawn: median" in text and "(posterior)" in text  # the drawn parameters, the comparison's mark
    assert text.count("Parameter uncertainty included") == 1  # the plain run says nothing of the kind


# --------------------------------------------------------------------------- runs


def test_a_posterior_run_gives_world_r_draw_r_mod_d_as_sweeps_and_the_bet_do(tmp_path: Path) -> None:
    """The worlds of `run --posterior` are those of a sweep point with the same draws: world r runs draw r % D
    with the streams it has in a plain run (common random numbers)."""
    posterior = load_posterior(_posterior_file(tmp_path, SPREAD))
    scenario = make_scenario(replications=30, horizon_days=60)
    drawn = run_with_posterior(scenario, posterior, draws=4)
    values, draw_of_world = PosteriorChoice(posterior, 4).world_values(scenario.seed, 30, template=scenario)
    packed = run_packed([scenario], [()], world_values=[values])[0]
    assert drawn.result.runs["draw"].tolist() == [r % 4 for r in range(30)] == draw_of_world.tolist()
    pd.testing.assert_frame_equal(drawn.result.runs.drop(columns="draw"), packed)
    table = drawn.draws
    assert table["draw"].tolist() == [0, 1, 2, 3] and table["worlds"].tolist() == [8, 8, 7, 7]
    assert table["particle"].tolist() == draw_indices(posterior, 4, scenario.seed).tolist()
    hold = headline_outcomes(packed, 60)[p_hold("horizon")]
    for draw in range(4):
        assert table.loc[draw, "p_hold_horizon"] == pytest.approx(hold[draw_of_world == draw].mean())
    assert table["p_hold_365"].isna().all()  # beyond the horizon


def test_a_posterior_run_pools_its_intervals_by_draw_and_records_trajectories(tmp_path: Path) -> None:
    columns = {HAZARD: [0.0002, 0.05], CEILING: [0.0, 0.05], "model.spiral_hazard": [0.0, 1.0], "weight": [1.0, 1.0]}
    posterior = load_posterior(_posterior_file(tmp_path, columns))
    scenario = make_scenario(replications=200, horizon_days=365)
    drawn = run_with_posterior(scenario, posterior, draws=20)
    summary, survival = drawn.result.summary.iloc[0], drawn.result.survival
    hold = headline_outcomes(drawn.result.runs, 365, (365,))[p_hold(365)]
    p, low, high, sd = (float(x[0]) for x in pooled_from_worlds(hold, drawn.result.runs["draw"], draws=20))
    assert (summary["p_hold_365"], summary["p_hold_365_ci_low"], summary["p_hold_365_ci_high"]) == pytest.approx(
        (p, low, high))
    assert summary["p_hold_365_parameter_sd"] == pytest.approx(sd) and sd > 0
    assert summary["p_hold_365_ci_high"] - summary["p_hold_365_ci_low"] > \
        summary["p_hold_365_mc_ci_high"] - summary["p_hold_365_mc_ci_low"]
    assert summary["interval"] == INTERVAL_KIND and summary["posterior_draws"] == 20
    assert survival.loc[365, "p_holding"] == pytest.approx(p) and survival.loc[365, "ci_low"] == pytest.approx(low)
    assert set(survival["interval"]) == {INTERVAL_KIND}
    assert drawn.result.trajectories is not None and len(drawn.result.trajectories) == 366


def test_posterior_runs_do_not_depend_on_the_worker_count(tmp_path: Path) -> None:
    posterior = load_posterior(_posterior_file(tmp_path, SPREAD))
    scenario = make_scenario(replications=20_100, horizon_days=5)
    one = run_with_posterior(scenario, posterior, draws=7, workers=1, record_trajectories=False)
    two = run_with_posterior(scenario, posterior, draws=7, workers=2, record_trajectories=False)
    for name in ("runs", "survival", "summary", "intent"):
        pd.testing.assert_frame_equal(getattr(one.result, name), getattr(two.result, name), obj=name)
    pd.testing.assert_frame_equal(one.draws, two.draws)


def test_run_posterior_on_the_command_line_writes_a_run_folder_with_its_draws(tmp_path: Path, capsys) -> None:
    path = _posterior_file(tmp_path, SPREAD)
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "--replications", "40", "--horizon", "30", "--posterior", str(path),
                 "--draws", "4", "--out", str(out)]) == 0
    assert "intervals: parameters+monte_carlo (4 posterior draws" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"runs.csv", "survival.csv", "summary.csv", "trajectories.csv",
                                                "intent.csv", "draws.csv", "manifest.json", "survival.png",
                                                "trajectories.png", "causes.png"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "run" and manifest["interval"] == INTERVAL_KIND
    assert manifest["posterior"]["draws"] == 4 and manifest["posterior"]["worlds_per_draw"] == [10, 10]
    assert manifest["posterior"]["file"] == str(path)
    assert len(pd.read_csv(out / "draws.csv")) == 4
    assert main(["plot", str(out)]) == 0


@pytest.mark.parametrize("argv, message", [
    (["--posterior", "{missing}", "--draws", "4"], "missing.csv: cannot read"),
    (["--posterior", "{bad}", "--draws", "4"], "bad.csv: weight: column is missing"),
    (["--draws", "5"], "--draws: only with --posterior"),
    (["--posterior", "{good}", "--draws", "21"], "--draws: must be between 1 and 20"),
    (["--posterior", "{good}"], "--draws: must be between 1 and 20, half the worlds per run"),  # 50 by default
    (["--posterior", "{good}", "--draws", "0"], "--draws: must be >= 1 (got 0)"),
    (["--posterior", "{fixed}", "--draws", "4"], "agents.RU.troops: cannot be drawn per world"),
])
def test_run_posterior_errors_exit_2_in_one_line_before_any_folder(tmp_path: Path, capsys, argv, message) -> None:
    argv = [a.format(**_bad_posteriors(tmp_path)) for a in argv]
    err = _one_line_error(capsys, "run", BASELINE, "--replications", "40", "--horizon", "30",
                          "--out", tmp_path / "out", *argv)
    assert message in err
    assert not (tmp_path / "out").exists()


def test_run_posterior_without_a_file_draws_the_committed_posterior_50_times(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "--replications", "100", "--horizon", "10", "--posterior", "--no-plots",
                 "--quiet", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["posterior"]["file"] == str(DEFAULT_POSTERIOR) and manifest["posterior"]["draws"] == 50
