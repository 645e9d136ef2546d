"""What the tests of hostile users share: the inputs, a small run, how an output and an error are checked, and
how a command is stopped by a signal (waiting for a state, never a fixed sleep)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
FOREIGN = b"\\documentclass{article}\n% a thesis, not ours\n"
TINY_RUN = ("--replications", "50", "--horizon", "30", "--quiet", "--no-plots")
STOPPED_WITHIN_SECONDS = 2.0
"""Longest time from a stop signal to the end of the process (issue 20)."""


def run_cli(*args: object) -> int:
    return main([str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes), to show nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


# --------------------------------------------------------------------------- stop signals


def workers_of(process: object) -> list:
    """The multiprocessing workers (spawned) among the descendants of ``process`` (a ``psutil.Process``)."""
    found = []
    for child in process.children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except Exception:  # gone or a zombie meanwhile
            continue
    return found


def wait_for(state: str, process: subprocess.Popen, timeout: float = 240.0) -> list:
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
        workers = workers_of(parent)
        if len(workers) >= 2:
            try:
                busy = sum(w.cpu_times().user for w in workers)
            except psutil.Error:
                busy = 0.0
            if state == "workers" or busy >= 1.0:
                return parent.children(recursive=True)
        time.sleep(0.05)
    raise AssertionError(f"the command never reached the state {state!r}")


def still_running(processes: list, timeout: float = 10.0) -> list:
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


def send_to_a_thread(process: subprocess.Popen, signum: int) -> None:
    """Send ``signum`` to a thread of ``process`` other than its main one (``tgkill``), as the kernel may
    do with a signal sent to the process when its main thread is busy."""
    psutil = pytest.importorskip("psutil")
    tgkill = getattr(ctypes.CDLL(None, use_errno=True), "tgkill", None)
    if tgkill is None:
        pytest.skip("needs tgkill (Linux, glibc >= 2.30)")
    others = [thread.id for thread in psutil.Process(process.pid).threads() if thread.id != process.pid]
    assert others, "the command runs no thread besides its main one"
    assert tgkill(process.pid, others[-1], signum) == 0, os.strerror(ctypes.get_errno())


def stop_command(command: list[str], signum: int, state: str, out: Path, tmp_path: Path,
                 to_a_thread: bool = False, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> tuple[int, float, str]:
    """Start ``ceasefire COMMAND --out OUT`` in a subprocess (in ``cwd``, default ``tmp_path``, with ``env``
    added to the environment), wait for ``state``, send ``signum`` (to the process, or ``to_a_thread`` other
    than the main one); returns its exit code, the seconds from the signal to its end, and its stderr (kept
    in ``tmp_path/stderr``). Asserts no process outlives it."""
    env = {**os.environ, **(env or {}),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    family: list = []
    with open(tmp_path / "stderr", "w+") as err_file:  # a file, not a pipe: orphans cannot hold it open
        process = subprocess.Popen([sys.executable, "-m", "sim", *command, "--out", str(out)],
                                   cwd=cwd or tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
        try:
            family = wait_for(state, process)
            if to_a_thread:
                send_to_a_thread(process, signum)
            else:
                process.send_signal(signum)
            signalled = time.monotonic()
            try:
                process.wait(timeout=60)
            finally:
                elapsed = time.monotonic() - signalled
            survivors = still_running(family)
        finally:
            for proc in [process, *family]:  # never leave a process behind, even when the test fails
                with contextlib.suppress(Exception):  # ended already
                    proc.kill()
            process.wait()
        err_file.seek(0)
        err = err_file.read()
    assert survivors == [], f"processes left behind: {survivors}"
    return process.returncode, elapsed, err


def assert_stopped(returncode: int, elapsed: float, err: str) -> None:
    assert returncode == 130, err
    assert err.startswith("interrupted: ") and err.count("\n") == 1, err
    assert elapsed < STOPPED_WITHIN_SECONDS, f"ended {elapsed:.2f} s after the signal"
