"""Tests for sim.plots: figures are drawn from CSV tables and bad tables fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import metrics, plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HORIZON = 400
N_WORLDS = 60


def synthetic_runs(seed: int, n: int = N_WORLDS, horizon: int = HORIZON) -> pd.DataFrame:
    """Random run records: some worlds without a deal, some breaking down, some holding."""
    rng = np.random.default_rng(seed)
    agreed = rng.random(n) < 0.8
    breaks = agreed & (rng.random(n) < 0.5)
    breakdown_day = np.where(breaks, rng.integers(1, horizon + 1, n), np.nan).astype(float)
    failure_causes = np.array(metrics.CAUSES[1:-1])
    cause = np.where(
        ~agreed, "no_deal", np.where(breaks, rng.choice(failure_causes, n), "held")
    )
    return pd.DataFrame(
        {"replication": np.arange(n), "agreed": agreed, "breakdown_day": breakdown_day, "cause": cause}
    )


def synthetic_trajectories(seed: int, horizon: int = HORIZON) -> pd.DataFrame:
    """A trajectories table with the right columns; the tail is NaN as if no world held."""
    rng = np.random.default_rng(seed)
    day = np.arange(horizon + 1)
    table = {"day": day, "n_holding": np.linspace(N_WORLDS, 0, horizon + 1).round()}
    scales = {
        "credibility": 1.0, "escalation": 3.0, "coalition_troops": 20_000.0, "detection_probability": 1.0
    }
    for var, scale in scales.items():
        mean = scale * rng.uniform(0.3, 0.7) * (1 + 0.2 * np.sin(day / 30))
        spread = scale * rng.uniform(0.05, 0.2)
        table[f"{var}_mean"] = mean
        table[f"{var}_p10"] = np.clip(mean - spread, 0, None)
        table[f"{var}_p90"] = mean + spread
    frame = pd.DataFrame(table)
    frame.loc[frame["day"] > horizon - 20, frame.columns[2:]] = np.nan
    return frame


def write_run_dir(run_dir: Path, scenario: str, seed: int) -> Path:
    """A run folder with survival.csv, trajectories.csv and summary.csv built from synthetic runs."""
    run_dir.mkdir(parents=True)
    runs = synthetic_runs(seed)
    metrics.survival_table(runs, HORIZON).to_csv(run_dir / "survival.csv", index=False)
    synthetic_trajectories(seed).to_csv(run_dir / "trajectories.csv", index=False)
    metrics.summary_table(runs, HORIZON, scenario, seed).to_csv(run_dir / "summary.csv", index=False)
    return run_dir


def assert_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5_000, "PNG is suspiciously small for a figure"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run_dir(tmp_path / "baseline_run", "baseline", seed=1)


def test_synthetic_runs_are_consistent() -> None:
    runs = synthetic_runs(3)
    assert set(runs["cause"]) <= set(metrics.CAUSES)
    assert (runs["cause"] == "no_deal").eq(~runs["agreed"]).all()
    assert (runs["cause"] == "held").eq(runs["agreed"] & runs["breakdown_day"].isna()).all()


def test_plot_survival_writes_png(tmp_path: Path) -> None:
    survival = metrics.survival_table(synthetic_runs(2), HORIZON)
    plots.plot_survival(survival, "baseline", tmp_path / "s.png")
    assert_png(tmp_path / "s.png")


def test_plot_survival_without_any_deal(tmp_path: Path) -> None:
    runs = synthetic_runs(4).assign(agreed=False, breakdown_day=np.nan, cause="no_deal")
    survival = metrics.survival_table(runs, 100)
    assert survival["p_holding_given_deal"].isna().all()
    plots.plot_survival(survival, "no deal", tmp_path / "s.png")
    assert_png(tmp_path / "s.png")


def test_plot_trajectories_writes_png(tmp_path: Path) -> None:
    plots.plot_trajectories(synthetic_trajectories(5), "baseline", tmp_path / "t.png")
    assert_png(tmp_path / "t.png")


def test_plot_causes_writes_png(tmp_path: Path) -> None:
    summary = metrics.summary_table(synthetic_runs(6), HORIZON, "baseline", 6)
    plots.plot_causes(summary, tmp_path / "c.png")
    assert_png(tmp_path / "c.png")


def test_plot_compare_writes_png(tmp_path: Path) -> None:
    runs = [(f"scenario {s}", metrics.survival_table(synthetic_runs(s), HORIZON - 50 * s)) for s in range(3)]
    plots.plot_compare(runs, tmp_path / "cmp.png")
    plots.plot_compare(runs, tmp_path / "cmp_deal.png", given_deal=True)
    assert_png(tmp_path / "cmp.png")
    assert_png(tmp_path / "cmp_deal.png")


def test_plot_compare_rejects_no_runs(tmp_path: Path) -> None:
    with pytest.raises(plots.PlotInputError, match="no runs"):
        plots.plot_compare([], tmp_path / "cmp.png")
    assert not (tmp_path / "cmp.png").exists()


def test_plot_functions_name_missing_columns(tmp_path: Path) -> None:
    survival = metrics.survival_table(synthetic_runs(7), HORIZON).drop(columns=["ci_high"])
    with pytest.raises(plots.PlotInputError, match="survival table: missing columns: ci_high"):
        plots.plot_survival(survival, "baseline", tmp_path / "s.png")


def test_plot_run_dir_writes_three_pngs(run_dir: Path) -> None:
    paths = plots.plot_run_dir(run_dir)
    assert paths == [run_dir / name for name in plots.RUN_PLOTS]
    for path in paths:
        assert_png(path)


def test_plot_run_dir_names_missing_table(run_dir: Path) -> None:
    (run_dir / "trajectories.csv").unlink()
    with pytest.raises(plots.PlotInputError, match=r"trajectories\.csv: file not found"):
        plots.plot_run_dir(run_dir)


def test_read_table_names_file_and_missing_columns(run_dir: Path) -> None:
    path = run_dir / "survival.csv"
    pd.read_csv(path).drop(columns=["ci_low", "ci_high"]).to_csv(path, index=False)
    with pytest.raises(plots.PlotInputError) as info:
        plots.read_table(path, plots.SURVIVAL_COLUMNS)
    assert str(info.value) == f"{path}: missing columns: ci_low, ci_high"


def test_read_table_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "survival.csv"
    with pytest.raises(plots.PlotInputError, match="file not found") as info:
        plots.read_table(path, ["day"])
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content", ["", "day,p_holding\n"], ids=["zero-bytes", "header-only"])
def test_read_table_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "survival.csv"
    path.write_text(content)
    with pytest.raises(plots.PlotInputError, match="empty") as info:
        plots.read_table(path, ["day", "p_holding"])
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_read_table_unparsable(tmp_path: Path) -> None:
    path = tmp_path / "summary.csv"
    path.write_text('scenario,replications\n"baseline,10\n')
    with pytest.raises(plots.PlotInputError, match="cannot parse CSV") as info:
        plots.read_table(path, ["scenario"])
    assert "\n" not in str(info.value)


def test_read_table_returns_rows(run_dir: Path) -> None:
    table = plots.read_table(run_dir / "survival.csv", plots.SURVIVAL_COLUMNS)
    assert len(table) == HORIZON + 1
    assert table["day"].tolist() == list(range(HORIZON + 1))


def test_compare_dirs_two_runs(tmp_path: Path) -> None:
    first = write_run_dir(tmp_path / "a", "baseline", seed=1)
    second = write_run_dir(tmp_path / "b", "no_us_monitoring", seed=2)
    out = plots.compare_dirs([first, second], tmp_path / "out" / "compare.png")
    assert out == tmp_path / "out" / "compare.png"
    assert_png(out)


def test_duplicate_scenarios_are_disambiguated_by_folder() -> None:
    labels = plots.unique_labels(["base", "base", "other"], [Path("x/r1"), Path("y/r2"), Path("z/r3")])
    assert labels == ["base (r1)", "base (r2)", "other"]
    labels = plots.unique_labels(["base", "base"], [Path("x/run"), Path("y/run")])
    assert labels == ["base (x/run)", "base (y/run)"]
