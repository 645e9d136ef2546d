"""Check (issue 22, "Germany's 'n'exclut rien' must matter"): do Germany's entry, timing and size change outcomes?

Each contrast moves one of Germany's parameters between two values with everything else at the baseline, in
``--worlds`` worlds with common random numbers (the same world keys), and reports the paired difference in
P(deal), P(hold 365 d) and P(hold 730 d) over all worlds with its 95 % interval (mean of the per-world
differences +- 1.96 standard errors). "Measurable" means the interval excludes 0.

    PYTHONPATH=. python benchmarks/check_germany.py              # 8,000 worlds: about 2 minutes
    PYTHONPATH=. python benchmarks/check_germany.py --coalition 5000   # a thin British and French force
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from sim.engine.model import CeasefireModel
from sim.spec.scenario import load_scenario

CONTRASTS = {
    "entry: deployment_probability 0 -> 1": ("agents.DE.deployment_probability", 0.0, 1.0),
    "timing: deployment_delay_days 720 -> 0": ("agents.DE.deployment_delay_days", 720, 0),
    "size: troops 0 -> 20,000": ("agents.DE.troops", 0.0, 20_000.0),
    "neighbouring troops 0 -> 20,000": ("agents.DE.neighbour_troops", 0.0, 20_000.0),
}
HORIZON = 730


def outcomes(overrides: dict[str, float], worlds: int, seed: int, coalition: float | None) -> dict[str, np.ndarray]:
    if coalition is not None:
        overrides = {**overrides, "agents.UK.troops": coalition / 2, "agents.FR.troops": coalition / 2}
    scenario = load_scenario("baseline", {**overrides, "horizon_days": HORIZON})
    model = CeasefireModel(scenario, worlds, rng=seed, record_trajectories=False).run()
    held = (model.breakdown_day < 0)
    return {"p_deal": model.agreed.astype(float),
            "p_hold_365": (model.agreed & (held | (model.breakdown_day > 365))).astype(float),
            "p_hold_730": (model.agreed & held).astype(float)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=8000, help="worlds per point (default 8000)")
    parser.add_argument("--seed", type=int, default=3, help="seed of the world keys (default 3)")
    parser.add_argument("--coalition", type=float, metavar="TROOPS",
                        help="British and French troops in all, half each (default: the baseline's 20,000)")
    args = parser.parse_args(argv)
    if args.worlds < 2:
        parser.error("--worlds must be at least 2")
    print("| contrast | P(deal) | P(hold 365) | P(hold 730) |")
    print("|---|---|---|---|")
    for label, (path, low, high) in CONTRASTS.items():
        before = outcomes({path: low}, args.worlds, args.seed, args.coalition)
        after = outcomes({path: high}, args.worlds, args.seed, args.coalition)
        cells = []
        for name in ("p_deal", "p_hold_365", "p_hold_730"):
            diff = after[name] - before[name]
            mean, se = diff.mean(), diff.std(ddof=1) / np.sqrt(diff.size)
            measurable = "measurable" if abs(mean) > 1.96 * se else "not measurable"
            cells.append(f"{mean:+.4f} [{mean - 1.96 * se:+.4f}, {mean + 1.96 * se:+.4f}] {measurable}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
