"""The library's front door: run a scenario file and save its tables and plots.

The command line (``sim.cli``) is a thin layer over these functions; a notebook can call them directly::

    from sim import load_scenario, run_scenario, save_run
    result = run_scenario(load_scenario("scenarios/baseline.yaml"))
    save_run(result, "results/baseline")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.io import atomic_folder, manifest_base, write_csv, write_json
from sim.plots import plot_run_dir
from sim.runner import BLOCK_WORLDS, RunResult

RUN_TABLES = ("runs.csv", "survival.csv", "summary.csv", "trajectories.csv", "intent.csv")
"""The CSV files of a run folder."""


def default_out_dir(scenario_name: str, root: Path = Path("results")) -> Path:
    """Where a run goes when no ``--out`` is given: ``results/<name>/``."""
    return root / scenario_name


def save_run(
    result: RunResult, out_dir: str | Path, command_line: Sequence[str] | None = None, plots: bool = True,
    source: str | Path | None = None,
) -> Path:
    """Write a run's CSV tables, manifest and plots into ``out_dir``, all or nothing.

    Args:
        result: what ``run_scenario`` returned.
        out_dir: destination folder; if it exists it is replaced as a whole, but only when it is empty or
            was written by ``ceasefire`` (see :func:`sim.io.check_output_folder`).
        command_line: recorded in the manifest.
        plots: also draw ``survival.png``, ``trajectories.png`` and ``causes.png``.
        source: the scenario file, recorded in the manifest.

    Raises:
        InputError: ``out_dir`` holds files ``ceasefire`` did not write, or is the current folder or above it.
        OSError: the disk is full or read-only; the previous folder is then left as it was.
    """
    out_dir = Path(out_dir)
    with atomic_folder(out_dir) as tmp:
        write_csv(result.runs, tmp / "runs.csv")
        write_csv(result.survival, tmp / "survival.csv")
        write_csv(result.summary, tmp / "summary.csv")
        write_csv(result.intent, tmp / "intent.csv")
        if result.trajectories is not None:
            write_csv(result.trajectories, tmp / "trajectories.csv")
        write_json(manifest(result, command_line, source), tmp / "manifest.json")
        if plots and result.trajectories is not None:
            plot_run_dir(tmp)
    return out_dir


def manifest(
    result: RunResult, command_line: Sequence[str] | None = None, source: str | Path | None = None
) -> dict[str, object]:
    """What a reader needs to reproduce a run: the resolved scenario, seed, versions, commit, timing."""
    return {
        **manifest_base(result.scenario, command_line, source),
        "structure": result.scenario.structure.model_dump(),
        "block_worlds": BLOCK_WORLDS,
        "workers": result.workers,
        "wall_seconds": round(result.wall_seconds, 3),
    }
