"""Benchmark: how much common random numbers (CRN) shrink the standard error of a difference between
neighbouring sweep points.

For neighbouring points of the bundled sweeps (``troops_vs_monitoring``: troops 3,000 apart and US
detection 0.05 apart, at both ends of each axis and near the baseline; ``coalition_troops``: 5,000
troops apart) and for two outcomes over all worlds, P(holding at day 365) (``p_hold_365`` of
``sweep.csv``: a deal was agreed and ``breakdown_day`` is empty or > 365) and P(deal) (``p_agreed``),
it measures the standard error (SE) of the difference p1 - p2 two ways:

* analytic, from one run of ``--worlds`` worlds per point: paired, ``sd(x_i - y_i) / sqrt(n)`` over
  worlds ``i`` run with CRN (stream ``()``, as ``ceasefire sweep``), where x and y are the worlds'
  0/1 outcomes at the two points; unpaired, ``sqrt(p1 (1 - p1) / n + p2 (1 - p2) / n)`` with the
  p's from a run with independent streams (stream ``(point,)``, as ``--independent-streams``). Their
  ratio has a 95 % bootstrap interval (worlds resampled; ``--resamples``).
* empirical, over ``--seeds`` seeds of ``--seed-worlds`` worlds each: the standard deviation across
  seeds of the difference, with CRN and with independent streams; their ratio has a 95 % interval
  from the F distribution (ratio of two sample variances of K - 1 degrees of freedom each; it
  assumes the differences are roughly normal, true at a few hundred discordant worlds or more).

The outcomes at day 365 do not depend on the horizon (a world's draws are addressed by day), so the
points run to ``--horizon`` 365 days by default. Prints a markdown table; not a test.

    PYTHONPATH=. python benchmarks/paired_se.py            # about 3 minutes on 2 cores
    PYTHONPATH=. python benchmarks/paired_se.py --seeds 5 --seed-worlds 500 --worlds 1000   # quick
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from sim.core.errors import InputError  # noqa: E402
from sim.engine.packing import PACK_WORLDS, run_packed  # noqa: E402
from sim.engine.runner import local_executor  # noqa: E402
from sim.experiments.sweep.design import Sweep, load_sweep, point_stream  # noqa: E402
from sim.spec.scenario import Scenario  # noqa: E402

SWEEPS = ROOT / "scenarios" / "sweeps"
HOLD_DAY = 365
"""P(holding) is read at the end of this day (``p_hold_365``)."""

OUTCOMES: tuple[str, ...] = ("p_hold_365", "p_agreed")
LEVEL = 0.95
"""Two-sided level of every interval printed."""

@dataclass(frozen=True)
class Pair:
    """Two neighbouring points of a bundled sweep, by their axis values."""

    label: str
    sweep: str  # file name in scenarios/sweeps
    first: tuple[float, ...]  # axis values, in the sweep's axis order
    second: tuple[float, ...]


PAIRS: tuple[Pair, ...] = (
    Pair("troops 0 → 3k, detection 0.70", "troops_vs_monitoring.yaml", (0, 0.70), (3000, 0.70)),
    Pair("troops 18k → 21k, detection 0.70 (baseline)", "troops_vs_monitoring.yaml", (18000, 0.70), (21000, 0.70)),
    Pair("troops 57k → 60k, detection 0.70", "troops_vs_monitoring.yaml", (57000, 0.70), (60000, 0.70)),
    Pair("detection 0.00 → 0.05, troops 21k", "troops_vs_monitoring.yaml", (21000, 0.0), (21000, 0.05)),
    Pair("detection 0.65 → 0.70, troops 21k (baseline)", "troops_vs_monitoring.yaml", (21000, 0.65), (21000, 0.70)),
    Pair("detection 0.95 → 1.00, troops 21k", "troops_vs_monitoring.yaml", (21000, 0.95), (21000, 1.0)),
    Pair("coalition 0 → 5k", "coalition_troops.yaml", (0,), (5000,)),
    Pair("coalition 15k → 20k (baseline)", "coalition_troops.yaml", (15000,), (20000,)),
    Pair("coalition 20k → 25k (baseline)", "coalition_troops.yaml", (20000,), (25000,)),
    Pair("coalition 55k → 60k", "coalition_troops.yaml", (55000,), (60000,)),
)
"""The neighbours measured: baseline is 20,000 troops and detection 0.7 (``scenarios/baseline.yaml``)."""


# --------------------------------------------------------------------------- statistics


def outcome_of(runs: pd.DataFrame, outcome: str, hold_day: int = HOLD_DAY) -> np.ndarray:
    """Each world's 0/1 outcome (bool array, one per row of ``runs``).

    ``p_hold_365``: agreed and not broken down by the end of ``hold_day`` (``breakdown_day`` empty or
    > ``hold_day``), as ``sim.stats.metrics.holding_counts``; ``p_agreed``: agreed.
    """
    agreed = runs["agreed"].to_numpy(dtype=bool)
    if outcome == "p_agreed":
        return agreed
    if outcome == "p_hold_365":
        breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
        return agreed & ~(breakdown <= hold_day)
    raise ValueError(f"unknown outcome {outcome!r} (one of {', '.join(OUTCOMES)})")


def paired_se(x: np.ndarray, y: np.ndarray) -> float:
    """SE of mean(x) - mean(y) from paired worlds: ``sd(x_i - y_i) / sqrt(n)`` (sample SD, n >= 2)."""
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    return float(np.std(d, ddof=1) / math.sqrt(d.size))


def unpaired_se(p1: float, n1: int, p2: float, n2: int) -> float:
    """SE of p1 - p2 from independent samples: ``sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)``."""
    return math.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)


def se_ratio(x: np.ndarray, y: np.ndarray, x_independent: np.ndarray, y_independent: np.ndarray) -> float:
    """Unpaired SE (from the independent worlds) over paired SE (from the CRN worlds); inf if the paired
    differences are all equal (e.g. a parameter that cannot change the outcome)."""
    paired = paired_se(x, y)
    unpaired = unpaired_se(float(np.mean(x_independent)), x_independent.size,
                           float(np.mean(y_independent)), y_independent.size)
    return unpaired / paired if paired > 0 else math.inf


def bootstrap_ratios(x: np.ndarray, y: np.ndarray, x_independent: np.ndarray, y_independent: np.ndarray,
                     resamples: int, seed: int) -> np.ndarray:
    """:func:`se_ratio` over ``resamples`` bootstrap resamples of the worlds (the CRN worlds resampled as
    pairs, each independent run on its own): inf where a resample has no discordant pair.

    The worlds are 0/1, so a resample is a multinomial draw of the four cells (x, y) of the CRN pairs and
    a binomial draw of each independent count: the same distribution as resampling rows, and cheap.
    """
    rng = np.random.default_rng(seed)
    x, y = np.asarray(x, dtype=bool), np.asarray(y, dtype=bool)
    n = x.size
    cells = np.array([np.sum(x & ~y), np.sum(~x & y), np.sum(x == y)], dtype=float) / n
    counts = rng.multinomial(n, cells, size=resamples)
    n10, n01 = counts[:, 0].astype(float), counts[:, 1].astype(float)
    mean = (n10 - n01) / n
    variance = np.maximum((n10 + n01 - n * mean**2) / (n - 1), 0.0)  # sample variance of d in {-1, 0, 1}
    paired = np.sqrt(variance / n)
    n1, n2 = x_independent.size, y_independent.size
    p1 = rng.binomial(n1, np.mean(x_independent), size=resamples) / n1
    p2 = rng.binomial(n2, np.mean(y_independent), size=resamples) / n2
    unpaired = np.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(paired > 0, unpaired / np.where(paired > 0, paired, 1.0), math.inf)


def bootstrap_interval(ratios: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of bootstrap ratios, two-sided at ``level`` (no interpolation, so inf is kept)."""
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail], method="inverted_cdf")
    return float(low), float(high)


