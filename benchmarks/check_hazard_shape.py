"""Check (issue 22, "Time"): the failure hazard among deals falls with the time a ceasefire has held.

For the baseline and ``no_european_troops`` (and any scenario named on the command line), ``--worlds``
worlds over a 3,650-day horizon: failures per year at risk among the worlds that agreed, in the bins of
Fortna's spell-level record (first 3 months, rest of year 1, year 2, year 3, years 4-5, years 6-10), with a
95 % interval for each rate (exact Poisson interval on the failure count over the exposure). Targets: the
rate in years 3-5 at most half that of year 1, in years 6-10 at most a third. The record's rates (printed
for comparison) were a design target of version 3's duration mechanism, never the peacekeeping spells.

    PYTHONPATH=. python benchmarks/check_hazard_shape.py                # 4,000 worlds: about a minute
    PYTHONPATH=. python benchmarks/check_hazard_shape.py --worlds 1000 minsk_like
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from scipy import stats

from sim.engine.model import CeasefireModel
from sim.spec.scenario import load_scenario

EDGES = (0, 91, 365, 730, 1095, 1825, 3650)
LABELS = ("0-3 mo", "3-12 mo", "y2", "y3", "y4-5", "y6-10")
RECORD = (0.59, 0.34, 0.13, 0.14, 0.07, 0.02)
"""Failures per year at risk in Fortna's post-Cold War civil-war ceasefire spells (../shared/data/README.md)."""


def failure_rates(breakdown_day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rate, failures, years at risk) per bin for worlds that agreed; ``breakdown_day`` < 0 means held."""
    ended = np.where(breakdown_day >= 0, breakdown_day, np.iinfo(np.int64).max)
    failures, exposure = [], []
    for start, end in zip(EDGES[:-1], EDGES[1:], strict=True):
        at_risk = ended > start
        exposure.append(float(np.clip(np.minimum(ended[at_risk], end) - start, 0, None).sum()) / 365.0)
        failures.append(int(((ended > start) & (ended <= end)).sum()))
    failures_a, exposure_a = np.array(failures), np.array(exposure)
    return failures_a / np.maximum(exposure_a, 1e-12), failures_a, exposure_a


def poisson_interval(count: int, exposure: float) -> tuple[float, float]:
    """Exact 95 % interval of a Poisson rate (Garwood)."""
    low = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return low / exposure, high / exposure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=["baseline", "no_european_troops"],
                        help="bundled scenario names or files (default: baseline no_european_troops)")
    parser.add_argument("--worlds", type=int, default=4000, help="worlds per scenario (default 4000)")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    args = parser.parse_args(argv)
    if args.worlds < 1:
        parser.error("--worlds must be at least 1")
    print("| scenario | " + " | ".join(LABELS) + " | y3-5 / y1 (<= 0.5) | y6-10 / y1 (<= 0.33) |")
    print("|---|" + "---|" * (len(LABELS) + 2))
    print("| Fortna's record | " + " | ".join(f"{r:.2f}" for r in RECORD) + " | | |")
    for name in args.scenarios:
        scenario = load_scenario(name, {"horizon_days": EDGES[-1]})
        model = CeasefireModel(scenario, args.worlds, rng=args.seed, record_trajectories=False).run()
        rate, failures, exposure = failure_rates(model.breakdown_day[model.agreed])
        year1 = (failures[0] + failures[1]) / (exposure[0] + exposure[1])
        years3_5 = (failures[3] + failures[4]) / (exposure[3] + exposure[4])
        intervals = [poisson_interval(int(c), float(e)) for c, e in zip(failures, exposure, strict=True)]
        cells = [f"{r:.3f} [{lo:.3f}, {hi:.3f}]" for r, (lo, hi) in zip(rate, intervals, strict=True)]
        first, second = years3_5 / year1, rate[5] / year1
        print(f"| {name} | " + " | ".join(cells) + f" | {first:.2f} {'met' if first <= 0.5 else 'MISSED'} | "
              f"{second:.2f} {'met' if second <= 1 / 3 else 'MISSED'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
