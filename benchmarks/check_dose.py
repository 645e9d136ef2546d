"""Check (issue 22, "Dose"): a handful of soldiers buys a handful of effect, in every structure.

Troops split equally between the UK and France: 0, 100, 500, 1,000, 2,500, 5,000 and 10,000, with
``--worlds`` worlds each (common random numbers: the same world keys at every troop level), in the
default structure and in each structural variant the bet uses (each non-default form of one mechanism
alone, ``sim.experiments.bet``'s list). For each it reports P(deal) and P(hold 1 y) (a deal agreed and
holding on day 365, over all worlds), the largest step between adjacent troop levels (target: at most
0.10) and the step from 0 to 100 troops (target: at most 0.03) with its paired 95 % interval (the same
worlds at both levels: mean of the per-world differences +- 1.96 standard errors), and whether both targets
are met by the estimates. The
presence form ``switch`` is the second version's first-soldier switch, kept as a rival: it is expected
to miss the 0 -> 100 target, and is marked so. Prints a markdown table; ``--csv`` also writes it.

    PYTHONPATH=. python benchmarks/check_dose.py                  # 4,000 worlds: about 3 minutes
    PYTHONPATH=. python benchmarks/check_dose.py --worlds 500     # quick
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.engine.model import CeasefireModel
from sim.mechanisms import DEFAULT_STRUCTURE, MECHANISMS
from sim.spec.scenario import load_scenario

TROOPS = (0, 100, 500, 1000, 2500, 5000, 10_000)
MAX_STEP = 0.10
MAX_FIRST_STEP = 0.03


def structures() -> list[tuple[str, dict[str, str]]]:
    """The default structure and each non-default form of one mechanism alone."""
    found = [("default", {})]
    for name, mechanism in MECHANISMS.items():
        found += [(f"{name}={form}", {f"structure.{name}": form}) for form in mechanism.forms
                  if form != DEFAULT_STRUCTURE[name]]
    return found


def measure(structure: dict[str, str], worlds: int, seed: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """P(deal) and P(hold 1 y) at each troop level for one structure, and per outcome the per-world
    differences between 100 troops and none (1, 0 or -1 in each world)."""
    rows, first = [], {}
    for troops in TROOPS:
        scenario = load_scenario("baseline", {**structure, "horizon_days": 365, "agents.UK.troops": troops / 2,
                                              "agents.FR.troops": troops / 2})
        model = CeasefireModel(scenario, worlds, rng=seed, record_trajectories=False).run()
        holding = model.agreed & ((model.breakdown_day < 0) | (model.breakdown_day > 365))
        rows.append({"troops": troops, "p_deal": model.agreed.mean(), "p_hold_365": holding.mean()})
        if troops in (0, 100):
            first[troops] = {"p_deal": model.agreed.astype(float), "p_hold_365": holding.astype(float)}
        model.release()
    differences = {outcome: first[100][outcome] - first[0][outcome] for outcome in ("p_deal", "p_hold_365")}
    return pd.DataFrame(rows), differences


def paired_interval(differences: np.ndarray) -> tuple[float, float]:
    """95 % normal interval of the mean of per-world paired differences (n >= 2)."""
    mean = float(differences.mean())
    half = 1.96 * float(differences.std(ddof=1)) / np.sqrt(differences.size)
    return mean - half, mean + half


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=4000, help="worlds per troop level (default 4000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the world keys (default 1)")
    parser.add_argument("--csv", type=Path, help="also write the table to this CSV file")
    args = parser.parse_args(argv)
    if args.worlds < 2:
        parser.error("--worlds must be at least 2")
    started, rows = time.perf_counter(), []
    print("| structure | outcome | " + " | ".join(f"{t:,}" for t in TROOPS)
          + " | max step | 0->100 | 0->100, 95 % | met |")
    print("|---|---|" + "---|" * (len(TROOPS) + 4))
    for label, structure in structures():
        table, differences = measure(structure, args.worlds, args.seed)
        for outcome in ("p_deal", "p_hold_365"):
            values = table[outcome].to_numpy()
            steps = np.abs(np.diff(values))
            met = steps.max() <= MAX_STEP and steps[0] <= MAX_FIRST_STEP
            note = " (v2 switch, by design)" if label == "presence=switch" and not met else ""
            by_troops = {str(t): v for t, v in zip(TROOPS, values, strict=True)}
            low, high = paired_interval(differences[outcome])
            rows.append({"structure": label, "outcome": outcome, **by_troops, "max_step": steps.max(),
                         "first_step": steps[0], "first_step_low": low, "first_step_high": high, "met": met})
            print(f"| {label} | {outcome} | " + " | ".join(f"{v:.3f}" for v in values)
                  + f" | {steps.max():.3f} | {steps[0]:.3f} | [{low:+.4f}, {high:+.4f}] | "
                  + f"{'yes' if met else 'NO' + note} |", flush=True)
    if args.csv:
        pd.DataFrame(rows).to_csv(args.csv, index=False)
    print(f"\n{args.worlds:,} worlds per level, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
