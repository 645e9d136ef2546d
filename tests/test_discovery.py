"""Scenario discovery (sim.stats.discovery): PRIM (EMA Workbench) and the tree fallback recover known boxes."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from sim.stats import discovery

N_FUTURES = 4000
PEEL_ALPHA = 0.05  # discover's default


@pytest.fixture(params=["prim", "tree"])
def method(request) -> str:
    if request.param == "prim":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # EMA Workbench: "ipyparallel not installed"
            pytest.importorskip("ema_workbench.analysis.prim")
    else:
        pytest.importorskip("sklearn")
    return request.param


def factors(seed: int, categorical: str = "structure") -> pd.DataFrame:
    """Three U(0, 1) parameters and one structural factor with three equally likely forms."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x1": rng.uniform(0, 1, N_FUTURES), "x2": rng.uniform(0, 1, N_FUTURES),
                         "x3": rng.uniform(0, 1, N_FUTURES), categorical: rng.choice(["a", "b", "c"], N_FUTURES)})


def limit_tolerance(width: float, mass: float) -> float:
    """How far a recovered limit may sit from the true one along an axis where the true box is ``width`` wide and
    holds a share ``mass`` of the futures (m = mass x N_FUTURES of them, uniform): PRIM's last peel on a face can
    overshoot by at most one peel, a slab holding PEEL_ALPHA of the box's futures (PEEL_ALPHA x width), and a limit
    sits on a sample point, at most the largest gap between the box's m points along the axis away (about
    width x ln(m) / m). The tree's split points (midpoints between neighbouring points of a node) fall within the
    same bound. n = 4000, box 0.3 x 0.3: m = 360, tolerance = 0.3 x (0.05 + 0.016) = 0.020."""
    m = mass * N_FUTURES
    return width * (PEEL_ALPHA + math.log(m) / m)


def limits(result: discovery.DiscoveryResult, box: int = 1) -> pd.DataFrame:
    return result.boxes[result.boxes["box"] == box].set_index("dimension")


def test_recovers_a_known_box(method):
    # Fails inside x1 in [0.2, 0.5] and x2 > 0.7, nowhere else: x3 and the structure are irrelevant.
    x = factors(seed=1)
    fails = ((x["x1"] >= 0.2) & (x["x1"] <= 0.5) & (x["x2"] > 0.7)).to_numpy()
    result = discovery.discover(x, fails, method=method)
    assert result.method.startswith("prim" if method == "prim" else "classification tree")
    assert len(result.summary) == 1
    box = limits(result)
    assert set(box.index) == {"x1", "x2"}
    tolerance = limit_tolerance(width=0.3, mass=0.3 * 0.3)
    assert box.loc["x1", "lower"] == pytest.approx(0.2, abs=tolerance)
    assert box.loc["x1", "upper"] == pytest.approx(0.5, abs=tolerance)
    assert box.loc["x2", "lower"] == pytest.approx(0.7, abs=tolerance)
    assert box.loc["x2", "lower_restricted"] and not box.loc["x2", "upper_restricted"]
    # The true box has coverage 1 and density 1; the chosen step is at most two peels away from it.
    summary = result.summary.iloc[0]
    assert summary["coverage"] >= 1 - 2 * PEEL_ALPHA
    assert summary["density"] >= 1 - 2 * PEEL_ALPHA
    assert summary["restricted"] == "x1, x2" and summary["n_restricted"] == 2


def test_trajectory_starts_from_all_futures_and_marks_the_chosen_step(method):
    x = factors(seed=2)
    fails = ((x["x1"] >= 0.2) & (x["x1"] <= 0.5) & (x["x2"] > 0.7)).to_numpy()
    result = discovery.discover(x, fails, method=method)
    trajectory = result.trajectory
    first = trajectory.iloc[0]
    assert first["coverage"] == 1.0 and first["mass"] == 1.0 and first["n"] == N_FUTURES
    assert first["density"] == pytest.approx(fails.mean())
    assert first["n_restricted"] == 0
    chosen = trajectory[trajectory["selected"]]
    assert len(chosen) == 1 and chosen["step"].iloc[0] == result.summary["step"].iloc[0]
    assert chosen["coverage"].iloc[0] == result.summary["coverage"].iloc[0]
    assert trajectory[["coverage", "density", "mass"]].stack().between(0, 1).all()


