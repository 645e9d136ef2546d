"""Global sensitivity (``ceasefire screen``): design over the priors, structural mapping, analysis, command line.

Small sizes (50 worlds, 60 days, a few trajectories) keep the file well under 30 seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim.cli.main
from sim.cli.screen import add_screen_commands
from sim.core.errors import InputError
from sim.experiments.screening import (
    MORRIS_COLUMNS,
    OUTPUTS,
    SOBOL_COLUMNS,
    Factor,
    base_document,
    morris_design,
    point_scenario,
    prior_factors,
    run_screening,
    structure_factors,
)
from sim.mechanisms import REGISTRY
from sim.spec.sources import Prior, priors
from tests.conftest import BASELINE

ROOT = Path(__file__).resolve().parent.parent

TINY = {"replications": 50, "horizon": 60, "seed": 7}


def factor_(name: str, distribution: str, low: float | None = None, high: float | None = None,
           p: float | None = None) -> Factor:
    """A factor over a prior made up for the test."""
    return Factor(name, Prior(distribution=distribution, low=low, high=high, p=p, reason="a test"))


def _parser_with_screen() -> argparse.ArgumentParser:
    """``sim.cli.main``'s parser, with ``screen`` added if the hook in build_parser is not there yet."""
    parser = ORIGINAL_BUILD_PARSER()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "screen" not in commands.choices:
        add_screen_commands(commands)
    return parser


ORIGINAL_BUILD_PARSER = sim.cli.main.build_parser


def run_cli(*args: object) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.cli.main, "build_parser", _parser_with_screen)
        return sim.cli.main.main([str(a) for a in args])


def test_design_covers_every_prior_parameter_within_its_range() -> None:
    factors = prior_factors()
    expected = priors()
    assert [f.name for f in factors] == list(expected)
    design = morris_design(factors, 4, seed=3)
    assert design.shape == (4 * (len(factors) + 1), len(factors))
    for j, factor in enumerate(factors):
        prior = expected[factor.name]
        values = [factor.value(u) for u in design[:, j]]
        assert all(prior.contains(v) for v in values), factor.name
        if prior.distribution == "integer_uniform":
            assert all(type(v) is int for v in values), factor.name
        if prior.distribution == "bernoulli":
            assert all(type(v) is bool for v in values), factor.name


