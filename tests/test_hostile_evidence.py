"""A careless or hostile user against the evidence commands, ``calibrate`` and ``validation`` (issue 20):
their folders are replaced only when they wrote them, nothing is computed before a refusal, and a stop
signal ends them within 2 seconds with one line, exit 130, the previous output untouched and no process
left behind. Each test names the failure it pins.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import sim.experiments.calibrate.fit
import sim.experiments.validation.anchors
from sim.experiments.result import Artefacts
from sim.outputs.artefacts import save
from tests.hostile import assert_stopped, one_error_line, run_cli, snapshot, stop_command


def forbid(module: object, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Computing ``module.name`` fails the test: refusals must come before the work."""
    monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail(f"{name} ran before the refusal"))


@pytest.fixture(scope="module")
def tiny_table() -> pd.DataFrame:
    """A validation table at 0.5 % of the worlds (a few seconds)."""
    return sim.experiments.validation.anchors.run_validation(workers=1, scale=0.005)


@pytest.fixture(scope="module")
def tiny_spell_runs() -> dict:
    """The spell-level runs (issue 23) at 2 % of their worlds."""
    from sim.experiments.validation import spell_level

    return spell_level.simulate(workers=1, scale=0.02)


@pytest.fixture(scope="module")
def tiny_band() -> object:
    """The survival curves' posterior band at 2 draws of 5 worlds (a few seconds)."""
    from sim.experiments.validation import survival_curves

    return survival_curves.simulate_band(1, draws=2, worlds_per_draw=5)


