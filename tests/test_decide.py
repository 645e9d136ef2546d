"""``ceasefire decide`` (issue 24): options files validated like scenarios, every option in the same futures,
criteria whose picks have zero regret on their own criterion, boxes with coverage and density, EVPPI ranked,
the same bytes on local workers and on a Dask cluster.

The PRIM and EVPPI known-answer tests are in tests/test_discovery.py and tests/test_evppi.py; the criteria's in
tests/test_decision_stats.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.cli.main as cli
from sim.core.errors import InputError
from sim.spec.options import DEFAULT_OPTIONS, OPTIONS_DIR, load_options
from sim.stats.decision import CRITERIA, regret_table

ROOT = Path(__file__).resolve().parents[1]
SMALL = ("--quick", "--combinations", "sample:3", "--replications", "20", "--horizon", "400", "--bootstrap", "50",
         "--no-plots", "--quiet")
"""--quick made smaller still: 3 combinations x 2 draws x 20 worlds x 400 days (P(hold 5 y) is then left out)."""
TABLES = ("options.csv", "futures.csv", "outcomes.csv", "regret.csv", "picks.csv", "boxes.csv", "peeling.csv",
          "evppi.csv")


def ceasefire(*argv: object) -> int:
    return cli.main([str(a) for a in argv])


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("decide") / "local"
    assert ceasefire("decide", *SMALL, "--workers", 1, "--out", out) == 0
    return out


# --------------------------------------------------------------------------- the options file


def test_the_bundled_options_are_the_issues_packages():
    options = load_options()
    names = options.names
    assert names[:2] == ["none", "us_monitoring"]
    assert len(names) == 2 + 4 * 2 * 2 * 2
    for size in (5, 10, 20, 40):
        assert f"{size}k" in names and f"{size}k+bases+roles+DE" in names
        assert options.overrides[f"{size}k"]["agents.UK.troops"] + options.overrides[f"{size}k"]["agents.FR.troops"] \
            == size * 1000
    assert options.overrides["none"]["agents.US.detection_probability"] < \
        options.overrides["us_monitoring"]["agents.US.detection_probability"]
    assert options.overrides["10k"]["agents.DE.troops"] == 0 and options.overrides["10k+DE"]["agents.DE.troops"] > 0
    assert options.overrides["10k+bases"]["agents.UK.permanent_bases"] is True
    assert options.overrides["10k"]["agents.UK.permanent_bases"] is False
    assert options.overrides["10k+roles"]["agents.UK.air_role"] > 0 == options.overrides["10k"]["agents.UK.air_role"]
    assert (OPTIONS_DIR / f"{DEFAULT_OPTIONS}.yaml").read_bytes() == \
        (ROOT / "scenarios" / "options" / f"{DEFAULT_OPTIONS}.yaml").read_bytes()


BAD = {
    "negative troops": ("options:\n  - {name: a, UK: {troops: -5}}\n  - {name: b}\n", "options.0.UK.troops"),
    "unknown lever": ("options:\n  - {name: a, UK: {tropps: 5}}\n  - {name: b}\n", "options.0.UK.tropps"),
    "one option": ("options:\n  - {name: a}\n", "options"),
    "duplicate": ("options:\n  - {name: a}\n  - {name: a}\n", "options.1.name"),
    "bad extends": ("options:\n  - {name: a, extends: b}\n  - {name: b}\n", "options.0.extends"),
    "text number": ("options:\n  - {name: a, UK: {troops: '100'}}\n  - {name: b}\n", "options.0.UK.troops"),
    "bad provocation": ("provocation: {smaller: a, larger: c}\noptions:\n  - {name: a}\n  - {name: b}\n",
                        "provocation.larger"),
    "bad threshold": ("thresholds: {p_hold_1y: 1.5}\noptions:\n  - {name: a}\n  - {name: b}\n",
                      "thresholds.p_hold_1y"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_options_file_is_one_line_naming_file_and_field(case: str, tmp_path: Path):
    text, field = BAD[case]
    path = tmp_path / "opts.yaml"
    path.write_text("name: t\n" + text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_options(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and field in message, message


def test_a_bad_options_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "opts.yaml"
    path.write_text("name: t\noptions:\n  - {name: a, DE: {deployment_probability: 2}}\n  - {name: b}\n",
                    encoding="utf-8")
    assert ceasefire("decide", "--options", path, "--quick", "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "options.0.DE.deployment_probability" in err, err
    assert not (tmp_path / "out").exists()


def test_bad_flags_exit_2_before_any_simulation(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    for flags in (("--threshold", "p_hold_1y=2"), ("--threshold", "nope=0.5"), ("--option", "nope"),
                  ("--outcome", "p_hold_5y", "--horizon", "400"), ("--priors", "--posterior"), ("--draws", "1")):
        assert ceasefire("decide", "--quick", *flags, "--out", tmp_path / "out") == 2, flags
        assert len(capsys.readouterr().err.strip().splitlines()) == 1, flags


# --------------------------------------------------------------------------- the outputs


def test_every_table_and_the_manifest_are_written(small_run: Path):
    for name in (*TABLES, "manifest.json"):
        assert (small_run / name).is_file(), name
    manifest = json.loads((small_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "decide" and manifest["futures"] == 3 * 2
    assert manifest["parameter_source"].startswith("posterior")
    # the worlds and days of every run, not the base scenario's
    assert (manifest["replications"], manifest["horizon_days"]) == (manifest["worlds_per_run"],
                                                                    manifest["run_horizon_days"]) != (10000, 730)
    assert manifest["scenario"]["replications"] == manifest["replications"]
    outcomes = pd.read_csv(small_run / "outcomes.csv")
    options = pd.read_csv(small_run / "options.csv")
    assert len(outcomes) == len(options) * 6
    assert outcomes["p_hold_5y"].isna().all(), "400 days: no five-year outcome"


def test_every_option_runs_in_the_same_futures_with_the_same_seeds(small_run: Path):
    outcomes = pd.read_csv(small_run / "outcomes.csv")
    futures = pd.read_csv(small_run / "futures.csv")
    for _, group in outcomes.groupby("option"):
        assert list(group["future"]) == list(futures["future"])
        assert list(group["seed"]) == list(futures["seed"])


def test_regret_has_one_row_per_option_with_each_criterion_and_its_interval(small_run: Path):
    regret = pd.read_csv(small_run / "regret.csv")
    options = pd.read_csv(small_run / "options.csv")
    for _, group in regret.groupby("outcome"):
        assert list(group["option"]) == list(options["option"])
    for statistic in ("expected_value", "worst_decile", "expected_regret", "max_regret", "p90_regret"):
        assert (regret[f"{statistic}_lo"] <= regret[statistic] + 1e-12).all()
        assert (regret[statistic] <= regret[f"{statistic}_hi"] + 1e-12).all()
    hold = regret[regret["outcome"] == "p_hold_1y"]
    assert hold["satisficing_share"].between(0, 1).all() and (hold["threshold"] == 0.6).all()


def test_the_option_a_criterion_picks_has_zero_regret_on_that_criterion(small_run: Path):
    """By construction: the pick of expected value has the largest mean, so the regret of the means (the best
    option's expected value minus its own) is 0; likewise for each criterion on its own statistic."""
    regret = pd.read_csv(small_run / "regret.csv")
    picks = pd.read_csv(small_run / "picks.csv")
    outcomes = pd.read_csv(small_run / "outcomes.csv")
    for row in picks.itertuples():
        table = regret[regret["outcome"] == row.outcome].set_index("option")
        column, direction = CRITERIA[row.criterion]
        best = table[column].max() if direction == "max" else table[column].min()
        assert abs(table.loc[row.pick, column] - best) == 0.0, (row.outcome, row.criterion)
        assert row.criterion in str(table.loc[row.pick, "picked_by"])
    for outcome in ("p_deal", "p_hold_1y"):
        values = outcomes.pivot(index="future", columns="option", values=outcome)
        per_future = regret_table(values)
        assert (per_future.min(axis=1) == 0).all(), "the best option in each future has regret 0"
        pick = picks[(picks["outcome"] == outcome) & (picks["criterion"] == "expected value")]["pick"].iloc[0]
        assert values.mean().max() - values[pick].mean() == 0.0
        table = regret[regret["outcome"] == outcome].set_index("option")
        assert np.allclose(table.loc[values.columns, "expected_regret"], per_future.mean())
        assert np.allclose(table.loc[values.columns, "max_regret"], per_future.max())


def test_boxes_have_coverage_and_density_for_both_questions(small_run: Path):
    boxes = pd.read_csv(small_run / "boxes.csv")
    assert set(boxes["question"]) == {"option_fails", "provocation_wins"}
    found = boxes[boxes["box"] >= 1]
    assert found["coverage"].between(0, 1).all() and found["density"].between(0, 1).all()
    peeling = pd.read_csv(small_run / "peeling.csv")
    for question in set(found["question"]):
        assert (peeling[peeling["question"] == question]["selected"]).sum() >= 1


def test_evppi_ranks_every_mechanism_and_drawn_parameter(small_run: Path):
    evppi = pd.read_csv(small_run / "evppi.csv")
    futures = pd.read_csv(small_run / "futures.csv")
    for _, group in evppi.groupby("outcome"):
        assert list(group["rank"]) == list(range(1, len(group) + 1))
        assert (np.diff(group["evppi"].to_numpy()) <= 1e-12).all(), "largest first"
        assert (group["evppi"] <= group["evpi"] + 1e-9).all() and (group["evppi"] >= 0).all()
        assert {"structure", "parameters", "mechanism"} <= set(group["group"])
    varied = [m for m in ("objection", "capability", "credibility", "presence") if futures[m].nunique() > 1]
    assert set(varied) <= set(evppi["factor"])


def test_report_has_a_decide_section(small_run: Path, tmp_path: Path):
    from sim.outputs.plots.decide import draw

    folder = tmp_path / "copy"
    folder.mkdir()
    for name in TABLES:
        (folder / name).write_bytes((small_run / name).read_bytes())
    assert draw(folder, ("regret.png", "boxes.png", "evppi.png")) == ["regret.png", "boxes.png", "evppi.png"]
    out = tmp_path / "report.html"
    assert ceasefire("report", small_run, "--out", out) == 0
    text = out.read_text(encoding="utf-8")
    assert '<section id="decide">' in text and "The option each criterion picks" in text


# --------------------------------------------------------------------------- scale


def test_decide_quick_gives_the_same_bytes_on_a_dask_cluster(small_run: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("sim.experiments.sweep.execute", exc_type=ImportError)  # holds the Dask connection
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    assert ceasefire("decide", *SMALL, "--workers", 2, "--out", tmp_path / "workers") == 0
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        assert ceasefire("decide", *SMALL, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "dask") == 0
    for name in TABLES:
        local = (small_run / name).read_bytes()
        assert (tmp_path / "workers" / name).read_bytes() == local, name
        assert (tmp_path / "dask" / name).read_bytes() == local, name