def sd_ratio_interval(sd_numerator: float, k_numerator: int, sd_denominator: float, k_denominator: int,
                      level: float = LEVEL) -> tuple[float, float, float]:
    """A ratio of two sample SDs and its interval from the F distribution.

    With normal samples, ``(s1² / σ1²) / (s2² / σ2²)`` is F(k1 - 1, k2 - 1), so ``σ1 / σ2`` lies in
    ``sqrt(F_obs / F_{1-a/2})`` .. ``sqrt(F_obs / F_{a/2})`` at level ``1 - a`` (``F_obs = s1² / s2²``).

    Returns:
        (ratio, low, high); all inf when ``sd_denominator`` is 0.
    """
    if sd_denominator <= 0:
        return math.inf, math.inf, math.inf
    observed = (sd_numerator / sd_denominator) ** 2
    d1, d2 = k_numerator - 1, k_denominator - 1
    tail = (1.0 - level) / 2.0
    low = observed / stats.f.ppf(1.0 - tail, d1, d2)
    high = observed / stats.f.ppf(tail, d1, d2)
    return math.sqrt(observed), math.sqrt(low), math.sqrt(high)


# --------------------------------------------------------------------------- running


def point_index(sweep: Sweep, values: Sequence[float]) -> int:
    """The index of the point of ``sweep`` with these axis values.

    Raises:
        InputError: no point has them.
    """
    matches = np.nonzero(np.all(np.isclose(sweep.points, np.asarray(values, dtype=float)), axis=1))[0]
    if matches.size != 1:
        raise InputError(f"{sweep.source}: no point at {dict(zip(sweep.axis_names, values, strict=True))}")
    return int(matches[0])


