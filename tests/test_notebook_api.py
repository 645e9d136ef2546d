"""The library from a notebook or a script: discoverable names, variant names, Figures, dtypes, workers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim
from sim.api import MAX_NAME, column_dtype, variant_name
from sim.engine.runner import starting_worker
from sim.experiments.sweep.design import METRIC_COLUMNS
from sim.outputs.artefacts import write_csv
from sim.outputs.plots.runs import VALIDATION_COLUMNS
from sim.stats.metrics import CAUSES

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
COLUMNS_DOC = ROOT / "docs" / "COLUMNS.md"


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def small_run() -> sim.RunResult:
    return sim.run_scenario(sim.load_scenario(BASELINE, {"replications": 300, "horizon_days": 400}))


# --------------------------------------------------------------------------- discoverable names


def test_dir_of_a_fresh_import_lists_the_public_api() -> None:
    out = subprocess.run([sys.executable, "-c", "import sim; print(dir(sim))"], capture_output=True, text=True,
                         env=child_env(), check=True).stdout
    for name in ("load_scenario", "run_scenario", "save_run", "ScenarioModel", "plot_survival", "read_csv"):
        assert repr(name) in out, name
    assert "'import_module'" not in out and "'Any'" not in out


def test_every_exported_name_resolves_and_is_described_in_help() -> None:
    assert sim.__all__ == sorted(sim.__all__)
    for name in sim.__all__:
        assert getattr(sim, name) is not None
        assert name in (sim.__doc__ or ""), f"help(sim) does not mention {name}"
    with pytest.raises(AttributeError):
        sim.no_such_name  # noqa: B018


# --------------------------------------------------------------------------- variants


def test_a_variant_is_named_after_its_overrides_and_the_summary_says_so() -> None:
    scenario = sim.variant(BASELINE, {"agents.UK.troops": 20000, "replications": 50, "horizon_days": 5})
    assert scenario.name == "baseline-UK.troops-20000-replications-50-horizon_days-5"
    assert scenario.agents.UK.troops == 20000
    assert sim.run_scenario(scenario).summary["scenario"].iloc[0] == scenario.name


def test_a_variant_takes_a_name_and_refuses_one_that_is_not_a_folder_name() -> None:
    assert sim.variant(BASELINE, {"agents.UK.troops": 0}, name="no_uk").name == "no_uk"
    with pytest.raises(sim.InputError, match="name: may contain only"):
        sim.variant(BASELINE, {"agents.UK.troops": 0}, name="../up")


def test_a_variant_validates_its_overrides() -> None:
    with pytest.raises(sim.InputError, match=r"agents\.UK\.troops: must be >= 0"):
        sim.variant(BASELINE, {"agents.UK.troops": -1})
    with pytest.raises(sim.InputError, match="did you mean 'troops'"):
        sim.variant(BASELINE, {"agents.UK.troop": 1})


def test_long_variant_names_stay_valid_and_distinct() -> None:
    many = {f"model.parameter_{i}": i / 3 for i in range(12)}
    other = {**many, "model.parameter_11": 0.5}
    names = {variant_name("baseline", many), variant_name("baseline", other)}
    assert len(names) == 2 and all(len(n) <= MAX_NAME for n in names)
    assert variant_name("a", {"structure.objection": "x y/z"}) == "a-structure.objection-x_y_z"


# --------------------------------------------------------------------------- figures


def _sweep_table() -> pd.DataFrame:
    xs, ys = np.meshgrid([0.0, 10_000.0, 20_000.0], [0.2, 0.8])
    p = (0.3 + xs / 50_000 + ys / 5).ravel()
    table = pd.DataFrame({"point": range(p.size), "x": xs.ravel(), "y": ys.ravel()})
    for column in METRIC_COLUMNS:
        table[column] = p if column.startswith("p_") else 0.1
    table["horizon_days"], table["replications"] = 730, 100
    return table


def _figures(run: sim.RunResult) -> dict[str, tuple]:
    validation = pd.DataFrame([["a", 0.3, 0.2, 0.4, 0.35, 0.3, 0.4, "baseline"]], columns=VALIDATION_COLUMNS)
    sobol = pd.DataFrame({"output": "p_hold_365", "parameter": ["x", "y"], "S1": [0.5, 0.2], "S1_conf": 0.05,
                          "ST": [0.6, 0.3], "ST_conf": 0.05})
    sweep = _sweep_table()
    return {
        "plot_survival": (run.survival, "baseline"),
        "plot_trajectories": (run.trajectories, "baseline"),
        "plot_causes": (run.summary,),
        "plot_compare": ([("a", run.survival), ("b", run.survival)],),
        "plot_validation": (validation,),
        "plot_hold_vs_axis": (sweep[sweep["y"] == 0.2], "x"),
        "plot_heatmap": (sweep, "x", "y"),
        "plot_main_effects": (sweep, ["x", "y"]),
        "plot_sobol": (sobol,),
    }


def test_plot_helpers_return_the_figure_and_save_only_when_given_a_path(
    small_run: sim.RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, args in _figures(small_run).items():
        figure = getattr(sim, name)(*args)
        assert isinstance(figure, Figure) and figure.axes, name
        path = tmp_path / "out" / f"{name}.png"
        saved = getattr(sim, name)(*args, path=path)
        assert isinstance(saved, Figure) and saved.axes, f"{name}: the saved figure was cleared"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == sorted(f"{n}.png" for n in _figures(small_run))


def test_folder_helpers_still_return_the_paths_they_wrote(small_run: sim.RunResult, tmp_path: Path) -> None:
    folder = sim.save_run(small_run, tmp_path / "run")
    assert sim.plot_run_dir(folder) == [folder / n for n in ("survival.png", "trajectories.png", "causes.png")]
    out = sim.compare_dirs([folder, folder], tmp_path / "compare.png")
    assert out == tmp_path / "compare.png" and out.stat().st_size > 0


# --------------------------------------------------------------------------- CSV dtypes


def test_tables_read_back_with_the_dtypes_they_were_written_with(small_run: sim.RunResult, tmp_path: Path) -> None:
    folder = sim.save_run(small_run, tmp_path / "run", plots=False)
    tables = {"runs": small_run.runs, "survival": small_run.survival, "summary": small_run.summary,
              "trajectories": small_run.trajectories, "intent": small_run.intent}
    assert small_run.summary["share_ukrainian_withdrawal"].iloc[0] == 0  # the case pandas alone reads as int
    for name, table in tables.items():
        back = sim.read_csv(folder / f"{name}.csv")
        pd.testing.assert_frame_equal(back, table, check_exact=False, rtol=1e-9, obj=name)
    plain = pd.read_csv(folder / "runs.csv")
    assert plain["breakdown_day"].dtype == np.float64  # why the reader exists
    documented = pd.read_csv(folder / "runs.csv", dtype={"breakdown_day": "Int64"})  # the one-liner of COLUMNS.md
    pd.testing.assert_frame_equal(documented, small_run.runs, check_exact=False, rtol=1e-9)


def test_sweep_table_reads_back_with_its_dtypes(tmp_path: Path) -> None:
    table = _sweep_table().assign(share_ukrainian_withdrawal=0.0, median_breakdown_day=120.0)
    back = sim.read_csv(write_csv(table, tmp_path / "sweep.csv"))
    pd.testing.assert_frame_equal(back, table, check_exact=False, rtol=1e-9)


def test_every_column_written_is_documented_with_a_dtype(small_run: sim.RunResult) -> None:
    text = COLUMNS_DOC.read_text(encoding="utf-8")
    written = [*small_run.runs, *small_run.survival, *small_run.summary, *small_run.trajectories,
               *small_run.intent, *METRIC_COLUMNS, "point", "p_hold_730", "p_hold_1825", "p_hold_3650"]
    # an interval's columns are documented with their estimate: `p_agreed` (+ `_ci_low`, `_ci_high`)
    missing = [c for c in dict.fromkeys(written)
               if f"`{c.removesuffix('_ci_low').removesuffix('_ci_high')}`" not in text]
    assert missing == []
    assert all(column_dtype(c) is not None for c in written)
    assert {f"share_{cause}" for cause in CAUSES} <= set(written)


# --------------------------------------------------------------------------- workers in a script

SCRIPT = f"""
import sim
scenario = sim.load_scenario({str(BASELINE)!r}, {{"replications": 10001, "horizon_days": 1}})
result = sim.run_scenario(scenario, workers=2)
print("worlds", len(result.runs))
"""


def _run_script(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=child_env(),
                          cwd=tmp_path, timeout=300)


def test_workers_in_a_script_without_main_guard_give_a_clear_error(tmp_path: Path) -> None:
    done = _run_script(tmp_path, SCRIPT)
    assert done.returncode != 0
    assert "WorkersStoppedError" in done.stderr and "if __name__ == \"__main__\":" in done.stderr
    assert "bootstrapping phase" not in done.stderr  # multiprocessing's traceback from every worker


def test_workers_in_a_script_with_main_guard_run(tmp_path: Path) -> None:
    guarded = "if __name__ == '__main__':\n" + textwrap.indent(SCRIPT, "    ")
    done = _run_script(tmp_path, guarded)
    assert done.returncode == 0, done.stderr
    assert "worlds 10001" in done.stdout


def test_this_process_is_not_a_starting_worker() -> None:
    assert not starting_worker()
