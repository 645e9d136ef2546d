"""A careless or hostile user against the outputs: never destroy a file we did not write, refuse before
computing, one line for every failure, and no process of ours left behind. Each test names the failure it pins."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim.api
import sim.core.exit_codes
import sim.engine.runner
import sim.experiments.sweep.execute
import sim.experiments.tornado
import sim.experiments.validation.anchors
from sim.cli.main import main
from sim.core.errors import InputError
from sim.core.signals import interrupt_on_signals
from sim.outputs.artefacts import WRITTEN_BY, atomic_folder, check_output_folder

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
FOREIGN = b"\\documentclass{article}\n% a thesis, not ours\n"
TINY_RUN = ("--replications", "50", "--horizon", "30", "--quiet", "--no-plots")


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes), to show nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


@pytest.fixture()
def no_compute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any simulation fails the test: refusals must come before the work."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed before refusing the output folder")

    for module, name in ((sim.engine.runner, "run_scenario"), (sim.experiments.tornado, "run_tornado"),
                         (sim.experiments.sweep.execute, "run_sweep"),
                         (sim.experiments.validation.anchors, "run_validation")):
        monkeypatch.setattr(module, name, forbidden)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ours") / "r"
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", out) == 0
    return out


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
    assert err.startswith(f"error: {mydocs}: --out: folder holds files ceasefire did not write (thesis.tex)")
    assert snapshot(mydocs) == {"thesis.tex": FOREIGN}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mydocs"]


def test_out_naming_the_scenarios_folder_of_the_input_deletes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shutil.copy(BASELINE, scenarios / "baseline.yaml")
    (scenarios / "mine.yaml").write_text("name: mine\n")
    before = snapshot(scenarios)
    for out in (scenarios, tmp_path):
        assert run_cli("run", scenarios / "baseline.yaml", *TINY_RUN, "--out", out) == 2
        assert "holds the input file baseline.yaml" in one_error_line(capsys.readouterr().err)
    assert snapshot(scenarios) == before


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


def test_a_scenario_named_dot_cannot_replace_the_results_tree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_compute: None) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "earlier").mkdir(parents=True)
    (tmp_path / "results" / "earlier" / "notes.txt").write_text("keep")
    for name in (".", ".."):
        dotted = tmp_path / f"dotted{len(name)}.yaml"
        dotted.write_text(BASELINE.read_text(encoding="utf-8").replace("name: baseline", f'name: "{name}"', 1))
        assert run_cli("run", dotted, *TINY_RUN) == 2
    assert snapshot(tmp_path / "results") == {"earlier/notes.txt": b"keep"}


def test_our_run_folder_with_a_foreign_file_added_is_refused(
        run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    copy = tmp_path / "r"
    shutil.copytree(run_dir, copy)
    (copy / "thesis.tex").write_bytes(FOREIGN)
    (copy / "drafts").mkdir()
    before = snapshot(copy)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", copy) == 2
    assert "did not write (drafts, thesis.tex)" in one_error_line(capsys.readouterr().err)
    assert snapshot(copy) == before


def test_a_symlinked_or_file_out_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture, no_compute: None) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    (tmp_path / "file").write_bytes(b"x")
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", tmp_path / "link") == 2
    assert "is a symbolic link" in one_error_line(capsys.readouterr().err)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", tmp_path / "file") == 2
    assert "exists and is not a folder" in one_error_line(capsys.readouterr().err)
    assert (tmp_path / "file").read_bytes() == b"x"


def test_replacing_our_own_previous_run_folder_still_works_and_leaves_nothing_beside(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    out.mkdir()  # an empty folder is accepted
    assert run_cli("run", BASELINE, *TINY_RUN, "--seed", "1", "--out", out) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["written_by"] == WRITTEN_BY["written_by"]
    del manifest["written_by"]  # a manifest from before the mark is still ours
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert run_cli("run", BASELINE, *TINY_RUN, "--seed", "2", "--out", out) == 0
    assert json.loads((out / "manifest.json").read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_foreign_manifest_does_not_make_a_folder_ours(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "my web app", "icons": []}')
    (folder / "data.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match=r"did not write \(data.csv, manifest.json\)"):
        check_output_folder(folder)


def test_compare_out_onto_a_run_table_is_refused_and_the_table_unchanged(
        run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    before = snapshot(run_dir)
    assert run_cli("compare", run_dir, "--out", run_dir / "survival.csv") == 2
    assert "--out: must be a .png file name" in one_error_line(capsys.readouterr().err)
    assert snapshot(run_dir) == before
    assert run_cli("plot", run_dir) == 0


def test_report_out_onto_a_run_table_is_refused_and_the_table_unchanged(
        run_dir: Path, capsys: pytest.CaptureFixture) -> None:
    before = snapshot(run_dir)
    assert run_cli("report", run_dir, "--out", run_dir / "summary.csv") == 2
    assert "--out: must be a .html file name" in one_error_line(capsys.readouterr().err)
    assert snapshot(run_dir) == before


@pytest.mark.parametrize(("command", "suffix"), [("compare", ".png"), ("report", ".html")])
def test_file_out_onto_a_fifo_standing_for_a_device_node_is_refused(
        command: str, suffix: str, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    node = tmp_path / f"full{suffix}"
    os.mkfifo(node)
    assert run_cli(command, run_dir, "--out", node) == 2
    assert "is not a regular file" in one_error_line(capsys.readouterr().err)
    assert stat.S_ISFIFO(os.lstat(node).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == [node.name]


def test_file_out_through_a_symlink_is_refused(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    real = tmp_path / "real.png"
    real.write_bytes(b"mine")
    (tmp_path / "link.png").symlink_to(real)
    assert run_cli("compare", run_dir, "--out", tmp_path / "link.png") == 2
    assert "is a symbolic link" in one_error_line(capsys.readouterr().err)
    assert real.read_bytes() == b"mine" and (tmp_path / "link.png").is_symlink()


@pytest.mark.parametrize("failing", ["every rename", "the final rename"])
def test_disk_full_while_replacing_gives_exit_1_one_line_and_keeps_old_results(
        failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", out) == 0
    before = snapshot(out)
    real_replace = os.replace

    def full_disk(src: object, dst: object) -> None:
        if failing == "every rename" or ".partial-" in str(src):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    assert run_cli("run", BASELINE, *TINY_RUN, "--seed", "9", "--out", out) == 1
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {out}: cannot write (No space left on device)")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_an_unwritable_disk_mid_run_gives_exit_1_and_one_line(
        code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def refused(table: object, path: Path) -> Path:
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(sim.api, "write_csv", refused)
    assert run_cli("run", BASELINE, *TINY_RUN, "--out", tmp_path / "out") == 1
    assert f"cannot write ({os.strerror(code)})" in one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_workers_beyond_the_work_are_capped_and_the_effective_number_recorded(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert run_cli("run", BASELINE, *TINY_RUN, "--workers", "1000", "--out", out) == 0
    assert "note: --workers 1000 capped at 1" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["workers"] == 1


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


def _children(pid: int, want: int, timeout: float) -> list:
    psutil = pytest.importorskip("psutil")
    parent = psutil.Process(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = [c for c in parent.children(recursive=True) if "multiprocessing" in " ".join(c.cmdline())]
        if len(workers) >= want:
            return parent.children(recursive=True)
        time.sleep(0.1)
    raise AssertionError(f"{want} workers never started")


SIGNALLED = {
    "run": ("run", BASELINE, "--replications", "40000", "--horizon", "3650"),
    "sweep": ("sweep", BASELINE, "--param", "agents.UK.troops=0:30000:8", "--replications", "10000",
              "--horizon", "1500"),
    "tornado": ("tornado", BASELINE, "--params", "agents.UK.troops", "--replications", "40000", "--horizon", "3000"),
}
"""Validation and calibrate: tests/test_hostile_evidence.py."""


@pytest.mark.parametrize(("command", "signum"), [("run", signal.SIGTERM), ("run", signal.SIGHUP),
                                                 ("sweep", signal.SIGTERM), ("tornado", signal.SIGTERM)])
def test_a_signal_to_a_two_worker_command_exits_130_and_leaves_no_process_behind(
        command: str, signum: int, tmp_path: Path) -> None:
    psutil = pytest.importorskip("psutil")
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "CEASEFIRE_MEMORY_LIMIT_GB": "16"}  # long enough to be signalled mid-run, above the default bound
    children: list = []
    with open(tmp_path / "stderr", "w+") as err_file:  # a file, not a pipe: orphans cannot hold it open
        process = subprocess.Popen(
            [sys.executable, "-m", "sim", *map(str, SIGNALLED[command]), "--workers", "2", "--quiet",
             "--out", str(work / "out")],
            cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
        try:
            children = _children(process.pid, 2, timeout=60)
            time.sleep(2)  # the workers are importing or inside their first block
            assert process.poll() is None, "the command ended before the signal"
            process.send_signal(signum)
            process.wait(timeout=60)
            _, alive = psutil.wait_procs(children, timeout=10)
        finally:
            for proc in [process, *children]:  # never leave a process behind, even when the test fails
                if proc.poll() is None if proc is process else proc.is_running():
                    proc.kill()
        err_file.seek(0)
        err = err_file.read()
    assert process.returncode == 130, err
    assert err.startswith("interrupted: ") and err.count("\n") == 1, err
    assert alive == []
    assert not (work / "out").exists()
    assert not [p for p in work.iterdir() if ".old-" in p.name or ".partial-" in p.name]


def test_an_interrupt_during_the_folder_swap_waits_until_the_swap_is_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"written_by": "ceasefire", "seed": 1}))
    real_replace = os.replace

    def interrupted_replace(src: object, dst: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives between the two renames
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted_replace)
    with pytest.raises(KeyboardInterrupt), interrupt_on_signals(), atomic_folder(out) as tmp:
        (tmp / "manifest.json").write_text(json.dumps({"written_by": "ceasefire", "seed": 2}))
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