def load(name: str, worlds: int, horizon: int, seed: int | None = None) -> Sweep:
    """A bundled sweep with ``worlds`` worlds per point, ``horizon`` days and (if given) ``seed``."""
    settings = {"replications": worlds, "horizon_days": horizon}
    if seed is not None:
        settings["seed"] = seed
    return load_sweep(SWEEPS / name, settings)


Job = tuple[Scenario, tuple[int, ...]]


def outcomes_of_jobs(jobs: Sequence[Job]) -> list[dict[str, np.ndarray]]:
    """Run each (scenario, stream key), packed, in this process; each world's 0/1 outcomes, one
    ``{outcome: array}`` per job."""
    parts = run_packed([scenario for scenario, _ in jobs], [stream for _, stream in jobs])
    return [{outcome: outcome_of(runs, outcome) for outcome in OUTCOMES} for runs in parts]


def run_outcomes(jobs: Sequence[Job], workers: int) -> list[dict[str, np.ndarray]]:
    """:func:`outcomes_of_jobs` of all ``jobs``, cut into tasks of about ``PACK_WORLDS`` worlds run on
    ``workers`` local processes (only the 0/1 arrays come back, so memory stays small)."""
    tasks: list[list[Job]] = [[]]
    for job in jobs:
        if tasks[-1] and sum(scenario.replications for scenario, _ in tasks[-1]) + job[0].replications > PACK_WORLDS:
            tasks.append([])
        tasks[-1].append(job)
    if workers <= 1 or len(tasks) <= 1:
        return [result for task in tasks for result in outcomes_of_jobs(task)]
    with local_executor(min(workers, len(tasks))) as executor:
        done = list(executor.map(outcomes_of_jobs, tasks))
    return [result for results in done for result in results]


@dataclass
class Measured:
    """The figures of one pair and outcome (SEs in probability units)."""

    pair: Pair
    outcome: str
    p1: float
    p2: float
    se_unpaired: float
    se_paired: float
    ratio: float
    ratio_low: float
    ratio_high: float
    sd_independent: float
    sd_crn: float
    empirical: float
    empirical_low: float
    empirical_high: float


def measure(pairs: Sequence[Pair], worlds: int, seeds: int, seed_worlds: int, horizon: int, workers: int,
            resamples: int, log: bool = True) -> list[Measured]:
    """Run both measurements (see the module docstring) for every pair and outcome."""
    files = sorted({pair.sweep for pair in pairs})
    base = {name: load(name, worlds, horizon) for name in files}
    points = sorted({(pair.sweep, point_index(base[pair.sweep], values))
                     for pair in pairs for values in (pair.first, pair.second)})
    crn = {point: position for position, point in enumerate(points)}

    def jobs_for(sweeps: dict[str, Sweep]) -> list[Job]:
        return ([(sweeps[name].scenario_at(i), point_stream(i, True)) for name, i in points]
                + [(sweeps[name].scenario_at(i), point_stream(i, False)) for name, i in points])

    clock = time.perf_counter()
    analytic = run_outcomes(jobs_for(base), workers)
    if log:
        print(f"[{len(points)} points x {worlds:,} worlds, CRN and independent: {time.perf_counter() - clock:.0f} s]",
              file=sys.stderr)
    base_seeds = {name: sweep.base.seed for name, sweep in base.items()}
    clock = time.perf_counter()
    jobs: list[Job] = []
    for k in range(seeds):  # seeds seed + 1 .. seed + K: disjoint from the analytic run's worlds
        jobs += jobs_for({name: load(name, seed_worlds, horizon, base_seeds[name] + 1 + k) for name in files})
    flat = run_outcomes(jobs, workers)
    across = [flat[k * 2 * len(points):(k + 1) * 2 * len(points)] for k in range(seeds)]  # [seed][job]
    if log:
        print(f"[{seeds} seeds x {len(points)} points x {seed_worlds:,} worlds, CRN and independent: "
              f"{time.perf_counter() - clock:.0f} s]", file=sys.stderr)

    results = []
    for number, pair in enumerate(pairs):
        a = crn[(pair.sweep, point_index(base[pair.sweep], pair.first))]
        b = crn[(pair.sweep, point_index(base[pair.sweep], pair.second))]
        ai, bi = a + len(points), b + len(points)
        for outcome in OUTCOMES:
            x, y = analytic[a][outcome], analytic[b][outcome]
            xi, yi = analytic[ai][outcome], analytic[bi][outcome]
            p1, p2 = float(np.mean(xi)), float(np.mean(yi))
            ratios = bootstrap_ratios(x, y, xi, yi, resamples, seed=number)
            low, high = bootstrap_interval(ratios)
            d_crn = [float(np.mean(s[a][outcome]) - np.mean(s[b][outcome])) for s in across]
            d_ind = [float(np.mean(s[ai][outcome]) - np.mean(s[bi][outcome])) for s in across]
            sd_crn, sd_ind = float(np.std(d_crn, ddof=1)), float(np.std(d_ind, ddof=1))
            empirical = sd_ratio_interval(sd_ind, seeds, sd_crn, seeds)
            results.append(Measured(pair, outcome, p1, p2, unpaired_se(p1, xi.size, p2, yi.size), paired_se(x, y),
                                    se_ratio(x, y, xi, yi), low, high, sd_ind, sd_crn, *empirical))
    return results