@pytest.fixture(autouse=True)
def _tiny_spell_level(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process validations score the spells on tiny runs, as their anchors are on a tiny table, and draw the
    survival curves' band from a tiny one."""
    if "validation" in request.node.name:
        from sim.experiments.validation import spell_level, survival_curves

        runs = request.getfixturevalue("tiny_spell_runs")
        monkeypatch.setattr(spell_level, "simulate", lambda workers, progress: runs)
        band = request.getfixturevalue("tiny_band")
        monkeypatch.setattr(survival_curves, "simulate_band", lambda workers, progress: band)


def calibrate_folder(folder: Path) -> Path:
    """A folder ``ceasefire calibrate`` wrote (a small posterior, no figure): what a rerun may replace."""
    posterior = pd.DataFrame({"model.intent_variance": [1.0, 2.0], "weight": [0.5, 0.5], "distance": [1.0, 2.0]})
    return save(Artefacts("calibrate", tables={"posterior.csv": posterior}), folder, ["ceasefire", "calibrate"],
                plots=False)


# --------------------------------------------------------------------------- ownership


@pytest.mark.parametrize("names", [("validation.csv",), ("validation.csv", "validation.md", "validation.png")])
def test_a_folder_of_a_users_files_named_like_validations_is_refused_before_computing(
        names: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The old acceptance of a 'legacy validation folder' by its file names is gone: names prove nothing."""
    forbid(sim.experiments.validation.anchors, "run_validation", monkeypatch)
    folder = tmp_path / "validation"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes(b"anchor,my own figures\n")
    before = snapshot(folder)
    assert run_cli("validation", "--quiet", "--out", folder) == 2
    err = one_error_line(capsys.readouterr().err)
    assert f"{folder}: --out: holds files ceasefire did not write (no manifest.json" in err
    assert snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation"]


def test_validation_names_itself_in_its_manifest_and_replaces_its_own_folder(
        tiny_table: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", lambda workers, progress: tiny_table)
    out = tmp_path / "validation"
    assert run_cli("validation", "--out", out, "--quiet") == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "validation" and "kind" not in manifest and manifest["workers"] == 1
    assert manifest["written_by"] == "ceasefire" and manifest["figures"] == ["validation.png", "km.png", "hazards.png"]
    assert set(manifest["files"]) == {"validation.csv", "validation.md", "validation.png", "spells.csv", "spells.md",
                                      "km.csv", "km.png", "hazard_bands.csv", "hazards.png", "survival_curves.md",
                                      "hazards.csv", "evidence.csv"}
    assert run_cli("validation", "--out", out, "--quiet") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation"]


def test_a_file_planted_in_a_validation_folder_survives_a_rerun(
        tiny_table: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    """Planted before the rerun: refused before any simulation. Planted while it runs: nothing replaced."""
    out = tmp_path / "validation"
    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", lambda workers, progress: tiny_table)
    assert run_cli("validation", "--out", out, "--quiet") == 0
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    forbid(sim.experiments.validation.anchors, "run_validation", monkeypatch)
    assert run_cli("validation", "--out", out, "--quiet") == 2
    assert "holds a file ceasefire did not write: notes.txt" in one_error_line(capsys.readouterr().err)
    assert snapshot(out) == before

    (out / "notes.txt").unlink()
    before = snapshot(out)

    def planting(workers: int, progress: object) -> pd.DataFrame:
        (out / "planted.txt").write_text("mine too")
        return tiny_table

    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", planting)
    assert run_cli("validation", "--out", out, "--quiet") == 2
    assert "did not write: planted.txt" in one_error_line(capsys.readouterr().err)
    assert snapshot(out) == {**before, "planted.txt": b"mine too"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["validation"]


def test_a_file_planted_in_a_calibrate_folder_survives_a_rerun(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("pyabc")
    out = calibrate_folder(tmp_path / "posterior")
    argv = ("calibrate", "--quick", "--quiet", "--out", out)
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    forbid(sim.experiments.calibrate.fit, "run_calibration", monkeypatch)
    assert run_cli(*argv) == 2
    assert "holds a file ceasefire did not write: notes.txt" in one_error_line(capsys.readouterr().err)
    assert snapshot(out) == before

    (out / "notes.txt").unlink()
    before = snapshot(out)
    posterior = pd.DataFrame({"model.intent_variance": [3.0], "weight": [1.0], "distance": [0.5]})

    def planting(settings: object, **_: object) -> SimpleNamespace:
        (out / "planted.txt").write_text("mine too")
        return SimpleNamespace(artefacts=lambda: Artefacts("calibrate", tables={"posterior.csv": posterior}))

    monkeypatch.setattr(sim.experiments.calibrate.fit, "run_calibration", planting)
    assert run_cli(*argv) == 2
    assert "did not write: planted.txt" in one_error_line(capsys.readouterr().err)
    assert snapshot(out) == {**before, "planted.txt": b"mine too"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior"]


def test_a_validation_or_calibrate_folder_is_not_taken_for_the_other(
        tiny_table: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("pyabc")
    forbid(sim.experiments.validation.anchors, "run_validation", monkeypatch)
    forbid(sim.experiments.calibrate.fit, "run_calibration", monkeypatch)
    posterior = calibrate_folder(tmp_path / "posterior")
    before = snapshot(posterior)
    assert run_cli("validation", "--quiet", "--out", posterior) == 2
    assert "was written by `ceasefire calibrate`, not `ceasefire validation`" in one_error_line(
        capsys.readouterr().err)
    assert snapshot(posterior) == before


# --------------------------------------------------------------------------- stop signals


@pytest.mark.parametrize(("signum", "state", "to_a_thread"), [
    (signal.SIGINT, "workers", False), (signal.SIGTERM, "simulating", False), (signal.SIGHUP, "simulating", False),
    (signal.SIGTERM, "simulating", True), (signal.SIGINT, "workers", True)])
def test_a_stop_signal_ends_calibrate_within_2_s_and_keeps_the_previous_posterior(
        signum: int, state: str, to_a_thread: bool, tmp_path: Path) -> None:
    """pyabc's sampler, its particle threads and the worker processes all stop, also when the signal reaches
    a thread other than the main one (which waits on the workers meanwhile); the interpreter's exit does not
    collect pyabc's heap for seconds after the message."""
    pytest.importorskip("pyabc")
    out = calibrate_folder(tmp_path / "posterior")
    before = snapshot(out)
    command = ["calibrate", "--quick", "--workers", "2"]
    assert_stopped(*stop_command(command, signum, state, out, tmp_path, to_a_thread))
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["posterior", "stderr"]


@pytest.mark.parametrize(("signum", "to_a_thread"), [(signal.SIGHUP, False), (signal.SIGTERM, True)])
def test_a_stop_signal_ends_validation_within_2_s_and_keeps_the_previous_folder(
        signum: int, to_a_thread: bool, tiny_table: pd.DataFrame, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", lambda workers, progress: tiny_table)
    out = tmp_path / "validation"
    assert run_cli("validation", "--quiet", "--out", out) == 0
    before = snapshot(out)
    command = ["validation", "--workers", "2", "--quiet"]
    assert_stopped(*stop_command(command, signum, "simulating", out, tmp_path, to_a_thread))
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stderr", "validation"]
