"""Resources bounded before any work: memory a run would need, and worker processes tied to their parent.

Memory: a run keeps, in the main process, every world's row of ``runs.csv`` and (unless trajectories
are off) every world's per-day values of :data:`sim.engine.model.TRAJECTORY_VARIABLES` as float32, since the
10th/90th percentiles of ``trajectories.csv`` are exact and need all values. Each busy worker also
holds one block of trajectories, and a copy of it while sending it back. :func:`run_memory_bytes`
adds these up; :func:`check_memory` refuses, with one line naming the flags that lower it, a run
above :func:`memory_limit_bytes` (``MEMORY_LIMIT_GB``, or the environment variable
``CEASEFIRE_MEMORY_LIMIT_GB``). The estimate is arithmetic: it is checked before any array exists.

Workers: :func:`worker_init` is the initializer of every local process pool. A worker ignores Ctrl-C
(the main process handles it and stops the pool, so no worker prints a traceback) and exits when its
parent dies, even by SIGKILL: on Linux the kernel sends it SIGTERM (``PR_SET_PDEATHSIG``), and
everywhere a watchdog thread ends it within ``WATCHDOG_SECONDS`` once its parent has changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

from sim.core.errors import InputError
from sim.engine.blocks import BLOCK_WORLDS
from sim.engine.model import TRAJECTORY_VARIABLES

MEMORY_LIMIT_GB = 4.0
"""Default memory bound of one run or one sweep, in GB (10^9 bytes); override with ``CEASEFIRE_MEMORY_LIMIT_GB``."""

MEMORY_LIMIT_ENV = "CEASEFIRE_MEMORY_LIMIT_GB"

RUN_ROW_BYTES = 400
"""Bytes per world of the ``runs`` table while a run is assembled (measured: 160 held, the rest while joined)."""

TRAJECTORY_VALUE_BYTES = 4
"""Bytes per world, day and trajectory variable (float32)."""

WATCHDOG_SECONDS = 0.5
"""How often a worker checks that its parent is alive (seconds)."""

_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


def memory_limit_bytes() -> int:
    """The memory bound in bytes: ``CEASEFIRE_MEMORY_LIMIT_GB`` (a positive number of GB) or ``MEMORY_LIMIT_GB``.

    Raises:
        InputError: the environment variable is set but is not a positive number.
    """
    raw = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not raw:
        return int(MEMORY_LIMIT_GB * 1e9)
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value < 1e9):  # also refuses NaN and infinity
        raise InputError(f"{MEMORY_LIMIT_ENV}: must be a positive number of GB (got {raw[:40]!r})")
    return int(value * 1e9)


def run_memory_bytes(replications: int, horizon_days: int, record_trajectories: bool, workers: int = 1,
                     block_worlds: int | None = None, variables: int | None = None) -> int:
    """Estimated peak memory (bytes) of running ``replications`` worlds for ``horizon_days`` days.

    Args:
        replications: worlds (>= 1).
        horizon_days: days simulated (>= 1); trajectories hold ``horizon_days + 1`` days.
        record_trajectories: whether per-day trajectories are kept (the dominant term).
        workers: local processes working at once; each holds one block and a copy being sent back.
        block_worlds: worlds per block (default :data:`sim.engine.blocks.BLOCK_WORLDS`).
        variables: trajectory variables (default ``len(sim.engine.model.TRAJECTORY_VARIABLES)``).
    """
    block_worlds = BLOCK_WORLDS if block_worlds is None else block_worlds
    variables = len(TRAJECTORY_VARIABLES) if variables is None else variables
    total = replications * RUN_ROW_BYTES
    if record_trajectories:
        per_world = (horizon_days + 1) * variables * TRAJECTORY_VALUE_BYTES
        in_flight = 2 * max(0, workers) * min(replications, block_worlds) if workers > 1 else 0
        total += (replications + in_flight) * per_world
    return total


def point_memory_bytes(replications: int, workers: int = 1) -> int:
    """Estimated peak memory (bytes) of a sweep running one point of ``replications`` worlds on each worker."""
    return max(1, workers) * run_memory_bytes(replications, 1, record_trajectories=False)


def check_memory(needed: int, what: str, lower: str) -> None:
    """Refuse work that would need more than :func:`memory_limit_bytes`.

    Args:
        needed: estimated peak bytes.
        what: the sizes that cause it, e.g. ``"--replications 10000000 x --horizon 730"``.
        lower: the flags that lower it, e.g. ``"--replications or --horizon"``.

    Raises:
        InputError: one line with the estimate, the limit and what to lower.
    """
    limit = memory_limit_bytes()
    if needed > limit:
        raise InputError(f"{what}: would need about {_gb(needed)} of memory (limit {_gb(limit)}, set by "
                         f"{MEMORY_LIMIT_ENV}); lower {lower}")


def check_run_memory(replications: int, horizon_days: int, record_trajectories: bool = True,
                     workers: int = 1) -> None:
    """:func:`check_memory` for ``ceasefire run``: names ``--replications`` and ``--horizon``."""
    needed = run_memory_bytes(replications, horizon_days, record_trajectories, workers)
    check_memory(needed, f"--replications {replications} x --horizon {horizon_days}", "--replications or --horizon")


def _gb(size: int) -> str:
    gb = size / 1e9
    return f"{gb:,.0f} GB" if gb >= 10 else f"{gb:.1f} GB"


# --------------------------------------------------------------------------- worker processes


def worker_init(parent_pid: int) -> None:
    """Initializer of pool workers: ignore Ctrl-C, and exit when the process ``parent_pid`` is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent_pid:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()


def _die_with_parent() -> None:
    """Linux: ask the kernel to send this process SIGTERM when its parent exits (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # no libc or no prctl: the watchdog still works
        return


def _watch_parent(parent_pid: int) -> None:
    """Exit this worker at once when its parent changes (the parent died; it was re-parented)."""
    while os.getppid() == parent_pid:
        time.sleep(WATCHDOG_SECONDS)
    os._exit(1)
