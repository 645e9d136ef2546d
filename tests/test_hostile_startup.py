"""A stop signal while the command starts (still importing) ends it like one later: one line, exit 130.

The command is held at a gate (``CEASEFIRE_STARTUP_GATE``, a FIFO it reads once its stop handlers are
in place and before it imports anything heavy); the test's open of the FIFO's write end returns when the
command has arrived there. No test sleeps: each waits for that state, then signals or releases it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import pytest

from sim.cli import STARTUP_GATE_ENV
from sim.core.exit_codes import EXIT_INTERRUPTED
from sim.core.signals import INTERRUPTED_MESSAGE, STOP_SIGNALS

ROOT = Path(__file__).resolve().parent.parent
LAUNCHERS = {
    "python -m sim": ["-m", "sim"],
    "console script": ["-c", "from sim.cli import entry_point; entry_point()"],  # what pip's wrapper runs
}
"""How the command is started: both go through ``sim.cli.entry_point``."""

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def start_at_gate(tmp_path: Path, launcher: list[str], *args: str) -> tuple[subprocess.Popen, int]:
    """The command started with a gate; returns it, once it waits at the gate, and the gate's write end."""
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    env = {**os.environ, "PYTHONPATH": str(ROOT), STARTUP_GATE_ENV: str(gate)}
    process = subprocess.Popen([sys.executable, *launcher, *args], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with ThreadPoolExecutor(1) as pool:
        opening = pool.submit(os.open, gate, os.O_WRONLY)  # returns when the command opens the gate to read
        if not wait([opening], timeout=120).done:
            process.kill()
            os.close(os.open(gate, os.O_RDONLY | os.O_NONBLOCK))  # let the opener return
            pytest.fail(f"the command never reached the start-up gate: {process.communicate()}")
        return process, opening.result()


@pytest.mark.parametrize("launcher", LAUNCHERS.values(), ids=LAUNCHERS.keys())
@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: s.name)
def test_stop_signal_during_start_up_is_one_line_and_exit_130(tmp_path: Path, launcher: list[str],
                                                              signum: signal.Signals) -> None:
    process, writer = start_at_gate(tmp_path, launcher, "validate", "baseline")
    try:
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)
    finally:
        os.close(writer)
    assert (process.returncode, err, out) == (EXIT_INTERRUPTED, f"{INTERRUPTED_MESSAGE}\n", "")
    assert INTERRUPTED_MESSAGE == "interrupted: nothing was written"


def test_released_gate_runs_the_command(tmp_path: Path) -> None:
    process, writer = start_at_gate(tmp_path, LAUNCHERS["python -m sim"], "validate", "baseline")
    os.close(writer)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (0, "") and out.startswith("ok: ")


def test_the_stop_handlers_are_installed_before_anything_heavy_is_imported() -> None:
    heavy = ("numpy", "pandas", "pydantic", "yaml", "multiprocessing", "concurrent.futures", "sim.cli.main")
    probe = (f"import sys\nfrom sim.cli import entry_point, run, wait_at_startup_gate\nheavy = {heavy!r}\n"
             "print(sorted(name for name in heavy if name in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_the_console_script_enters_through_sim_cli() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts == {"ceasefire": "sim.cli:entry_point"}
