"""Tests for sweeps: designs, Sobol wiring, bad files, reproducibility across executors, resume, plots."""

from __future__ import annotations

import gc
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.cli.sweep import sweep_into
from sim.core.errors import InputError
from sim.engine.runner import plan_blocks, simulate_block
from sim.experiments.sweep import execute
from sim.experiments.sweep.design import METRIC_COLUMNS, grid_points, load_sweep, parse_values, quick_sweep
from sim.experiments.sweep.execute import SweepInterrupted, run_point, run_sweep
from sim.experiments.sweep.result import SURVIVAL_COLUMNS
from sim.outputs.partial import RECORDS_FILE, RecordStore, partial_dir
from sim.outputs.plots.runs import PlotInputError
from sim.outputs.plots.sweep import SWEEP_PLOTS, plot_sweep_dir
from sim.stats.metrics import summary_row
from sim.stats.sensitivity import binomial_noise_share, latin_hypercube, saltelli_sample, sobol_table
from tests.conftest import coalition_sweep_yaml

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "scenarios" / "baseline.yaml"
OUTPUTS = ("sweep.csv", "survival.csv")

GRID = coalition_sweep_yaml("tiny_grid", replications=60, horizon_days=120, seed=7, design="grid",
                            troops='"0:40000:4"', second_path="agents.US.detection_probability",
                            second_values="[0.2, 0.9]")