def test_recovers_a_categorical_restriction(method):
    # The structural factor is named "scenario", a column name that EMA Workbench would silently drop.
    x = factors(seed=3, categorical="scenario")
    fails = ((x["x1"] > 0.6) & x["scenario"].isin(["a", "b"])).to_numpy()
    result = discovery.discover(x, fails, method=method)
    box = limits(result)
    assert set(box.index) == {"x1", "scenario"}
    assert box.loc["scenario", "kind"] == "categorical"
    assert box.loc["scenario", "categories"] == ("a", "b")
    assert box.loc["x1", "lower"] == pytest.approx(0.6, abs=limit_tolerance(width=0.4, mass=0.4 * 2 / 3))
    assert result.summary["coverage"].iloc[0] >= 1 - 2 * PEEL_ALPHA
    assert result.summary["density"].iloc[0] >= 1 - 2 * PEEL_ALPHA


def test_recovers_the_box_under_label_noise(method):
    # 2% of the labels flipped. The true box then has density 1 - p = 0.98 and coverage
    # 0.09 (1 - p) / (0.09 (1 - p) + 0.91 p) = 0.829. About 420 futures fail, so the binomial standard error of a
    # coverage near 0.83 is about 0.018: 0.06 is more than 3 of them. Density may fall one or two peels short.
    flip = 0.02
    x = factors(seed=4)
    inside = ((x["x1"] >= 0.2) & (x["x1"] <= 0.5) & (x["x2"] > 0.7)).to_numpy()
    fails = inside ^ (np.random.default_rng(40).uniform(size=N_FUTURES) < flip)
    result = discovery.discover(x, fails, method=method)
    box = limits(result)
    assert set(box.index) == {"x1", "x2"}
    tolerance = limit_tolerance(width=0.3, mass=0.3 * 0.3)
    for name, bound, truth in [("x1", "lower", 0.2), ("x1", "upper", 0.5), ("x2", "lower", 0.7)]:
        assert box.loc[name, bound] == pytest.approx(truth, abs=tolerance)
    known_coverage = 0.09 * (1 - flip) / (0.09 * (1 - flip) + 0.91 * flip)
    assert result.summary["coverage"].iloc[0] == pytest.approx(known_coverage, abs=0.06)
    assert result.summary["density"].iloc[0] >= 1 - flip - 2 * PEEL_ALPHA


def test_no_region_gives_one_box_restricting_nothing(method):
    # Failures at random, independent of every factor: no box is denser than the whole space by more than noise.
    x = factors(seed=5)
    fails = np.random.default_rng(50).uniform(size=N_FUTURES) < 0.3
    result = discovery.discover(x, fails, method=method, n_boxes=3, mass_min=0.25)
    assert len(result.summary) >= 1
    assert result.summary["density"].max() < 0.3 + 0.06


def test_the_tree_covers_two_disjoint_regions_with_two_boxes():
    pytest.importorskip("sklearn")
    x = factors(seed=6)
    fails = (((x["x1"] < 0.3) & (x["x2"] < 0.4)) | ((x["x1"] > 0.7) & (x["x3"] > 0.6))).to_numpy()
    result = discovery.discover(x, fails, method="tree", n_boxes=3)
    assert set(result.summary["restricted"]) == {"x1, x2", "x1, x3"}
    assert result.summary["coverage"].sum() == pytest.approx(1.0, abs=0.03)
    assert (result.summary["density"] > 0.95).all()


def test_auto_falls_back_to_the_tree_without_ema_workbench(monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.setattr(discovery, "prim_available", lambda: False)
    x = factors(seed=7)
    fails = (x["x1"] > 0.5).to_numpy()
    assert discovery.discover(x, fails).method.startswith("classification tree")


def test_select_step_takes_the_best_f_score_then_fewest_dimensions():
    trajectory = pd.DataFrame({"coverage": [1.0, 0.9, 0.8, 0.8, 0.4],
                               "density": [0.1, 0.6, 0.9, 0.9, 1.0],
                               "n_restricted": [0, 1, 3, 2, 2]})
    # F1: 0.18, 0.72, 0.847, 0.847 (fewer dimensions: step 3), 0.571
    assert discovery.select_step(trajectory) == 3
    assert discovery.select_step(trajectory, beta=0.1) == 4  # density weighs 100 times as much as coverage
    assert discovery.select_step(trajectory, min_coverage=0.85) == 1


def test_bad_input_is_refused():
    x = factors(seed=8)
    with pytest.raises(ValueError, match="both failing and non-failing"):
        discovery.discover(x, np.zeros(N_FUTURES, dtype=bool))
    with pytest.raises(ValueError, match="missing"):
        discovery.discover(x.assign(x1=np.nan), x["x2"].to_numpy() > 0.5)
    with pytest.raises(ValueError, match="one entry per row"):
        discovery.discover(x, np.ones(3, dtype=bool))
    with pytest.raises(ValueError, match="method"):
        discovery.discover(x, x["x2"].to_numpy() > 0.5, method="cart")
