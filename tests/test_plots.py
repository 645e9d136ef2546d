"""Tests for sim.outputs.plots.runs: figures are drawn from CSV tables and bad tables fail clearly."""

from __future__ import annotations

import io
import runpy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.layout_engine import ConstrainedLayoutEngine
from PIL import Image

from sim.outputs.plots import runs as plots
from sim.stats import metrics

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


# --------------------------------------------------------------------------- cheaper figures


def drawn_values(line, days: np.ndarray, step: bool) -> np.ndarray:
    """The y of a drawn line at each of ``days``: held from the last point (steps-post) or joined straight."""
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    if step:
        return y[np.searchsorted(x, days, side="right") - 1]
    return np.interp(days, x, y)


def pixels_per_unit(ax) -> float:
    """Vertical pixels per data unit of a drawn axes, at the saved size."""
    low, high = ax.get_ylim()
    return ax.bbox.height / (high - low)


def test_thinned_survival_curves_stay_within_half_a_pixel() -> None:
    # many worlds: daily changes are a small fraction of a pixel, so days are left out
    survival = metrics.survival_table(synthetic_runs(2, n=20_000), HORIZON)
    fig = plots.plot_survival(survival, "baseline")
    plots.render(fig)
    assert fig.dpi == plots.DPI  # pixels of the drawn figure are pixels of the saved PNG
    ax = fig.axes[0]
    curves = {"all worlds": "p_holding", "worlds that reached": "p_holding_given_deal"}
    days = survival["day"].to_numpy(float)
    for line in ax.lines:
        column = next((c for prefix, c in curves.items() if line.get_label().startswith(prefix)), None)
        if column is None:
            continue  # the hold-day markers
        curves.pop(next(p for p in curves if line.get_label().startswith(p)))
        assert len(line.get_xdata()) < len(survival), "no day was left out"
        error = np.abs(drawn_values(line, days, step=True) - survival[column].to_numpy(float))
        assert error.max() * pixels_per_unit(ax) < plots.PIXEL_TOLERANCE
    assert not curves, f"curves not drawn: {curves}"


def test_thinned_trajectories_stay_within_half_a_pixel() -> None:
    trajectories = synthetic_trajectories(5)
    fig = plots.plot_trajectories(trajectories, "baseline")
    plots.render(fig)
    days = trajectories["day"].to_numpy(float)
    for ax, var in zip(fig.axes, plots.TRAJECTORY_VARS, strict=True):
        (line,) = [line for line in ax.lines if line.get_label() == "mean"]
        assert len(line.get_xdata()) < len(trajectories), "no day was left out"
        drawn = drawn_values(line, days, step=False)
        full = trajectories[f"{var}_mean"].to_numpy(float)
        assert np.array_equal(np.isnan(drawn), np.isnan(full)), f"{var}: the gap moved"
        error = np.abs(drawn - full)[~np.isnan(full)]
        assert error.max() * pixels_per_unit(ax) < plots.PIXEL_TOLERANCE, var


def test_tolerance_in_data_units_is_at_most_half_a_pixel_of_the_drawn_panels() -> None:
    survival = metrics.survival_table(synthetic_runs(3, n=2_000), HORIZON)
    fig = plots.plot_survival(survival, "baseline")
    plots.render(fig)
    tolerance = plots.data_tolerance(1.04, fig.get_figheight())
    assert tolerance * pixels_per_unit(fig.axes[0]) <= plots.PIXEL_TOLERANCE
    fig = plots.plot_trajectories(synthetic_trajectories(3), "baseline")
    plots.render(fig)
    for ax in fig.axes:
        span = ax.get_ylim()[1]  # every panel's y-axis starts at 0
        assert plots.data_tolerance(span, fig.get_figheight(), nrows=2) * pixels_per_unit(ax) <= plots.PIXEL_TOLERANCE


