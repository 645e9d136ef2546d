"""A careless or hostile user against the evidence commands, ``calibrate`` and ``validation`` (issue 20):
their folders are replaced only when they wrote them, nothing is computed before a refusal, and a stop
signal ends them within 2 seconds with one line, exit 130, the previous output untouched and no process
left behind. Each test names the failure it pins.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

import sim.experiments.calibrate.fit
import sim.experiments.validation.anchors
from sim.cli.main import main
from sim.experiments.result import Artefacts
from sim.outputs.artefacts import save

ROOT = Path(__file__).resolve().parent.parent
STOPPED_WITHIN_SECONDS = 2.0
"""Longest time from a stop signal to the end of the process (issue 20)."""


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` by name, to show nothing changed."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


def forbid(module: object, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Computing ``module.name`` fails the test: refusals must come before the work."""
    monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail(f"{name} ran before the refusal"))


@pytest.fixture(scope="module")
def tiny_table() -> pd.DataFrame:
    """A validation table at 0.5 % of the worlds (a few seconds)."""
    return sim.experiments.validation.anchors.run_validation(workers=1, scale=0.005)


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
    assert manifest["written_by"] == "ceasefire" and manifest["figures"] == ["validation.png"]
    assert set(manifest["files"]) == {"validation.csv", "validation.md", "validation.png"}
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

    def planting(settings: object) -> SimpleNamespace:
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


def _workers(process: object) -> list:
    """The multiprocessing workers (spawned) among the descendants of ``process`` (a ``psutil.Process``)."""
    found = []
    for child in process.children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except Exception:  # gone or a zombie meanwhile
            continue
    return found


def _wait_for(state: str, process: subprocess.Popen, timeout: float = 240.0) -> list:
    """Wait until ``process`` reaches ``state``; returns its descendants then.

    ``workers``: its two worker processes exist (the first simulations were handed to them);
    ``simulating``: they have used a CPU second between them (they are inside a simulation).
    Polled, never a fixed sleep; fails if the command ends first or never gets there.
    """
    psutil = pytest.importorskip("psutil")
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the command ended before the signal"
        workers = _workers(parent)
        if len(workers) >= 2:
            try:
                busy = sum(w.cpu_times().user for w in workers)
            except psutil.Error:
                busy = 0.0
            if state == "workers" or busy >= 1.0:
                return parent.children(recursive=True)
        time.sleep(0.05)
    raise AssertionError(f"the command never reached the state {state!r}")


def _gone(processes: list, timeout: float = 10.0) -> list:
    """Those of ``processes`` still running after ``timeout`` seconds (a zombie has ended: it only waits to
    be reaped by init)."""
    psutil = pytest.importorskip("psutil")
    deadline = time.monotonic() + timeout
    alive = list(processes)
    while alive and time.monotonic() < deadline:
        still = []
        for proc in alive:
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    still.append(proc)
            except psutil.NoSuchProcess:
                continue
        alive = still
        if alive:
            time.sleep(0.05)
    return alive


def _send_to_a_thread(process: subprocess.Popen, signum: int) -> None:
    """Send ``signum`` to a thread of ``process`` other than its main one (``tgkill``), as the kernel may
    do with a signal sent to the process when its main thread is busy."""
    psutil = pytest.importorskip("psutil")
    tgkill = getattr(ctypes.CDLL(None, use_errno=True), "tgkill", None)
    if tgkill is None:
        pytest.skip("needs tgkill (Linux, glibc >= 2.30)")
    others = [thread.id for thread in psutil.Process(process.pid).threads() if thread.id != process.pid]
    assert others, "the command runs no thread besides its main one"
    assert tgkill(process.pid, others[-1], signum) == 0, os.strerror(ctypes.get_errno())


def _stop(command: list[str], signum: int, state: str, out: Path, tmp_path: Path,
          to_a_thread: bool = False) -> tuple[int, float, str]:
    """Start ``ceasefire COMMAND --out OUT`` in a subprocess, wait for ``state``, send ``signum`` (to the
    process, or ``to_a_thread`` other than the main one); returns its exit code, the seconds from the signal
    to its end, and its stderr. Asserts no process outlives it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    family: list = []
    with open(tmp_path / "stderr", "w+") as err_file:  # a file, not a pipe: orphans cannot hold it open
        process = subprocess.Popen([sys.executable, "-m", "sim", *command, "--out", str(out)], cwd=tmp_path,
                                   env=env, stdout=subprocess.DEVNULL, stderr=err_file)
        try:
            family = _wait_for(state, process)
            if to_a_thread:
                _send_to_a_thread(process, signum)
            else:
                process.send_signal(signum)
            signalled = time.monotonic()
            try:
                process.wait(timeout=60)
            finally:
                elapsed = time.monotonic() - signalled
            survivors = _gone(family)
        finally:
            for proc in [process, *family]:  # never leave a process behind, even when the test fails
                with contextlib.suppress(Exception):  # ended already
                    proc.kill()
            process.wait()
        err_file.seek(0)
        err = err_file.read()
    assert survivors == [], f"processes left behind: {survivors}"
    return process.returncode, elapsed, err


def _assert_stopped(returncode: int, elapsed: float, err: str) -> None:
    assert returncode == 130, err
    assert err.startswith("interrupted: ") and err.count("\n") == 1, err
    assert elapsed < STOPPED_WITHIN_SECONDS, f"ended {elapsed:.2f} s after the signal"


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
    _assert_stopped(*_stop(command, signum, state, out, tmp_path, to_a_thread))
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
    _assert_stopped(*_stop(command, signum, "simulating", out, tmp_path, to_a_thread))
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stderr", "validation"]