def write(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def outputs(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """The tiny grid run in this process, uninterrupted: the bytes every other run must match."""
    root = tmp_path_factory.mktemp("reference")
    sweep_file = write(root, GRID)
    sweep_into(load_sweep(sweep_file), root / "out", workers=1)
    return sweep_file, outputs(root / "out")


class StopAfter:
    """A progress sink that raises KeyboardInterrupt after ``points`` points, like Ctrl-C."""

    def __init__(self, points: int) -> None:
        self.points = points

    def __call__(self, done: int) -> None:
        self.points -= done
        if self.points == 0:
            raise KeyboardInterrupt


# --------------------------------------------------------------------------- designs


def test_range_gives_steps_values_with_both_ends() -> None:
    assert parse_values("0:20000:5", "x") == (0.0, 5000.0, 10000.0, 15000.0, 20000.0)
    assert parse_values("0.2,0.5,0.9", "x") == (0.2, 0.5, 0.9)
    assert parse_values([1, 2.5], "x") == (1.0, 2.5)
    assert parse_values("3:9:1", "x") == (3.0,)


def test_grid_is_every_combination_first_axis_slowest() -> None:
    points = grid_points([[1.0, 2.0], [10.0, 20.0, 30.0]])
    assert points.tolist() == [[1, 10], [1, 20], [1, 30], [2, 10], [2, 20], [2, 30]]


@settings(max_examples=60, deadline=None)
@given(samples=st.integers(1, 300), dims=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_latin_hypercube_has_one_sample_per_stratum_per_axis(samples: int, dims: int, seed: int) -> None:
    bounds = [(-1.0 - i, 3.0 * i + 2.0) for i in range(dims)]
    points = latin_hypercube(samples, bounds, np.random.default_rng(seed))
    assert points.shape == (samples, dims)
    for j, (low, high) in enumerate(bounds):
        assert ((points[:, j] >= low) & (points[:, j] < high)).all()
        strata = np.floor((points[:, j] - low) / (high - low) * samples).astype(int)
        assert sorted(strata) == list(range(samples))


def test_lhs_sweep_is_reproducible_and_seeded(tmp_path: Path) -> None:
    text = GRID.replace("design: grid", "design: lhs\nsamples: 9").replace(
        'values: "0:40000:4"', "bounds: [0, 40000]").replace("values: [0.2, 0.9]", "bounds: [0.2, 0.9]")
    first, again = load_sweep(write(tmp_path, text)), load_sweep(write(tmp_path, text, "b.yaml"))
    other = load_sweep(write(tmp_path, text.replace("seed: 7", "seed: 8"), "c.yaml"))
    assert first.points.shape == (9, 2)
    assert np.array_equal(first.points, again.points) and first.digest() == again.digest()
    assert not np.array_equal(first.points, other.points)


# --------------------------------------------------------------------------- Sobol wiring, without the model


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami & Homma (1990) test function on [-pi, pi]^3."""
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    """Analytic first-order and total indices of the Ishigami function (Sobol' & Levitan 1999)."""
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * math.pi**8 / 225
    variance = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    return [v1 / variance, v2 / variance, 0.0], [(v1 + v13) / variance, v2 / variance, v13 / variance]


def assert_indices(table: pd.DataFrame, s1: list[float], st_: list[float]) -> None:
    """Each true index lies within twice the reported 95 % half-width (about 4 standard errors)."""
    for key, truth in (("S1", s1), ("ST", st_)):
        estimate, half = table[key].to_numpy(), table[f"{key}_conf"].to_numpy()
        assert (half > 0).all() and (half < 0.2).all()
        assert np.all(np.abs(estimate - np.array(truth)) <= 2 * half), (key, estimate, truth, half)


def test_sobol_indices_of_ishigami_match_analytic_values() -> None:
    bounds = [(-math.pi, math.pi)] * 3
    x = saltelli_sample(1024, bounds, np.random.default_rng(1))
    assert x.shape == (1024 * 5, 3)
    table = sobol_table(["x1", "x2", "x3"], bounds, {"y": ishigami(x)}, seed=1)
    assert_indices(table, *ishigami_indices())


def test_sobol_indices_of_linear_function_are_weight_shares() -> None:
    weights = np.array([1.0, 2.0, 3.0])
    bounds = [(0.0, 1.0)] * 3
    x = saltelli_sample(512, bounds, np.random.default_rng(2))
    table = sobol_table(["a", "b", "c"], bounds, {"y": x @ weights}, seed=2)
    shares = list(weights**2 / (weights**2).sum())  # uniform inputs share one variance
    assert_indices(table, shares, shares)


def test_sobol_indices_skip_missing_and_flag_constant_outputs() -> None:
    bounds = [(0.0, 1.0)] * 2
    x = saltelli_sample(8, bounds, np.random.default_rng(3))
    table = sobol_table(["a", "b"], bounds, {"gone": np.full(len(x), np.nan), "flat": np.ones(len(x))}, seed=3)
    assert list(table["output"]) == ["flat", "flat"] and table["S1"].isna().all()


def test_binomial_noise_share_of_pure_noise_and_of_a_signal() -> None:
    rng = np.random.default_rng(4)
    worlds, points = 200, 4000
    noise_only = rng.binomial(worlds, 0.3, points) / worlds
    # sample variance of 4,000 draws: relative standard error sqrt(2 / 3999) = 0.022
    assert binomial_noise_share(noise_only, np.full(points, worlds)) == pytest.approx(1.0, abs=0.1)
    truth = rng.uniform(0.1, 0.9, points)
    estimate = rng.binomial(worlds, truth) / worlds
    signal = 0.8**2 / 12  # variance of U(0.1, 0.9)
    noise = (0.5 - (signal + 0.25)) / worlds  # E[p(1 - p)] / worlds
    expected = noise / (signal + noise)
    assert binomial_noise_share(estimate, np.full(points, worlds)) == pytest.approx(expected, rel=0.1)


# --------------------------------------------------------------------------- sweep files


def test_axes_move_parameters_together_and_scale(tmp_path: Path) -> None:
    sweep = load_sweep(write(tmp_path, GRID + "fixed: {agents.UK.permanent_bases: false, model.troop_scale: 5000}\n"))
    assert sweep.n_points == 8
    assert sweep.scenario_at(0).agents.UK.permanent_bases is False
    assert sweep.scenario_at(7).model.troop_scale == 5000
    scenario = sweep.scenario_at(5)  # coalition 2nd-from-top of 4 values, detection 0.9
    assert sweep.points[5].tolist() == pytest.approx([40000 * 2 / 3, 0.9])
    assert scenario.agents.UK.troops == scenario.agents.FR.troops == pytest.approx(40000 / 3)
    assert scenario.agents.US.detection_probability == 0.9
    scaled = load_sweep(write(tmp_path, GRID.replace(
        "set: {agents.UK.troops: 0.5, agents.FR.troops: 0.5}",
        "scale: [agents.UK.troops, agents.DE.deployment_delay_days]").replace('"0:40000:4"', "[0.5, 1.25]"),
        "scaled.yaml"))
    base = scaled.base.agents
    last = scaled.scenario_at(scaled.n_points - 1).agents
    assert last.UK.troops == 1.25 * base.UK.troops
    assert last.DE.deployment_delay_days == round(1.25 * base.DE.deployment_delay_days)
    assert isinstance(last.DE.deployment_delay_days, int)


def test_hash_follows_the_definition_not_the_prose(tmp_path: Path) -> None:
    digest = load_sweep(write(tmp_path, GRID)).digest()
    assert load_sweep(write(tmp_path, GRID + "description: other words\n", "b.yaml")).digest() == digest
    assert load_sweep(write(tmp_path, GRID.replace("[0.2, 0.9]", "[0.2, 0.8]"), "c.yaml")).digest() != digest
    assert load_sweep(write(tmp_path, GRID), {"replications": 61}).digest() != digest


BAD_FILES = [
    ("unknown path", GRID.replace("agents.US.detection_probability", "agents.US.detection_probabilty"),
     "axes.1.set: unknown parameter 'agents.US.detection_probabilty' (did you mean "
     "'agents.US.detection_probability'?)"),
    ("empty range", GRID.replace('"0:40000:4"', '"5:5:3"'), "axes.0.values: empty range"),
    ("empty list", GRID.replace("[0.2, 0.9]", "[]"), "axes.1.values: empty list"),
    ("steps < 1", GRID.replace('"0:40000:4"', '"0:40000:0"'), "axes.0.values: steps must be >= 1 (got 0)"),
    ("sobol without bounds", GRID.replace("design: grid", "design: sobol\nsamples: 8")
     .replace('    values: "0:40000:4"\n', ""), "axes.0.bounds: is required for a sobol design, e.g. bounds: [0, 1]"),
    ("sobol with values", GRID.replace("design: grid", "design: sobol\nsamples: 8"),
     "axes.0.values: only for grid designs; a sobol design takes 'bounds: [low, high]'"),
    ("sobol not power of 2", GRID.replace("design: grid", "design: sobol\nsamples: 100"),
     "samples: must be a power of 2 for a Sobol design (got 100; try 128)"),
    ("malformed YAML", GRID.replace("axes:", "axes: [\n"), "not valid YAML at line"),
    ("unknown key", GRID.replace("design: grid", "desing: grid"), "desing: unknown key (did you mean 'design'?)"),
    ("set and scale", GRID.replace("  - set: agents.US", "  - scale: agents.RU.troops\n    set: agents.US"),
     "axes.1.set: give exactly one of 'set'"),
    ("out of range", GRID.replace("[0.2, 0.9]", "[0.2, 1.5]"),
     "point 1 (coalition_troops=0, agents.US.detection_probability=1.5): agents.US.detection_probability: "
     "must be <= 1"),
    ("sweep setting as axis", GRID.replace("set: agents.US.detection_probability", "set: seed"),
     "axes.1.set: seed is a sweep setting"),
    ("same parameter twice", GRID.replace("agents.US.detection_probability", "agents.UK.troops"),
     "axes.1.set: agents.UK.troops is already moved by axis 'coalition_troops'"),
    ("missing scenario", GRID.replace(str(BASELINE), "nowhere.yaml"), "scenario: no such file"),
    ("axis also fixed", GRID + "fixed: {agents.US.detection_probability: 0.5}\n",
     "axes.1.set: agents.US.detection_probability is also under 'fixed'"),
    ("fixed out of range", GRID + "fixed: {agents.UA.resolve: 2}\n", "agents.UA.resolve: must be <= 1"),
    ("fixed unknown", GRID + "fixed: {agents.UA.resolv: 0.5}\n",
     "fixed: agents.UA.resolv: unknown parameter (did you mean 'resolve'?)"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_sweep_files_fail_with_one_clear_line(tmp_path: Path, case: str, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_sweep(path)
    text = str(error.value)
    assert "\n" not in text
    assert message in text
    assert text.startswith(str(path)), text


def test_quick_form_names_the_option_in_errors() -> None:
    with pytest.raises(InputError, match=r"^--param agents\.UK\.troop=0:1:2: unknown parameter .*"
                                         r"did you mean 'agents\.UK\.troops'"):
        quick_sweep(BASELINE, ["agents.UK.troop=0:1:2"])
    sweep = quick_sweep(BASELINE, ["agents.UK.troops,agents.FR.troops=0:20000:3", "agents.RU.provocation=0.1"],
                        {"replications": 5})
    assert sweep.name == "baseline_sweep" and sweep.n_points == 3
    assert sweep.axis_names == ["agents.UK.troops+agents.FR.troops", "agents.RU.provocation"]
    assert sweep.scenario_at(2).agents.FR.troops == 20000


# --------------------------------------------------------------------------- running


def test_point_record_is_the_worlds_of_its_streams(tmp_path: Path) -> None:
    """A point's row is exactly the summary of its worlds: with common random numbers those of
    ``ceasefire run`` (stream key ()), run in any blocks; with independent streams, those of key (point,)."""
    sweep = load_sweep(write(tmp_path, GRID), {"replications": 2500})
    scenario = sweep.scenario_at(3)
    blocks = plan_blocks(scenario.replications, 1000)
    assert len(blocks) == 3
    for key, common in (((), True), ((3,), False)):
        runs = pd.concat([simulate_block(scenario, b, scenario.seed, key=key, record_trajectories=False).runs
                          for b in blocks], ignore_index=True)
        expected = summary_row(runs, scenario.horizon_days, scenario.name, scenario.seed)
        record = run_point(scenario, 3, common)
        assert record["summary"] == pytest.approx({k: expected[k] for k in METRIC_COLUMNS}, nan_ok=True)
    assert run_point(scenario, 4) == {**run_point(scenario, 3), "point": 4}  # common: the same worlds
    other = run_point(scenario, 4, False)  # independent: another point, other streams
    assert other["n_holding"] != run_point(scenario, 3, False)["n_holding"]


def test_finished_points_leave_no_model_in_memory(tmp_path: Path) -> None:
    """Memory stays flat over many points: Mesa's registry of models (mesa#3179) is emptied per point."""
    from sim.engine.model import CeasefireModel

    def alive() -> int:
        gc.collect()
        # type(), not isinstance(): the heap may hold dead weak proxies (numba's, where it is installed),
        # on which isinstance() raises ReferenceError
        return sum(issubclass(type(o), CeasefireModel) for o in gc.get_objects())

    sweep = load_sweep(write(tmp_path, GRID))
    before = alive()
    for index in range(3):
        run_point(sweep.scenario_at(index), index)
    assert alive() == before


def test_outputs_follow_the_documented_layout(reference: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    sweep_file, _ = reference
    out = tmp_path / "out"
    sweep_into(load_sweep(sweep_file), out, workers=1)
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns) == ["point", "coalition_troops", "agents.US.detection_probability",
                                   *METRIC_COLUMNS]
    assert table["point"].tolist() == list(range(8))
    survival = pd.read_csv(out / "survival.csv")
    assert list(survival.columns) == list(SURVIVAL_COLUMNS)
    assert len(survival) == 8 * 121
    last = survival[survival["day"] == 120].set_index("point")["p_holding"]
    assert np.allclose(last.to_numpy(), table["p_hold_horizon"].to_numpy())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sweep_hash"] == load_sweep(sweep_file).digest() and manifest["n_points"] == 8
    assert manifest["command"] == "sweep" and "kind" not in manifest
    assert manifest["figures"] == [SWEEP_PLOTS["heatmap"]] and (out / SWEEP_PLOTS["heatmap"]).is_file()
    assert sorted(manifest["files"]) == ["heatmap.png", "survival.csv", "sweep.csv"]
    assert not partial_dir(out).exists()


def test_in_memory_sweep_gives_the_bytes_of_the_folder(reference: tuple[Path, dict[str, bytes]],
                                                       tmp_path: Path) -> None:
    """run_sweep computes only: its tables, written by the one writer, are the command's bytes."""
    from sim.outputs.artefacts import save

    sweep_file, expected = reference
    result = run_sweep(load_sweep(sweep_file))
    assert (result.points_run, result.points_resumed, result.workers) == (8, 0, 1)
    save(result.artefacts(), tmp_path / "out", plots=False)
    assert outputs(tmp_path / "out") == expected


def test_same_bytes_with_two_local_workers(reference: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    sweep_file, expected = reference
    outcome = sweep_into(load_sweep(sweep_file), tmp_path / "out", workers=2, plots=False)
    assert outcome.workers == 2
    assert outputs(tmp_path / "out") == expected


def test_same_bytes_on_a_dask_cluster(reference: tuple[Path, dict[str, bytes]], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    sweep_file, expected = reference
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        outcome = sweep_into(load_sweep(sweep_file), tmp_path / "out", scheduler=cluster.scheduler_address,
                             plots=False)
    assert outcome.workers == 2 and outcome.executor.startswith("dask")
    assert outputs(tmp_path / "out") == expected


@pytest.mark.parametrize("workers", [1, 2])
def test_resume_after_interruption_gives_the_same_bytes(reference: tuple[Path, dict[str, bytes]],
                                                        tmp_path: Path, workers: int) -> None:
    """Interrupted in this process or with a pool of workers (which are then stopped), resumed in-process."""
    sweep_file, expected = reference
    out = tmp_path / "out"
    with pytest.raises(SweepInterrupted, match=r"3 of 8 points are saved .*--resume"):
        sweep_into(load_sweep(sweep_file), out, workers=workers, progress=StopAfter(3))
    assert not out.exists()
    records = (partial_dir(out) / RECORDS_FILE).read_text().splitlines()
    assert len(records) == 3
    outcome = sweep_into(load_sweep(sweep_file), out, workers=1, resume=True, plots=False)
    assert (outcome.points_resumed, outcome.points_run) == (3, 5)
    assert outputs(out) == expected


def test_resume_recomputes_deleted_records_and_drops_a_torn_line(reference: tuple[Path, dict[str, bytes]],
                                                                 tmp_path: Path) -> None:
    sweep_file, expected = reference
    out = tmp_path / "out"
    with pytest.raises(SweepInterrupted):
        sweep_into(load_sweep(sweep_file), out, progress=StopAfter(6))
    records = partial_dir(out) / RECORDS_FILE
    lines = records.read_text().splitlines(keepends=True)
    records.write_text(lines[0] + lines[3] + lines[5] + lines[1][: len(lines[1]) // 2])  # killed mid-write
    outcome = sweep_into(load_sweep(sweep_file), out, resume=True, plots=False)
    assert (outcome.points_resumed, outcome.points_run) == (3, 5)
    assert outputs(out) == expected


def test_an_interruption_before_any_point_leaves_nothing_behind(reference: tuple[Path, dict[str, bytes]],
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(execute, "completed_points", interrupted)
    out = tmp_path / "out"
    with pytest.raises(SweepInterrupted, match="no point had finished, so nothing is saved"):
        sweep_into(load_sweep(reference[0]), out)
    assert not partial_dir(out).exists() and not out.exists()


def test_changed_sweep_refuses_to_resume(reference: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    sweep_file, _ = reference
    out = tmp_path / "out"
    with pytest.raises(SweepInterrupted):
        sweep_into(load_sweep(sweep_file), out, progress=StopAfter(2))
    changed = load_sweep(sweep_file, {"replications": 61})
    with pytest.raises(InputError, match=r"--resume: the sweep has changed since these points were computed"):
        sweep_into(changed, out, resume=True)
    with pytest.raises(InputError, match=r"an interrupted sweep is saved here \(2 of 8 points done\); add --resume"):
        sweep_into(load_sweep(sweep_file), out)
    outcome = sweep_into(changed, out, restart=True, plots=False)
    assert outcome.points_resumed == 0 and pd.read_csv(out / "sweep.csv")["replications"].eq(61).all()


def test_a_second_writer_is_refused(reference: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    sweep = load_sweep(reference[0])
    folder = partial_dir(tmp_path / "out")
    with RecordStore.open(folder, sweep, resume=False, restart=False):
        for restart in (False, True):
            with pytest.raises(InputError, match="another sweep is writing here"):
                RecordStore.open(folder, sweep, resume=True, restart=restart)
        assert folder.is_dir()


# --------------------------------------------------------------------------- plots


def test_each_design_gets_its_figures(tmp_path: Path) -> None:
    one_axis = GRID.replace("  - set: agents.US.detection_probability\n    values: [0.2, 0.9]\n", "")
    three_lhs = (GRID.replace("design: grid", "design: lhs\nsamples: 12")
                 .replace('values: "0:40000:4"', "bounds: [0, 40000]")
                 .replace("values: [0.2, 0.9]", "bounds: [0.2, 0.9]")
                 + "  - set: agents.RU.provocation\n    bounds: [0.05, 0.3]\n")
    sobol = three_lhs.replace("design: lhs\nsamples: 12", "design: sobol\nsamples: 8")
    for name, text, figures in (("one", one_axis, ["hold"]), ("lhs", three_lhs, ["main_effects"]),
                                ("sobol", sobol, ["sobol", "main_effects"])):
        out = tmp_path / name
        result = sweep_into(load_sweep(write(tmp_path, text, f"{name}.yaml"), {"replications": 20}), out,
                            plots=False)
        assert not list(out.glob("*.png"))
        assert sorted(p.name for p in plot_sweep_dir(out)) == sorted(SWEEP_PLOTS[f] for f in figures), name
        assert sorted(result.figures()) == sorted(SWEEP_PLOTS[f] for f in figures), name
        assert all(p.stat().st_size > 5000 for p in out.glob("*.png"))
    sobol_table = pd.read_csv(tmp_path / "sobol" / "sobol.csv")
    assert list(sobol_table.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf", "noise_share"]
    assert set(sobol_table["parameter"]) == {"coalition_troops", "agents.US.detection_probability",
                                             "agents.RU.provocation"}


def test_plot_on_a_damaged_folder_says_what_is_missing(reference: tuple[Path, dict[str, bytes]],
                                                       tmp_path: Path) -> None:
    out = tmp_path / "out"
    sweep_into(load_sweep(reference[0]), out, plots=False)
    table = pd.read_csv(out / "sweep.csv")
    table.drop(columns=["p_hold_365"]).to_csv(out / "sweep.csv", index=False)
    with pytest.raises(PlotInputError, match=r"sweep\.csv: missing columns: p_hold_365$"):
        plot_sweep_dir(out)
    (out / "sweep.csv").unlink()
    with pytest.raises(PlotInputError, match=r"sweep\.csv: file not found"):
        plot_sweep_dir(out)
    table.to_csv(out / "sweep.csv", index=False)
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "design": "sobol"}))
    with pytest.raises(PlotInputError, match=r"sobol\.csv: file not found \(a Sobol sweep needs it"):
        plot_sweep_dir(out)
