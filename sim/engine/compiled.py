"""Optional compiled kernels for the two busiest pieces of a day's random numbers (numba, if installed).

The kernels compute, bit for bit, what the numpy reference code in ``sim.engine.streams`` computes:

- :func:`uniforms`: SplitMix64 hashing of (key, lane, index) and the conversion to two uniforms of
  32 bits each, as ``sim.engine.streams.uniforms`` with one index for all keys;
- :func:`cornish_fisher_counts`: the rounded Cornish-Fisher quantile of ``sim.engine.streams.poisson_quantile``
  in single precision, with numpy's order of operations and no fused multiply-add.

numpy stays the reference: ``tests/test_compiled.py`` compares both paths. Importing numba and loading
the kernels costs a process about 0.3 s, repaid after some 2 s of simulation (``docs/performance.md``),
so by default a process uses them only once told it runs a long job (:func:`want`: packed points, as in
sweeps, ensembles, screening and calibration, or a run of ``WORTH_FROM_WORLD_DAYS`` or more) and numba
imports. ``CEASEFIRE_NUMBA=0`` forces the numpy path; ``CEASEFIRE_NUMBA=1`` the kernels everywhere,
and makes a missing numba an error. Install with ``pip install 'ceasefire[fast]'``. Kernels are
compiled on first use and cached on disk by numba (``cache=True``), so later processes load them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np

from sim.core.errors import InputError, shown

SWITCH = "CEASEFIRE_NUMBA"
"""Environment variable: ``0`` numpy only; ``1`` the kernels always, numba required; unset or empty: the
kernels for long jobs (:func:`want`), where numba is installed."""

WORTH_FROM_WORLD_DAYS = 30_000_000
"""World-days from which one run repays loading the kernels (about 0.3 s a process, against some 10 ns
saved a world-day): 3 times the main job's 10,000 worlds x 730 days."""


class CompiledKernelsError(InputError):
    """``CEASEFIRE_NUMBA`` is neither unset, ``0`` nor ``1``, or is ``1`` and numba cannot be imported."""


Kernels = tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]
_numpy_only = False
_wanted = False


def kernels() -> Kernels | None:
    """The two compiled kernels, ``(uniforms, cornish_fisher_counts)``, or ``None`` for the numpy path.

    With the switch unset, numba is not even imported until :func:`want` has been called in this process.
    """
    if _numpy_only:
        return None
    switch = _switch()
    if switch == "0" or (switch == "" and not _wanted):
        return None
    return _loaded()


def want() -> None:
    """Say that this process runs a long job (packed points, or a run of ``WORTH_FROM_WORLD_DAYS`` or more):
    from now on it uses the kernels where numba is installed, unless the switch is ``0``."""
    global _wanted
    _wanted = True


def check_switch() -> None:
    """Raise :class:`CompiledKernelsError` now, before any work, if the switch asks for what cannot be had."""
    if _switch() == "1":
        _loaded()


@contextmanager
def numpy_only() -> Iterator[None]:
    """Within this block the engine takes the numpy path, numba installed or not (for comparisons)."""
    global _numpy_only
    before, _numpy_only = _numpy_only, True
    try:
        yield
    finally:
        _numpy_only = before


@contextmanager
def wanted() -> Iterator[None]:
    """Within this block the kernels are used where numba is installed, as after :func:`want` (for
    benchmarks and tests); the switch ``0`` still wins."""
    global _wanted
    before, _wanted = _wanted, True
    try:
        yield
    finally:
        _wanted = before


def forget() -> None:
    """Read the switch and look for numba again at the next draw (tests that change the environment)."""
    _switch.cache_clear()
    _loaded.cache_clear()


@cache
def _switch() -> str:
    choice = os.environ.get(SWITCH, "").strip()
    if choice not in ("", "0", "1"):
        raise CompiledKernelsError(f"{SWITCH}={shown(choice)}: use 0 (numpy only), 1 (numba required) "
                                   "or leave it unset")
    return choice


@cache
def _loaded() -> Kernels | None:
    choice = _switch()
    try:
        import numba
    except ImportError as error:
        if choice == "1":
            raise CompiledKernelsError(f"{SWITCH}=1 but numba cannot be imported ({error}); "
                                       "pip install 'ceasefire[fast]', or unset it") from None
        return None
    return _build(numba)


def _build(numba: Any) -> Kernels:
    njit = numba.njit(cache=True, error_model="numpy")

    # SplitMix64's constants come from sim.engine.streams as an argument, not captured here: one definition, and
    # numba's disk cache would not notice a change to constants captured from another module
    @njit
    def uniforms(keys: np.ndarray, lane_ids: np.ndarray, index: int, constants: tuple) -> np.ndarray:
        lanes_total, golden, mix_1, mix_2, s30, s27, s31, s32, low_32, unit = constants
        out = np.empty((2 * lane_ids.size, keys.size))
        for j in range(lane_ids.size):
            offset = (np.uint64(index) * lanes_total + lane_ids[j]) * golden
            for i in range(keys.size):
                x = keys[i] + offset
                x ^= x >> s30
                x *= mix_1
                x ^= x >> s27
                x *= mix_2
                x ^= x >> s31
                out[2 * j, i] = (np.float64(x >> s32) + 0.5) * unit
                out[2 * j + 1, i] = (np.float64(x & low_32) + 0.5) * unit
        return out

    one, sixth, seventy_second = np.float32(1.0), np.float32(1.0 / 6.0), np.float32(1.0 / 72.0)
    floor_root, zero = np.float32(1e-3), np.float32(0.0)

    @njit
    def cornish_fisher_counts(normal: np.ndarray, mean: np.ndarray) -> np.ndarray:
        counts = np.empty(mean.shape, dtype=np.int64)
        flat_counts, flat_normal, flat_mean = counts.reshape(-1), normal.reshape(-1), mean.reshape(-1)
        for i in range(flat_mean.size):
            m = np.float32(flat_mean[i])
            if not m > zero:
                flat_counts[i] = 0
                continue
            z = flat_normal[i]
            root = max(np.float32(np.sqrt(m)), floor_root)
            z2 = z * z
            correction = (one - z2) * z / root * seventy_second
            value = z * root + m + (z2 - one) * sixth + correction
            flat_counts[i] = np.int64(max(np.float32(np.rint(value)), zero))
        return counts

    return uniforms, cornish_fisher_counts


def engine() -> str:
    """Which path the day's random numbers take in this process: ``"numba <version>"`` or ``"numpy"``."""
    if kernels() is None:
        return "numpy"
    import numba

    return f"numba {numba.__version__}"
