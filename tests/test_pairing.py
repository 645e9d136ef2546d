"""Common random numbers in sweeps: a CRN point runs the worlds of ``ceasefire run``, independent streams
run other worlds, and pairing shrinks the standard error of a neighbouring difference at least twofold.

The statistics are those of ``benchmarks/paired_se.py`` (imported from it), whose full measurement is in
docs/SWEEPS.md ("Common random numbers: measured").
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine.packing import run_packed
from sim.experiments.run import run_scenario
from sim.experiments.sweep.design import load_sweep, point_stream

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "scenarios" / "sweeps" / "troops_vs_monitoring.yaml"
NEIGHBOURS = ((18000.0, 0.70), (21000.0, 0.70))
"""Neighbours along the troops axis (3,000 apart) next to the baseline (20,000 troops, detection 0.7)."""


def _benchmark():
    """``benchmarks/paired_se.py`` as a module (it is a script, not part of the package)."""
    name = "paired_se_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "paired_se.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _neighbours(worlds: int):
    sweep = load_sweep(SWEEP, {"replications": worlds, "horizon_days": 365})
    bench = _benchmark()
    indices = [bench.point_index(sweep, values) for values in NEIGHBOURS]
    return indices, [sweep.scenario_at(i) for i in indices]


def test_a_crn_sweep_point_runs_the_worlds_of_ceasefire_run():
    """World r of a CRN sweep point (packed beside its neighbour) is world r of ``ceasefire run`` of the
    point's scenario: every column of every row is equal."""
    indices, scenarios = _neighbours(400)
    packed = run_packed(scenarios, [point_stream(i, True) for i in indices])
    for scenario, runs in zip(scenarios, packed, strict=True):
        alone = run_scenario(scenario, record_trajectories=False).runs
        pd.testing.assert_frame_equal(runs, alone)


def test_independent_streams_run_other_worlds():
    """With CRN both points share each world's intent (a day-0 draw no axis moves); with independent
    streams neither point shares it with the other nor with its CRN self.

    Intent is read in the gamma form of types (version 2's; version 3's two types take two values, which
    independent draws share half the time): Gamma (mean 1, variance 3) rounded to 6 decimals, two independent
    draws agree only if both fall below 5e-7, probability about (0.006)^2 < 1e-4 per world, so "under 1 % equal"
    cannot fail by chance (and "all equal" under CRN is exact)."""
    indices, scenarios = _neighbours(400)
    scenarios = [s.model_copy(update={"structure": s.structure.model_copy(update={"types": "gamma"})})
                 for s in scenarios]
    crn = run_packed(scenarios, [point_stream(i, True) for i in indices])
    independent = run_packed(scenarios, [point_stream(i, False) for i in indices])
    assert [point_stream(i, False) for i in indices] != [point_stream(i, True) for i in indices]
    np.testing.assert_array_equal(crn[0]["intent"], crn[1]["intent"])
    for first, second in ((independent[0], independent[1]), (independent[0], crn[0]), (independent[1], crn[1])):
        assert np.mean(first["intent"].to_numpy() == second["intent"].to_numpy()) < 0.01


def test_pairing_shrinks_the_se_of_a_neighbouring_difference_at_least_twofold():
    """P(holding at day 365), troops 18,000 vs 21,000 at detection 0.7, 2,000 worlds per point: the ratio
    unpaired SE (independent streams) / paired SE (CRN) has a one-sided 99 % bootstrap lower bound above 2.

    The bound accounts for the noise of both SEs (worlds resampled, 10,000 times), so if the true ratio
    were exactly 2 the test would pass by chance only about 1 % of the time. When written, the ratio was
    5.5 (29 discordant worlds of 2,000; bootstrap SD of log ratio 0.094, bound 4.6 = 0.8 x ratio): a false
    failure needs an estimate below 2.5, ln(5.5 / 2.5) / 0.094 = 8 SDs down, far below 1e-6. Independent
    streams passed off as paired give a ratio of 1.0 (bound 0.96), so the test fails if pairing is lost.
    """
    bench = _benchmark()
    indices, scenarios = _neighbours(2000)
    crn = run_packed(scenarios, [point_stream(i, True) for i in indices])
    independent = run_packed(scenarios, [point_stream(i, False) for i in indices])
    x, y = (bench.outcome_of(runs, "p_hold_365") for runs in crn)
    xi, yi = (bench.outcome_of(runs, "p_hold_365") for runs in independent)
    assert 0.05 < x.mean() < 0.95 and 0.05 < y.mean() < 0.95  # a proportion with room to vary on both sides
    ratio = bench.se_ratio(x, y, xi, yi)
    ratios = bench.bootstrap_ratios(x, y, xi, yi, resamples=10_000, seed=0)
    lower = float(np.quantile(ratios, 0.01, method="inverted_cdf"))
    assert lower > 2.0, f"SE ratio {ratio:.2f}, one-sided 99 % lower bound {lower:.2f}"


def test_the_ratio_statistics_on_known_worlds():
    """The benchmark's formulas against hand-computed cases: the statistics the test above relies on."""
    bench = _benchmark()
    x = np.array([1, 1, 0, 0, 1, 0, 1, 0], dtype=bool)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    d = x.astype(float) - y
    assert bench.paired_se(x, y) == pytest.approx(np.std(d, ddof=1) / math.sqrt(8))
    assert bench.unpaired_se(0.5, 100, 0.2, 400) == pytest.approx(math.sqrt(0.25 / 100 + 0.16 / 400))
    assert bench.se_ratio(x, x, x, y) == math.inf  # identical worlds: no paired noise at all
    # bootstrap of 0/1 pairs by cell counts: its mean paired variance matches resampling the rows
    rng = np.random.default_rng(1)
    big_x = rng.random(3000) < 0.6
    big_y = big_x ^ (rng.random(3000) < 0.05)
    ratios = bench.bootstrap_ratios(big_x, big_y, big_x, big_y, resamples=4000, seed=2)
    rows = rng.integers(0, 3000, size=(400, 3000))
    by_rows = [bench.se_ratio(big_x[r], big_y[r], big_x[r], big_y[r]) for r in rows]
    # medians of two bootstrap distributions of the same statistic (~150 discordant pairs: SD of the ratio
    # about 4 %); the row version's median has a sampling error of about 1.25 x 4 % / sqrt(400) = 0.25 %,
    # so 3 % is over ten of them
    assert np.median(ratios) == pytest.approx(np.median(by_rows), rel=0.03)
    # F interval of an SD ratio: contains the observed ratio, and at 20 + 20 samples spans a factor ~1.6 each way
    value, low, high = bench.sd_ratio_interval(3.0, 20, 1.0, 20)
    assert value == 3.0 and low < 3.0 < high
    assert high / value == pytest.approx(value / low) and 1.4 < high / value < 1.8
    assert bench.sd_ratio_interval(1.0, 20, 0.0, 20) == (math.inf, math.inf, math.inf)


def test_the_benchmark_prints_its_table_and_refuses_bad_input(capsys):
    """The script behind docs/SWEEPS.md runs end to end at a tiny size; bad input is one line, exit 2."""
    bench = _benchmark()
    bench.main(["--worlds", "60", "--seeds", "3", "--seed-worlds", "30", "--workers", "1", "--resamples", "200"])
    out = capsys.readouterr().out
    assert out.count("| p_hold_365 |") == len(bench.PAIRS) and out.count("| p_agreed |") == len(bench.PAIRS)
    assert "p_hold_365: smallest ratio" in out
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--horizon", "300"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--horizon" in err and "365" in err
