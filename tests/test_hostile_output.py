"""A careless or hostile user against the outputs: never destroy a file we did not write, refuse before
computing, one line for every failure, and no process of ours left behind. Each test names the failure it pins."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

import sim.core.exit_codes
import sim.experiments.run
import sim.experiments.sweep.execute
import sim.experiments.tornado
import sim.experiments.validation.anchors
from sim.cli.main import main
from sim.core.errors import InputError
from sim.core.signals import interrupt_on_signals
from sim.outputs.artefacts import atomic_folder, check_output_folder, manifest, write_manifest
from tests.hostile import (
    BASELINE,
    FOREIGN,
    TINY_RUN,
    assert_stopped,
    one_error_line,
    run_cli,
    snapshot,
    stop_command,
)


@pytest.fixture()
def no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation fails the test: refusals must come before the work."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed before refusing the output folder")

    for module, name in ((sim.experiments.run, "run_scenario"), (sim.experiments.tornado, "run_tornado"),
                         (sim.experiments.sweep.execute, "run_sweep"),
                         (sim.experiments.validation.anchors, "run_validation")):
        monkeypatch.setattr(module, name, forbidden)


COMMANDS = {
    "run": ("run", BASELINE, *TINY_RUN),
    "sweep": ("sweep", BASELINE, "--param", "agents.UK.troops=0:1000:2", *TINY_RUN),
    "tornado": ("tornado", BASELINE, "--params", "agents.UK.troops", "--replications", "20", "--horizon", "20",
                "--quiet"),
    "validation": ("validation", "--quiet"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_holding_a_foreign_file_is_refused_before_computing_and_the_file_kept(
        command: str, tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    mydocs = tmp_path / "mydocs"
    mydocs.mkdir()
    (mydocs / "thesis.tex").write_bytes(FOREIGN)
    assert run_cli(*COMMANDS[command], "--out", mydocs) == 2
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {mydocs}: --out: holds files ceasefire did not write (no manifest.json; first: "
                          "thesis.tex)")
    assert snapshot(mydocs) == {"thesis.tex": FOREIGN}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydocs"]


@pytest.mark.parametrize("out", [".", "", "..", "sub/..", "sub/../..", "../work", "/"])
def test_out_naming_the_current_folder_or_a_parent_is_refused_with_no_leftovers(
        out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
        no_compute: None) -> None:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    for command in ("run", "sweep", "tornado"):
        assert main([str(a) for a in COMMANDS[command]] + ["--out", out]) == 2
        assert "is the current folder or a parent of it" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt", "sub"]


def test_a_foreign_manifest_does_not_make_a_folder_ours(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "my web app", "icons": []}')
    (folder / "data.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match=r"its manifest.json is not one ceasefire wrote"):
        check_output_folder(folder, "run")
    assert sorted(p.name for p in folder.iterdir()) == ["data.csv", "manifest.json"]


def test_our_mark_without_the_list_of_files_does_not_make_a_folder_ours(tmp_path: Path) -> None:
    """Ours means every file listed with its SHA-256, not a manifest that merely says so."""
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"written_by": "ceasefire", "command": "run", "seed": 1}))
    (folder / "survival.csv").write_text("day,n_worlds\n0,1\n")
    with pytest.raises(InputError, match=r"its manifest.json is not one ceasefire wrote"):
        check_output_folder(folder, "run")


def test_exit_codes_live_in_one_module_and_stay_importable_from_cli() -> None:
    import sim.cli.main

    codes = ("EXIT_OK", "EXIT_FAILURE", "EXIT_BAD_INPUT", "EXIT_INTERRUPTED")
    assert [getattr(sim.core.exit_codes, c) for c in codes] == [0, 1, 2, 130]
    assert all(getattr(sim.cli.main, c) is getattr(sim.core.exit_codes, c) for c in codes)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_interrupt_like_ctrl_c_and_handlers_are_restored(signum: int) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt), interrupt_on_signals():
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler interrupts this
    assert signal.getsignal(signum) == before


SIGNALLED = {
    "run": ("run", BASELINE, "--replications", "40000", "--horizon", "3650"),
    "sweep": ("sweep", BASELINE, "--param", "agents.UK.troops=0:30000:8", "--replications", "10000",
              "--horizon", "1500"),
    "tornado": ("tornado", BASELINE, "--params", "agents.UK.troops", "--replications", "40000", "--horizon", "3000"),
}
"""Validation and calibrate: tests/test_hostile_evidence.py."""


@pytest.mark.parametrize(("command", "signum", "to_a_thread"), [
    ("run", signal.SIGTERM, False), ("run", signal.SIGHUP, False), ("sweep", signal.SIGTERM, False),
    ("tornado", signal.SIGTERM, False), ("run", signal.SIGTERM, True), ("sweep", signal.SIGTERM, True)])
def test_a_signal_to_a_two_worker_command_exits_130_within_2_s_and_leaves_no_process_behind(
        command: str, signum: int, to_a_thread: bool, tmp_path: Path) -> None:
    """Also when the signal reaches a thread other than the main one (the pool's manager, the relay) while
    the main thread waits on the workers: every command relays it to the main thread
    (sim.core.signals.interrupt_on_signals)."""
    work = tmp_path / "work"
    work.mkdir()
    args = [*map(str, SIGNALLED[command]), "--workers", "2", "--quiet"]
    assert_stopped(*stop_command(args, signum, "simulating", work / "out", tmp_path, to_a_thread, cwd=work,
                                 env={"CEASEFIRE_MEMORY_LIMIT_GB": "16"}))  # above the default bound
    # no output, no temporary folder, no lock; a sweep keeps the points it finished, to resume
    assert {p.name for p in work.iterdir()} <= ({"out.partial"} if command == "sweep" else set())


def test_an_interrupt_during_the_folder_swap_waits_until_the_swap_is_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_manifest(out, manifest("run", {"seed": 1}))
    real_replace = os.replace

    def interrupted_replace(src: object, dst: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives between the two renames
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt), interrupt_on_signals(), atomic_folder(out, "run") as tmp:
        write_manifest(tmp, manifest("run", {"seed": 2}))
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_stopped_pool_prints_no_thread_traceback_but_other_thread_errors_still_show() -> None:
    """The pool's manager thread may raise InvalidStateError while its workers are stopped (a race in
    concurrent.futures); that must not print a traceback after the one-line message. Nothing else is hidden."""
    import threading
    from concurrent.futures import InvalidStateError

    import sim.core.signals

    saved = threading.excepthook
    reported: list[type[BaseException]] = []
    threading.excepthook = lambda args: reported.append(args.exc_type)  # stands for the printing hook
    try:
        sim.core.signals.stop_workers()

        def raise_in_thread(error: Exception) -> None:
            def target() -> None:
                raise error

            thread = threading.Thread(target=target)
            thread.start()
            thread.join()

        raise_in_thread(InvalidStateError("CANCELLED: <Future>"))
        raise_in_thread(ValueError("a real bug"))
    finally:
        threading.excepthook = saved
    assert reported == [ValueError]
