"""The tornado chart: perturbation rule, common random numbers, table, plot, command line.

Small sizes (300 worlds, 365 days, three parameters) keep the file well under a minute.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

import sim.cli.main
from sim.cli.tornado import add_tornado_commands
from sim.experiments.run import run_scenario
from sim.experiments.tornado import (
    TORNADO_COLUMNS,
    FieldRange,
    field_range,
    hold_probability,
    perturb,
    resolve_parameters,
    run_tornado,
    simulate_points,
)
from sim.outputs.plots.runs import PlotInputError
from sim.outputs.plots.tornado import draw
from tests.conftest import BASELINE, make_scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WORLDS = 300
# US troops: the model never reads them (the US is a monitor; only UK, FR and DE troops enter
# capability and the buffer), so with common random numbers they must change nothing at all.
NULL = "agents.US.troops"
# a wide, explicit range so the expected sign holds whatever the calibration of the other values; the ceiling of
# the choice form (version 3's default), since the base hazard acts only in the hazard form
HAZARD = "model.offensive_ceiling"
PARAMS = (f"{HAZARD}=0.003:0.03", f"{NULL}=1000:50000", "agents.UA.guarantee_threshold")


def _parser_with_tornado() -> argparse.ArgumentParser:
    """``sim.cli.main``'s parser, with ``tornado`` added if the hook in build_parser is not there yet."""
    parser = ORIGINAL_BUILD_PARSER()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "tornado" not in commands.choices:
        add_tornado_commands(commands)
    return parser


ORIGINAL_BUILD_PARSER = sim.cli.main.build_parser