def test_every_design_point_is_a_valid_scenario() -> None:
    factors = prior_factors()
    document = base_document(BASELINE, **TINY)
    design = morris_design(factors, 2, seed=5)
    column = [f.name for f in factors].index("agents.RU.war_cost")
    for row in design[:: len(factors) // 4]:
        scenario = point_scenario(document, factors, row)
        assert scenario.agents.RU.war_cost == factors[column].value(row[column])


def test_loguniform_is_uniform_in_log_space_and_stays_within_bounds() -> None:
    factor = factor_("x", "loguniform", 0.001, 0.1)
    assert factor.value(0.0) == 0.001 and factor.value(1.0) == 0.1
    assert factor.value(0.5) == pytest.approx(0.01)


def test_integer_prior_gives_each_whole_number_equal_weight() -> None:
    factor = factor_("x", "integer_uniform", 1, 4)
    values = [factor.value(u) for u in np.linspace(0, 1, 4001)]
    counts = np.bincount(values)[1:]
    assert set(values) == {1, 2, 3, 4}
    assert counts.max() - counts.min() <= 2


def test_bernoulli_is_true_with_probability_p() -> None:
    factor = factor_("x", "bernoulli", p=0.2)
    values = [factor.value(u) for u in np.linspace(0, 1, 10001)]
    assert np.mean(values) == pytest.approx(0.2, abs=0.001)
    assert factor.value(1.0) is True and factor.value(0.0) is False


def test_structure_mapping_reaches_every_form_with_equal_weight() -> None:
    factors = structure_factors()
    assert [f.name.removeprefix("structure.") for f in factors] == list(REGISTRY)
    for factor in factors:
        values = [factor.value(u) for u in np.linspace(0, 1, 6001)]
        forms = list(REGISTRY[factor.name.removeprefix("structure.")])
        assert set(values) == set(forms), factor.name
        shares = [values.count(form) / len(values) for form in forms]
        assert max(shares) - min(shares) < 0.01, factor.name


def test_toy_function_ranks_its_important_factor_first() -> None:
    factors = [factor_(f"x{i}", "uniform", 0.0, 1.0) for i in range(6)]

    def evaluate(rows: np.ndarray) -> np.ndarray:
        y = 5.0 * rows[:, 3] + 0.5 * rows[:, 0] + 0.05 * rows[:, 5]
        return np.column_stack([y, rows[:, 1], y])

    result = run_screening(BASELINE, trajectories=8, sobol_samples=0, evaluate=evaluate, factors=factors, **TINY)
    first = result.morris[result.morris["output"] == OUTPUTS[0]]
    assert list(first["parameter"][:3]) == ["x3", "x0", "x5"]
    assert first.iloc[0]["mu_star"] == pytest.approx(5.0)
    second = result.morris[result.morris["output"] == OUTPUTS[1]]
    assert second.iloc[0]["parameter"] == "x1"
    assert result.top[0] == "x3"


def test_toy_sobol_gives_the_first_factor_its_variance() -> None:
    factors = [factor_(f"x{i}", "uniform", 0.0, 1.0) for i in range(3)]

    def evaluate(rows: np.ndarray) -> np.ndarray:
        y = rows[:, 0] if rows.shape[1] == len(factors) else 4.0 * rows[:, 0] + 0.1 * rows[:, -1]
        return np.column_stack([y, y, y])

    # 256 base samples: with version 3's twelve structure factors beside the three, 64 leave the estimate of
    # the first factor's ST at 0.62 (a sampling error of the estimator, not of the screening)
    result = run_screening(BASELINE, trajectories=4, sobol_samples=256, evaluate=evaluate, factors=factors, **TINY)
    table = result.sobol[result.sobol["output"] == OUTPUTS[0]].set_index("factor")
    assert list(result.sobol.columns) == list(SOBOL_COLUMNS)
    assert table.loc[result.top[0], "ST"] > 0.9
    assert table.loc["structure.objection", "ST"] < 0.05
    # the last column, the last structure factor, carries 0.1^2 / (4^2 + 0.1^2) of the variance (both uniform)
    last = f"structure.{list(REGISTRY)[-1]}"
    assert table.loc[last, "ST"] == pytest.approx(0.01 / 16.01, rel=0.2)


def test_tiny_model_screening_returns_every_column_and_common_numbers_null_out_unread_parameters() -> None:
    by_name = {f.name: f for f in prior_factors()}
    factors = [by_name["agents.RU.war_cost"], by_name["agents.DE.permanent_bases"],
               # the model never reads US troops: with common random numbers its effect must be exactly 0
               factor_("agents.US.troops", "uniform", 0.0, 5000.0)]
    result = run_screening(BASELINE, trajectories=3, sobol_samples=2, factors=factors, **TINY)
    assert list(result.morris.columns) == list(MORRIS_COLUMNS)
    assert set(result.morris["output"]) == set(OUTPUTS)
    unread = result.morris[result.morris["parameter"] == "agents.US.troops"]
    assert (unread["mu_star"].dropna() == 0).all()
    assert result.morris_points[list(OUTPUTS[:2])].stack().between(0, 1).all()
    assert len(result.sobol_points) == 2 * (len(factors) + len(REGISTRY) + 2)
    assert set(result.sobol["kind"]) == {"parameter", "structure"}
    assert (result.noise_sd[:2] > 0).all()


@pytest.mark.parametrize("flag, value", [("--trajectories", 1), ("--sobol-samples", 100), ("--replications", 0),
                                         ("--workers", 0), ("--horizon", 0)])
def test_bad_size_exits_2_with_one_line_and_writes_nothing(flag: str, value: int, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run_cli("screen", flag, value, "--out", out, "--quiet") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and flag in err
    assert not out.exists()


def test_missing_scenario_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("screen", "--scenario", tmp_path / "nope.yaml", "--out", tmp_path / "out", "--quiet") == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_cli_writes_morris_files_and_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "screen"
    assert run_cli("screen", "--trajectories", 2, "--replications", 20, "--horizon", 30, "--sobol-samples", 0,
                   "--out", out, "--quiet") == 0
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "morris.csv", "morris.png",
                                                      "morris_points.csv"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command"] == "screen" and "kind" not in manifest and manifest["factors"] == len(priors())
    assert set(manifest["files"]) == {"morris.csv", "morris_points.csv", "morris.png"}
    assert manifest["hold_day"] == 30


def test_cli_folder_is_redrawn_from_its_tables(tmp_path: Path) -> None:
    from sim.outputs.artefacts import redraw

    out = tmp_path / "screen"
    assert run_cli("screen", "--trajectories", 2, "--replications", 20, "--horizon", 30, "--sobol-samples", 2,
                   "--out", out, "--quiet") == 0
    figures = ["morris.png", "sobol_top.png", "sobol_structure.png"]
    assert json.loads((out / "manifest.json").read_text())["figures"] == figures
    tables = {p.name: p.read_bytes() for p in out.glob("*.csv")}
    assert sorted(tables) == ["morris.csv", "morris_points.csv", "sobol.csv", "sobol_points.csv",
                              "variance_shares.csv"]
    (out / "morris.png").unlink()
    with pytest.raises(InputError, match="morris.png, listed in its manifest.json, is missing"):
        redraw(out)  # a folder changed since it was written is not redrawn
    assert run_cli("screen", "--trajectories", 2, "--replications", 20, "--horizon", 30, "--sobol-samples", 2,
                   "--out", out, "--quiet") == 2  # nor replaced
    (out / "manifest.json").unlink()
    for name in (*figures[1:], *tables):
        (out / name).unlink()
    assert run_cli("screen", "--trajectories", 2, "--replications", 20, "--horizon", 30, "--sobol-samples", 2,
                   "--out", out, "--quiet") == 0  # empty again: written afresh, the same tables
    assert {p.name: p.read_bytes() for p in out.glob("*.csv")} == tables
    assert redraw(out) == figures


def test_the_screening_and_the_sweeps_compute_without_matplotlib_or_the_outputs() -> None:
    code = ("import sys, sim.experiments.screening, sim.stats.sensitivity, sim.experiments.sweep.execute; "
            "assert 'matplotlib' not in sys.modules and 'sim.outputs' not in sys.modules, sorted(sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
