"""The command line end to end, in temporary folders: outputs, determinism, bad input, atomic writes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim.outputs.plots.runs
from sim.cli.main import main
from sim.engine.blocks import plan_blocks
from sim.outputs.ownership import first_problem, is_marked
from sim.stats.metrics import CAUSES

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
RUN_FILES = {"runs.csv", "survival.csv", "summary.csv", "trajectories.csv", "intent.csv", "manifest.json",
             "survival.png", "trajectories.png", "causes.png"}
CSV_FILES = ("runs.csv", "survival.csv", "summary.csv", "trajectories.csv", "intent.csv")


def run_cli(*args: str) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "small"
    assert run_cli("run", BASELINE, "--replications", 300, "--horizon", 400, "--seed", 5, "--out", out,
                   "--quiet") == 0
    return out


def test_run_writes_every_table_plot_and_manifest(small_run):
    assert {p.name for p in small_run.iterdir()} == RUN_FILES
    runs = pd.read_csv(small_run / "runs.csv")
    assert len(runs) == 300 and runs["replication"].tolist() == list(range(300))
    for column in ("agreed", "breakdown_day", "cause", "incidents", "probes", "detected_violations", "responses"):
        assert column in runs.columns
    assert set(runs["cause"]) <= set(CAUSES)
    survival = pd.read_csv(small_run / "survival.csv")
    assert survival["day"].tolist() == list(range(401))
    summary = pd.read_csv(small_run / "summary.csv")
    assert summary.loc[0, "scenario"] == "baseline" and summary.loc[0, "seed"] == 5
    manifest = json.loads((small_run / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["scenario"]["horizon_days"] == 400
    assert {"python", "mesa", "numpy", "ceasefire"} <= set(manifest["versions"])
    assert manifest["command_line"][:2] == ["ceasefire", "run"]


def test_held_worlds_have_an_empty_breakdown_day(small_run):
    runs = pd.read_csv(small_run / "runs.csv")
    held = runs["cause"].isin(["held", "no_deal"])
    assert runs.loc[held, "breakdown_day"].isna().all()
    assert runs.loc[~held, "breakdown_day"].between(1, 400).all()


def test_same_seed_gives_identical_csv_bytes_whatever_the_worker_count(tmp_path):
    # 20,100 worlds make three blocks of BLOCK_WORLDS, so two workers really share the work
    assert plan_blocks(20_100)[-1].index == 2
    args = ("run", BASELINE, "--replications", 20_100, "--horizon", 30, "--seed", 11, "--no-plots", "--quiet")
    assert run_cli(*args, "--out", tmp_path / "a") == 0
    assert run_cli(*args, "--out", tmp_path / "b") == 0
    assert run_cli(*args, "--out", tmp_path / "c", "--workers", 2) == 0
    for name in CSV_FILES:
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes(), name
        assert first == (tmp_path / "c" / name).read_bytes(), name


def test_a_different_seed_gives_different_runs(tmp_path):
    args = ("run", BASELINE, "--replications", 200, "--horizon", 200, "--no-plots", "--quiet")
    run_cli(*args, "--seed", 1, "--out", tmp_path / "a")
    run_cli(*args, "--seed", 2, "--out", tmp_path / "b")
    assert (tmp_path / "a" / "runs.csv").read_bytes() != (tmp_path / "b" / "runs.csv").read_bytes()


def test_validate_and_scenarios_list_the_bundled_files(capsys):
    assert run_cli("validate", *sorted((ROOT / "scenarios").glob("*.yaml"))) == 0
    assert run_cli("scenarios") == 0
    listing = capsys.readouterr().out
    assert "baseline.yaml" in listing and "no_european_troops.yaml" in listing


def test_validate_exits_2_when_any_file_is_bad(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nagents:\n  UK:\n    troops: -5\n")
    assert run_cli("validate", BASELINE, bad) == 2
    assert f"error: {bad}: agents.UK.troops: must be >= 0.0 (got -5)" in capsys.readouterr().err


def test_compare_and_plot_redraw_from_csv(small_run, tmp_path):
    other = tmp_path / "other"
    assert run_cli("run", ROOT / "scenarios" / "no_european_troops.yaml", "--replications", 100, "--horizon", 400,
                   "--out", other, "--quiet", "--no-plots") == 0
    figure = tmp_path / "compare.png"
    assert run_cli("compare", small_run, other, "--out", figure) == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and is_marked(figure)
    assert not (other / "survival.png").exists()
    assert run_cli("plot", other) == 0  # a run written with --no-plots gets its figures
    assert {p.name for p in other.iterdir()} == RUN_FILES
    manifest = json.loads((other / "manifest.json").read_text())
    assert manifest["figures"] == ["survival.png", "trajectories.png", "causes.png"]
    assert first_problem(other, "run") is None  # the manifest lists the new figures with their hashes
    assert run_cli("plot", other) == 0  # and again, now from the figures it lists


def test_plot_on_a_folder_without_manifest_is_refused_and_changes_nothing(tmp_path, capsys):
    (tmp_path / "summary.csv").write_text("scenario\nx\n")
    (tmp_path / "survival.png").write_bytes(b"my own figure")
    assert run_cli("plot", tmp_path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no manifest.json" in err
    assert (tmp_path / "survival.png").read_bytes() == b"my own figure"


def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    (tmp_path / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    bad.write_text("extends: baseline.yaml\nname: bad\nagents:\n  UK: {troops: -5}\n")
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(bad), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {bad}: agents.UK.troops: must be >= 0.0 (got -5)"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--replications", "0"), "--replications: must be >= 1 (got 0)"),
        (("--horizon", "-3"), "--horizon: must be >= 1 day (got -3)"),
        (("--workers", "0"), "--workers: must be >= 1 (got 0)"),
    ],
)
def test_out_of_range_options_exit_2(tmp_path, capsys, args, expected):
    assert run_cli("run", BASELINE, *args, "--out", tmp_path / "o", "--quiet") == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unwritable_output_folder_exits_2_before_running(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert run_cli("run", BASELINE, "--replications", 10, "--out", blocker / "out", "--quiet") == 2
    assert "--out: cannot write here" in capsys.readouterr().err


def test_a_run_that_fails_while_writing_leaves_the_previous_results_untouched(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run_cli("run", BASELINE, "--replications", 50, "--horizon", 30, "--out", out, "--quiet") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken_plots(folder, figures):
        raise RuntimeError("disk full")

    monkeypatch.setattr(sim.outputs.plots.runs, "draw", broken_plots)
    with pytest.raises(RuntimeError, match="disk full"):
        run_cli("run", BASELINE, "--replications", 60, "--horizon", 30, "--seed", 9, "--out", out, "--quiet")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_help_lists_every_command(capsys):
    assert run_cli("--help") == 0
    text = capsys.readouterr().out
    for command in ("run", "compare", "plot", "validate", "scenarios"):
        assert command in text


@pytest.mark.parametrize("damage", ["missing", "columns", "empty", "truncated"])
def test_compare_on_a_damaged_folder_says_what_is_wrong(small_run, tmp_path, capsys, damage):
    broken = tmp_path / "broken"
    shutil.copytree(small_run, broken)
    table = broken / "survival.csv"
    if damage == "missing":
        table.unlink()
    elif damage == "columns":
        table.write_text("day,p_holding\n0,1\n")
    elif damage == "empty":
        table.write_text("")
    else:
        table.write_bytes(table.read_bytes()[:200])
    assert run_cli("compare", small_run, broken, "--out", tmp_path / "c.png") == 2
    message = capsys.readouterr().err
    assert message.startswith(f"error: {broken}: DIR: ") and message.count("\n") == 1
    assert "survival.csv" in message
    assert not (tmp_path / "c.png").exists()


def test_compare_refuses_a_folder_without_manifest_or_of_another_command(small_run, tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("survival.csv", "summary.csv"):
        (bare / name).write_bytes((small_run / name).read_bytes())
    assert run_cli("compare", small_run, bare, "--out", tmp_path / "c.png") == 2
    assert "no manifest.json of ceasefire's" in capsys.readouterr().err
    other = tmp_path / "other"
    shutil.copytree(small_run, other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "command": "sweep"}))
    assert run_cli("compare", small_run, other, "--out", tmp_path / "c.png") == 2
    assert "was written by `ceasefire sweep`, not `ceasefire run`" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists()


def test_compare_replaces_only_its_own_figure_unless_forced_and_refuses_a_folder(small_run, tmp_path, capsys):
    figure = tmp_path / "compare.png"
    figure.write_bytes(b"old")
    assert run_cli("compare", small_run, "--out", figure) == 2
    assert "exists and was not written by ceasefire" in capsys.readouterr().err
    assert figure.read_bytes() == b"old"
    assert run_cli("compare", small_run, "--out", figure, "--force") == 0
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and is_marked(figure)
    assert run_cli("compare", small_run, "--out", figure, "--given-deal") == 0  # ours: replaced without --force
    assert [p.name for p in tmp_path.iterdir()] == ["compare.png"]  # no temporary or lock file left
    (tmp_path / "folder.png").mkdir()
    assert run_cli("compare", small_run, "--out", tmp_path / "folder.png") == 2
    assert "--out: is a folder" in capsys.readouterr().err
