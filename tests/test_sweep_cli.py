"""Tests for ``ceasefire sweep`` and ``plot`` on sweep folders: exit codes, messages, signals, resume."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import sim.cli.main as cli
from sim.cli.sweep import add_sweep_commands, plot_any_dir
from sim.outputs.partial import RECORDS_FILE, partial_dir
from sim.outputs.plots.runs import PlotInputError
from tests.conftest import coalition_sweep_yaml

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "scenarios" / "baseline.yaml"

SWEEP = coalition_sweep_yaml("cli_grid", replications=40, horizon_days=60, seed=3, troops='"0:30000:3"',
                             second_path="agents.RU.provocation", second_values="[0.05, 0.3]")

DRIVER = """\
import argparse, sys
import sim.cli.main as cli
from sim.cli.sweep import add_sweep_commands


def parser():
    top = argparse.ArgumentParser(prog="ceasefire")
    add_sweep_commands(top.add_subparsers(dest="command", required=True))
    return top


if __name__ == "__main__":
    cli.build_parser = parser
    sys.exit(cli.main(sys.argv[1:]))
"""


def sweep_parser() -> argparse.ArgumentParser:
    """The ``ceasefire`` parser with the sweep command, as sim.cli.main builds it once hooked up."""
    parser = argparse.ArgumentParser(prog="ceasefire")
    add_sweep_commands(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture
def ceasefire(monkeypatch: pytest.MonkeyPatch):
    """Run ``ceasefire ARGS`` through sim.cli.main.main (its error handling and exit codes)."""
    monkeypatch.setattr(cli, "build_parser", sweep_parser)
    return lambda *argv: cli.main([str(a) for a in argv])


def write(folder: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


BAD = [
    ("malformed YAML", SWEEP.replace("axes:", "axes: {"), "not valid YAML at line"),
    ("unknown path", SWEEP.replace("agents.RU.provocation", "agents.RU.provoke"),
     "axes.1.set: unknown parameter 'agents.RU.provoke' (did you mean 'agents.RU.provocation'?)"),
    ("empty range", SWEEP.replace('"0:30000:3"', '"0:0:3"'), "axes.0.values: empty range"),
    ("steps < 1", SWEEP.replace('"0:30000:3"', '"0:30000:-2"'), "axes.0.values: steps must be >= 1 (got -2)"),
    ("sobol without bounds", SWEEP.replace("axes:", "design: sobol\nsamples: 16\naxes:").replace(
        '    values: "0:30000:3"\n', ""), "axes.0.bounds: is required for a sobol design"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_sweep_file_exits_2_with_one_line(ceasefire, tmp_path: Path, capsys: pytest.CaptureFixture,
                                              case: str, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert ceasefire("sweep", path, "--out", tmp_path / "out", "--workers", "1") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"error: {path}: ")
    assert message in captured.err
    assert not (tmp_path / "out").exists() and not partial_dir(tmp_path / "out").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--param", "agents.UK.troop=0:20000:3"], "error: --param agents.UK.troop=0:20000:3: unknown parameter "
                                               "'agents.UK.troop' (did you mean 'agents.UK.troops'?)"),
    (["--param", "agents.UK.troops"], "error: --param agents.UK.troops: must be PATH=VALUES"),
    (["--param", "agents.UK.troops=1,x"], "error: --param agents.UK.troops=1,x: not a number: 'x'"),
    (["--param", "agents.UK.troops=1", "--workers", "0"], "error: --workers: must be >= 1 (got 0)"),
    (["--param", "agents.UK.troops=1", "--resume", "--restart"], "error: --resume, --restart: choose one"),
])
def test_bad_options_exit_2_with_one_line(ceasefire, tmp_path: Path, capsys: pytest.CaptureFixture,
                                          argv: list[str], message: str) -> None:
    assert ceasefire("sweep", BASELINE, *argv, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message), err


def test_param_on_a_sweep_file_is_refused(ceasefire, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write(tmp_path, SWEEP)
    assert ceasefire("sweep", path, "--param", "agents.UK.troops=1") == 2
    assert "--param: this is a sweep file" in capsys.readouterr().err


def test_a_scenario_without_param_is_explained(ceasefire, capsys: pytest.CaptureFixture) -> None:
    assert ceasefire("sweep", BASELINE) == 2
    assert "axes: is required (if this is a scenario, give --param" in capsys.readouterr().err


def test_quick_form_runs_a_grid_and_reports(ceasefire, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "quick"
    status = ceasefire("sweep", BASELINE, "--param", "agents.UK.troops=0:20000:3",
                       "--param", "agents.US.detection_probability=0.2,0.9",
                       "--replications", 30, "--horizon", 60, "--workers", 1, "--out", out)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    assert f"results in {out}/" in captured.out and "6 points x 30 worlds, 60 days" in captured.out
    table = pd.read_csv(out / "sweep.csv")
    assert table[["agents.UK.troops", "agents.US.detection_probability"]].values.tolist() == [
        [0, 0.2], [0, 0.9], [10000, 0.2], [10000, 0.9], [20000, 0.2], [20000, 0.9]]
    assert (table["replications"] == 30).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command_line"][:2] == ["ceasefire", "sweep"] and manifest["name"] == "baseline_sweep"
    assert (out / "heatmap.png").is_file()


def test_sigterm_keeps_completed_points_and_resume_gives_the_same_bytes(
        ceasefire, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A real process, stopped by SIGTERM mid-sweep (after 2 of 30 points), then resumed in this process."""
    path = write(tmp_path, SWEEP.replace('"0:30000:3"', '"0:30000:15"').replace("horizon_days: 60",
                                                                                "horizon_days: 100"))
    assert ceasefire("sweep", path, "--out", tmp_path / "reference", "--workers", 1, "--quiet") == 0
    out = tmp_path / "out"
    records = partial_dir(out) / RECORDS_FILE
    driver = write(tmp_path, DRIVER, "driver.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, str(driver), "sweep", str(path), "--out", str(out),
                                "--workers", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 120
    while not (records.is_file() and records.read_bytes().count(b"\n") >= 2):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.startswith("interrupted: ") and "points are saved in" in err and "--resume" in err
    saved = records.read_bytes().count(b"\n")
    assert 2 <= saved < 30 and not out.exists()
    assert ceasefire("sweep", path, "--out", out, "--workers", 1, "--resume") == 0
    assert f", {saved} resumed" in capsys.readouterr().out
    for name in ("sweep.csv", "survival.csv"):
        assert (out / name).read_bytes() == (tmp_path / "reference" / name).read_bytes()


def test_plot_any_dir_redraws_sweeps_and_names_what_is_missing(ceasefire, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert ceasefire("sweep", write(tmp_path, SWEEP), "--out", out, "--workers", 1, "--no-plots", "--quiet") == 0
    assert [p.name for p in plot_any_dir(out)] == ["heatmap.png"]
    (out / "sweep.csv").unlink()
    with pytest.raises(PlotInputError, match=r"out/sweep\.csv: file not found"):
        plot_any_dir(out)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with pytest.raises(PlotInputError, match=r"run/survival\.csv: file not found"):
        plot_any_dir(run_dir)  # not a sweep: the run-folder figures, which need survival.csv