@pytest.mark.parametrize("step", [True, False], ids=["steps", "straight"])
@pytest.mark.parametrize("seed", range(6))
def test_thin_points_keeps_curves_and_bands_within_tolerance(seed: int, step: bool) -> None:
    rng = np.random.default_rng(seed)
    n, tolerance = 500, 0.01
    walk = np.cumsum(rng.normal(0, 0.004, (n, 1)), axis=0)
    values = walk + np.array([0.0, -0.05, 0.05]) + rng.normal(0, 0.003, (n, 3))  # a curve and its band
    values[rng.integers(100, 200):rng.integers(250, 300)] = np.nan  # a gap where nothing holds
    values[rng.integers(350, 400):, 0] = np.nan  # one column ends early
    kept = plots.thin_points(values, tolerance, step)
    assert len(kept) < n / 2, "nothing worth leaving out was left out"
    assert kept[0] == 0 and kept[-1] == n - 1 and np.all(np.diff(kept) > 0)
    rows = np.arange(n)
    for column in values.T:
        if step:
            drawn = column[kept][np.searchsorted(kept, rows, side="right") - 1]
        else:
            drawn = np.full(n, np.nan)
            drawn[kept] = column[kept]
            for left, right in zip(kept, kept[1:], strict=False):  # straight segments between kept rows
                inside = rows[left + 1:right]
                drawn[inside] = column[left] + (column[right] - column[left]) * (inside - left) / (right - left)
        assert np.array_equal(np.isnan(drawn), np.isnan(column)), "a gap or the end of a band moved"
        assert np.nanmax(np.abs(drawn - column)) <= tolerance + 1e-12
        assert np.nanargmax(column) in kept and np.nanargmin(column) in kept  # autoscaled limits unchanged


def test_thin_points_keeps_everything_that_moves_more_than_the_tolerance() -> None:
    staircase = np.arange(50, dtype=float)
    assert np.array_equal(plots.thin_points(staircase, 0.5, step=True), np.arange(50))
    assert np.array_equal(plots.thin_points(staircase, 1e-9, step=False), [0, 49])  # a straight line
    assert np.array_equal(plots.thin_points(np.zeros(30), 0.0, step=True), [0, 29])


def test_run_figures_keep_their_fixed_margins_for_ordinary_tables(run_dir: Path) -> None:
    survival, trajectories, summary = plots.read_run_tables(run_dir)
    for fig in (plots.plot_survival(survival, "baseline", run_dir / "s.png"),
                plots.plot_trajectories(trajectories, "baseline", run_dir / "t.png"),
                plots.plot_causes(summary, run_dir / "c.png")):
        assert fig.get_layout_engine() is None, "fell back to constrained layout"
        assert plots.layout_fits(fig, fig.canvas.get_renderer())


def test_labels_too_wide_for_the_margins_get_constrained_layout(tmp_path: Path) -> None:
    trajectories = synthetic_trajectories(5)
    troops = [f"coalition_troops_{stat}" for stat in ("mean", "p10", "p90")]
    trajectories[troops] *= 400.0  # millions of troops: tick labels wider than the fixed margin
    fixed = plots.plot_trajectories(trajectories, "baseline")
    canvas = FigureCanvasAgg(fixed)
    canvas.draw()
    assert not plots.layout_fits(fixed, canvas.get_renderer())
    fig = plots.plot_trajectories(trajectories, "baseline", tmp_path / "t.png")
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    assert plots.layout_fits(fig, fig.canvas.get_renderer())
    assert_png(tmp_path / "t.png")


def test_saved_png_is_the_figure_at_the_stated_dpi(tmp_path: Path) -> None:
    summary = metrics.summary_table(synthetic_runs(6), HORIZON, "baseline", 6)
    fig = plots.plot_causes(summary, tmp_path / "c.png")
    with Image.open(tmp_path / "c.png") as image:
        assert image.size == (round(8.0 * plots.DPI), round(4.5 * plots.DPI))
        saved = np.asarray(image.convert("RGBA"))
    assert np.array_equal(saved, np.asarray(plots.render(fig).buffer_rgba()))  # drawn again: the same pixels
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # the returned figure still works with matplotlib's own saving
    assert buffer.getvalue()[:8] == PNG_MAGIC


def test_constrained_figures_are_laid_out_once_and_keep_their_engine(tmp_path: Path) -> None:
    runs = [("a", metrics.survival_table(synthetic_runs(1), HORIZON))]
    fig = plots.plot_compare(runs, tmp_path / "cmp.png")
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    assert_png(tmp_path / "cmp.png")


def test_plot_benchmark_runs(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ["--worlds", "200", "--horizon", "30", "--repeats", "1", "--reference", "none"]
    monkeypatch.setattr(sys, "argv", ["bench_plots.py", *arguments])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(Path(__file__).resolve().parent.parent / "benchmarks" / "bench_plots.py"),
                       run_name="__main__")
    assert exit_info.value.code == 0
    output = capsys.readouterr().out
    assert all(name in output for name in ("survival", "trajectories", "causes", "all three"))


@pytest.mark.parametrize("command", ["run", "sweep", "bet", "ensemble", "screen", "tornado", "calibrate",
                                     "validation"])
def test_every_command_that_draws_has_its_figure_module(command: str) -> None:
    """``ceasefire plot DIR`` finds the figures of any folder by the command its manifest names."""
    import importlib

    from sim.outputs.plots import module_name

    assert callable(importlib.import_module(module_name(command)).draw)