# --------------------------------------------------------------------------- table


def _ratio(value: float, low: float, high: float) -> str:
    if math.isinf(value):
        return "∞ (identical in every world)"
    shown_high = "∞" if math.isinf(high) else f"{high:.1f}"
    return f"{value:.1f} [{low:.1f}, {shown_high}]"


def table(results: Sequence[Measured], worlds: int, seeds: int, seed_worlds: int) -> str:
    """The markdown table of :func:`measure`'s results."""
    lines = [
        f"| pair | outcome | p1 | p2 | SE unpaired (n = {worlds:,}) | SE paired (n = {worlds:,}) "
        f"| ratio [95 % bootstrap CI] | SD across {seeds} seeds, independent (n = {seed_worlds:,}) "
        f"| SD across seeds, CRN | empirical ratio [95 % F CI] |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        lines.append(
            f"| {m.pair.label} | {m.outcome} | {m.p1:.3f} | {m.p2:.3f} | {m.se_unpaired:.4f} | {m.se_paired:.4f} "
            f"| {_ratio(m.ratio, m.ratio_low, m.ratio_high)} | {m.sd_independent:.4f} | {m.sd_crn:.4f} "
            f"| {_ratio(m.empirical, m.empirical_low, m.empirical_high)} |")
    return "\n".join(lines)


def verdict(results: Sequence[Measured], target: float = 2.0) -> str:
    """One line per outcome: the smallest analytic and empirical ratios and the pairs below ``target``."""
    lines = []
    for outcome in OUTCOMES:
        rows = [m for m in results if m.outcome == outcome]
        low = min(rows, key=lambda m: m.ratio)
        low_empirical = min(rows, key=lambda m: m.empirical)
        below = [m.pair.label for m in rows if m.ratio < target or m.empirical < target]
        lines.append(f"{outcome}: smallest ratio {low.ratio:.1f} ({low.pair.label}), smallest empirical ratio "
                     f"{low_empirical.empirical:.1f} ({low_empirical.pair.label}); below {target:g}: "
                     f"{'; '.join(below) if below else 'none'}")
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (project convention)
        self.exit(2, f"error: {message}\n")


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum} (got {value})")
        return value
    return parse


def main(argv: Sequence[str] | None = None) -> None:
    parser = _Parser(description="Standard error of the difference between neighbouring sweep points: common "
                                 "random numbers (paired) against independent streams (unpaired).")
    parser.add_argument("--worlds", type=_at_least(2), default=4000,
                        help="worlds per point for the analytic SEs (default 4000)")
    parser.add_argument("--seeds", type=_at_least(3), default=20,
                        help="seeds for the across-seed SDs (default 20)")
    parser.add_argument("--seed-worlds", type=_at_least(2), default=1000,
                        help="worlds per point and seed for the across-seed SDs (default 1000)")
    parser.add_argument("--horizon", type=_at_least(HOLD_DAY), default=HOLD_DAY,
                        help=f"days simulated (>= {HOLD_DAY}; default {HOLD_DAY})")
    parser.add_argument("--workers", type=_at_least(1), default=2, help="local processes (default 2)")
    parser.add_argument("--resamples", type=_at_least(100), default=10_000,
                        help="bootstrap resamples for the ratio's interval (default 10000)")
    args = parser.parse_args(argv)
    try:
        results = measure(PAIRS, args.worlds, args.seeds, args.seed_worlds, args.horizon, args.workers,
                          args.resamples)
    except InputError as exc:
        parser.exit(2, f"error: {exc}\n")
    print(f"Settings: --worlds {args.worlds} --seeds {args.seeds} --seed-worlds {args.seed_worlds} "
          f"--horizon {args.horizon}; ratio = SE unpaired / SE paired, empirical ratio = SD independent / SD CRN.\n")
    print(table(results, args.worlds, args.seeds, args.seed_worlds))
    print()
    print(verdict(results))


if __name__ == "__main__":
    main()