def run_cli(*args: object) -> int:
    """``ceasefire ARGS`` through ``sim.cli.main.main``, exit code returned."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.cli.main, "build_parser", _parser_with_tornado)
        return sim.cli.main.main([str(a) for a in args])


def tornado_args(out: Path, *extra: object) -> list[object]:
    return ["tornado", BASELINE, "--replications", WORLDS, "--horizon", 365, "--seed", 11,
            "--params", *PARAMS, "--out", out, "--quiet", *extra]


@pytest.fixture(scope="module")
def tornado_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tornado") / "t"
    assert run_cli(*tornado_args(out)) == 0
    return out


@pytest.fixture(scope="module")
def table(tornado_dir) -> pd.DataFrame:
    return pd.read_csv(tornado_dir / "tornado.csv")


# --------------------------------------------------------------------------- outputs


def test_writes_csv_png_and_manifest(tornado_dir):
    assert {p.name for p in tornado_dir.iterdir()} == {"tornado.csv", "tornado.png", "manifest.json"}
    assert (tornado_dir / "tornado.png").read_bytes()[:8] == PNG_MAGIC
    manifest = json.loads((tornado_dir / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["replications"] == WORLDS and manifest["hold_day"] == 365
    assert manifest["hold_day_note"] is None
    assert [p["path"] for p in manifest["parameters"]] == [spec.split("=")[0] for spec in PARAMS]
    assert manifest["command_line"][:2] == ["ceasefire", "tornado"]
    assert manifest["command"] == "tornado" and manifest["figures"] == ["tornado.png"] and "kind" not in manifest
    assert set(manifest["files"]) == {"tornado.csv", "tornado.png"}


def test_csv_has_the_columns_and_one_row_per_parameter_sorted_by_swing(table):
    assert tuple(table.columns) == TORNADO_COLUMNS
    assert sorted(table["parameter"]) == sorted(spec.split("=")[0] for spec in PARAMS)
    assert table["swing"].is_monotonic_decreasing
    # the CSV keeps 10 significant digits (sim.outputs.artefacts.CSV_OPTIONS), so equality holds to about 1e-10
    assert (table["swing"] - (table["p_high"] - table["p_low"]).abs()).abs().max() < 1e-9
    for side in ("low", "high", "baseline"):
        assert (table[f"p_{side}_ci_low"] <= table[f"p_{side}"]).all()
        assert (table[f"p_{side}"] <= table[f"p_{side}_ci_high"]).all()
    assert (table["day"] == 365).all() and (table["scenario"] == "baseline").all()


def test_a_parameter_the_model_ignores_has_swing_exactly_zero(table):
    row = table.set_index("parameter").loc[NULL]
    assert (row["low_value"], row["high_value"]) == (1000, 50000)
    assert row["swing"] == 0.0
    assert row["p_low"] == row["p_high"] == row["p_baseline"]


def test_the_zero_swing_comes_from_common_random_numbers_not_from_chance():
    # the same null change with two different seeds does move P: equality above is not a coincidence
    low = make_scenario({NULL: 1000}, replications=WORLDS, horizon_days=365, seed=11)
    high = make_scenario({NULL: 50000}, replications=WORLDS, horizon_days=365, seed=12)
    runs_low, runs_high = simulate_points([low, high])
    assert hold_probability(runs_low, 365)[0] != hold_probability(runs_high, 365)[0]


def test_a_higher_offensive_ceiling_lowers_p_hold(table):
    row = table.set_index("parameter").loc[HAZARD]
    assert row["p_high"] < row["p_baseline"] < row["p_low"]
    assert row["p_high_ci_high"] < row["p_low_ci_low"]  # clearly, not within noise


def test_baseline_p_equals_that_of_ceasefire_run_with_the_same_seed():
    # the tornado stops at day 365; a run to day 400 must give the same P(hold at 365)
    scenario = make_scenario(replications=WORLDS, horizon_days=400, seed=11)
    tornado = run_tornado(scenario, resolve_parameters(scenario, [f"{NULL}=1000:2000"]))
    summary = run_scenario(scenario, record_trajectories=False).summary.iloc[0]
    row = tornado.table.iloc[0]
    assert row["p_baseline"] == summary["p_hold_365"]
    assert (row["p_baseline_ci_low"], row["p_baseline_ci_high"]) == pytest.approx(
        (summary["p_hold_365_ci_low"], summary["p_hold_365_ci_high"]), abs=1e-12)


def test_same_seed_gives_identical_csv_bytes(tornado_dir, tmp_path):
    again = tmp_path / "again"
    assert run_cli(*tornado_args(again)) == 0
    assert (again / "tornado.csv").read_bytes() == (tornado_dir / "tornado.csv").read_bytes()


def test_results_do_not_depend_on_the_number_of_workers():
    scenario = make_scenario(replications=100, horizon_days=60, seed=3)
    moved = resolve_parameters(scenario, [HAZARD])
    one, two = (run_tornado(scenario, moved, workers=k).table for k in (1, 2))
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_a_short_horizon_reads_p_at_the_horizon_and_says_so(tmp_path):
    out = tmp_path / "short"
    assert run_cli("tornado", BASELINE, "--replications", 100, "--horizon", 120, "--params", HAZARD,
                   "--out", out, "--quiet") == 0
    assert (pd.read_csv(out / "tornado.csv")["day"] == 120).all()
    note = json.loads((out / "manifest.json").read_text())["hold_day_note"]
    assert "120" in note and "365" in note


def test_plot_can_be_redrawn_from_the_csv_and_rejects_a_damaged_table(tornado_dir, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "tornado.csv").write_bytes((tornado_dir / "tornado.csv").read_bytes())
    assert draw(copy, ("tornado.png",)) == ["tornado.png"]
    assert (copy / "tornado.png").read_bytes()[:8] == PNG_MAGIC
    pd.read_csv(copy / "tornado.csv").drop(columns="p_low").to_csv(copy / "tornado.csv", index=False)
    with pytest.raises(PlotInputError, match="p_low"):
        draw(copy, ("tornado.png",))


# --------------------------------------------------------------------------- low and high values


def test_clamping_respects_the_schema_range():
    scenario = make_scenario({"agents.US.detection_probability": 0.9})
    (moved,) = resolve_parameters(scenario, ["agents.US.detection_probability"])
    assert (moved.low, moved.baseline, moved.high) == (0.45, 0.9, 1.0)
    assert field_range("agents.US.detection_probability") == FieldRange(0.0, 1.0, integer=False)


@pytest.mark.parametrize(("baseline", "bounds", "expected"), [
    (0.0015, FieldRange(0.0, 1.0, False), (0.00075, 0.00225)),   # relative, tidy decimals
    (1.0, FieldRange(0.0, 1.0, False), (0.5, 1.0)),              # pinned at the upper bound
    (-2.0, FieldRange(-1e3, 1e3, False), (-3.0, -1.0)),          # negative: low stays below high
    (0.0, FieldRange(0.0, 5e6, False), (0.0, 0.5)),              # zero: additive, clamped
    (0.0, FieldRange(-1e3, 1e3, False), (-0.5, 0.5)),
    (180, FieldRange(0.0, 36500.0, True), (90, 270)),            # integers stay integers
    (1, FieldRange(0.0, 36500.0, True), (0, 2)),                 # rounding never lands on the baseline
    (0, FieldRange(0.0, 36500.0, True), (0, 1)),
])
def test_perturbation_rule(baseline, bounds, expected):
    low, high = perturb(baseline, bounds, 0.5)
    assert (low, high) == expected
    assert type(low) is type(high) is (int if bounds.integer else float)


def test_a_side_pinned_to_the_baseline_is_not_simulated_twice():
    scenario = make_scenario({"agents.US.attribution_accuracy": 1.0}, replications=100, horizon_days=30)
    result = run_tornado(scenario, resolve_parameters(scenario, ["agents.US.attribution_accuracy"]))
    assert result.runs_simulated == 2
    row = result.table.iloc[0]
    assert row["high_value"] == row["baseline_value"] == 1.0 and row["p_high"] == row["p_baseline"]


def test_default_parameters_are_all_valid_numeric_parameters():
    scenario = make_scenario()
    moved = resolve_parameters(scenario)
    assert len(moved) >= 10
    assert all(p.low <= p.baseline <= p.high and p.low < p.high for p in moved)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("params", "message"), [
    (["agents.UK.trops"], "unknown parameter 'agents.UK.trops' (did you mean 'agents.UK.troops'?)"),
    (["agents.UK.permanent_bases"], "yes/no, not numeric"),
    (["seed"], "run setting"),
    (["agents.UK.troops=-5:10"], "agents.UK.troops: must be >= 0"),
    (["agents.UK.troops=a:10"], "PATH=LOW:HIGH"),
    (["agents.UK.troops", "agents.UK.troops"], "listed twice"),
])
def test_bad_params_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, params, message):
    out = tmp_path / "never"
    assert run_cli("tornado", BASELINE, "--params", *params, "--out", out, "--quiet") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --params: ") and message in err
    assert not out.exists()


def test_bad_fraction_and_workers_exit_2(tmp_path, capsys):
    assert run_cli("tornado", BASELINE, "--fraction", 1.5, "--out", tmp_path / "x") == 2
    assert run_cli("tornado", BASELINE, "--workers", 0, "--out", tmp_path / "x") == 2
    assert capsys.readouterr().err.count("\n") == 2
