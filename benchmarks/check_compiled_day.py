"""Check: what a day compiled with numba (the ``[fast]`` extra) could and could not do, on this machine.

Not a test: it prints figures for ``docs/performance.md`` (issue 25's speed bullets). Three measurements:

1. **Bit for bit.** The day takes exponentials, logarithms, sines and cosines with numpy, in single precision
   where ``docs/ODD.md`` says so (the offensive choice, the spiral, the Box-Muller normals) and in double
   precision elsewhere (institutions, the geometric gaps). For each, over the range of arguments the day
   gives it, the share of inputs where numba's function differs from numpy's in any bit. A compiled whole
   day can be bit-identical to the numpy engine only if every share is 0.
2. **What numpy would keep.** The time of those numpy calls over the days of a run at ``--worlds`` worlds,
   against the engine's whole run (numpy path, no trajectories): what a day compiled phase by phase, with
   the transcendental functions left to numpy, could not remove.
3. **The floor of the numpy path.** The same run at 20 worlds: the cost of the day's calls, whatever the batch.

    python benchmarks/check_compiled_day.py [--worlds 2000] [--days 730] [--samples 1000000]

Needs numba (``pip install '.[fast]'``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.machine import describe  # noqa: E402

FloatFunction = Callable[[np.ndarray], np.ndarray]

CONTROL = "sqrt, float32 (control: correctly rounded in both)"
"""A function IEEE 754 rounds exactly, so numba and numpy must agree on every bit: the comparison's control."""


def _ranges(rng: np.random.Generator, samples: int) -> dict[str, tuple[str, np.ndarray]]:
    """Each function the day uses, its dtype and arguments drawn from the range the day gives it."""
    return {
        "exp, float32 (offensive choice, spiral)": ("exp", rng.uniform(-50.0, 50.0, samples).astype(np.float32)),
        "log, float32 (Box-Muller radius)": ("log", rng.uniform(0.0, 1.0, samples).astype(np.float32)),
        "cos, float32 (Box-Muller)": ("cos", rng.uniform(0.0, 2.0 * np.pi, samples).astype(np.float32)),
        "sin, float32 (Box-Muller)": ("sin", rng.uniform(0.0, 2.0 * np.pi, samples).astype(np.float32)),
        "exp, float64 (institutions, foresight)": ("exp", rng.uniform(-20.0, 0.0, samples)),
        "log, float64 (geometric gaps)": ("log", rng.uniform(0.0, 1.0, samples)),
        CONTROL: ("sqrt", rng.uniform(0.0, 100.0, samples).astype(np.float32)),
    }


def compiled_functions() -> dict[str, FloatFunction]:
    """numba's elementwise exp, log, cos, sin and sqrt, each compiled on first use (the dtype follows the input)."""
    import numba

    def elementwise(function: np.ufunc) -> FloatFunction:
        @numba.njit
        def apply(x: np.ndarray) -> np.ndarray:
            out = np.empty_like(x)
            for i in range(x.size):
                out[i] = function(x[i])  # numba's own implementation of the numpy function
            return out

        return apply

    return {name: elementwise(getattr(np, name)) for name in ("exp", "log", "cos", "sin", "sqrt")}


def mismatch_shares(samples: int, seed: int = 0) -> dict[str, float]:
    """Share of the inputs where numba's result differs from numpy's in any bit, per function and dtype."""
    compiled = compiled_functions()
    shares = {}
    for label, (name, x) in _ranges(np.random.default_rng(seed), samples).items():
        bits = np.dtype(f"u{x.itemsize}")  # compared as integers: bit for bit, -0.0 and NaN included
        shares[label] = float(np.mean(compiled[name](x).view(bits) != getattr(np, name)(x).view(bits)))
    return shares


def transcendental_seconds(worlds: int, days: int, repeats: int) -> float:
    """Median seconds of the numpy transcendental calls of ``days`` days at ``worlds`` worlds: the normals of
    the incident counts, the offensive choice's and the spiral's exponentials (float32), the institutions'
    (float64), each as the engine computes it. The rarer ones (the geometric gaps of events that fall due, the
    exact Poisson search for small means, the foresight's windows) are left out, so this is a lower bound."""
    from sim.engine.streams import normal_pairs

    rng = np.random.default_rng(1)
    uniform, utility, institution = rng.uniform(size=(2, worlds)), rng.uniform(-5, 5, worlds), rng.uniform(size=worlds)

    def day() -> None:
        normal_pairs(uniform)
        np.exp(-np.asarray(np.clip(utility, -50.0, 50.0), dtype=np.float32)).astype(float)
        np.exp(np.minimum(utility, 50.0).astype(np.float32)).astype(float)
        np.exp(-4.0 * institution)

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(days):
            day()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def engine_seconds(worlds: int, days: int, repeats: int) -> float:
    """Median seconds of the baseline's run at ``worlds`` worlds x ``days`` days, numpy path, no trajectories."""
    from sim.engine import compiled
    from sim.engine.model import CeasefireModel
    from sim.spec.scenario import load_scenario

    scenario = load_scenario("baseline").model_copy(update={"horizon_days": days})
    times = []
    with compiled.numpy_only():
        CeasefireModel(scenario, 50, rng=0, record_trajectories=False).run()  # warm-up
        for seed in range(repeats):
            start = time.perf_counter()
            CeasefireModel(scenario, worlds, rng=seed, record_trajectories=False).run()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", type=int, default=2000, help="worlds of the timed runs (default 2000)")
    parser.add_argument("--days", type=int, default=730, help="days of the timed runs (default 730)")
    parser.add_argument("--samples", type=int, default=1_000_000,
                        help="arguments compared per function (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats, medians reported (default 7)")
    args = parser.parse_args(argv)
    if min(args.worlds, args.days, args.samples, args.repeats) < 1:
        parser.error("--worlds, --days, --samples and --repeats must be at least 1")
    try:
        import numba
    except ImportError:
        print("error: numba is not installed: pip install '.[fast]'", file=sys.stderr)
        return 2
    print(f"1. numba {numba.__version__} against numpy {np.__version__}, {args.samples:,} arguments each: "
          "share of results that differ in any bit")
    shares = mismatch_shares(args.samples)
    for label, share in shares.items():
        print(f"   {label:<52} {share:8.2%}")
    if shares.pop(CONTROL) != 0.0:
        print("error: numba and numpy differ even in the square root: the comparison is broken", file=sys.stderr)
        return 1
    identical = all(share == 0.0 for share in shares.values())
    print(f"   a whole day compiled bit for bit: {'possible' if identical else 'not possible'} on this machine")
    kept = transcendental_seconds(args.worlds, args.days, args.repeats)
    whole = engine_seconds(args.worlds, args.days, args.repeats)
    floor = engine_seconds(20, args.days, args.repeats)
    print(f"2. {args.worlds:,} worlds x {args.days} days, medians of {args.repeats}: the engine (numpy) {whole:.3f} s; "
          f"its transcendental numpy calls alone {kept:.3f} s ({kept / whole:.0%} of it)")
    print(f"3. the same run at 20 worlds: {floor:.3f} s ({floor / whole:.0%} of the run at {args.worlds:,} worlds)")
    print(describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
