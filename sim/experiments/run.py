"""One scenario run: its worlds simulated by the engine, reduced to the tables of a run folder.

``run_scenario`` is what ``ceasefire run`` and ``sim.run_scenario`` compute: the engine's records
(:func:`sim.engine.runner.run_worlds`) become ``runs.csv``, ``survival.csv``, ``summary.csv``,
``intent.csv`` and ``trajectories.csv`` (:mod:`sim.stats.metrics`, :mod:`sim.stats.trajectories`); the
summary's last columns flag headlines beyond what the empirical record covers (:mod:`sim.stats.validity`).
Nothing here writes a file or draws: :meth:`RunResult.artefacts` lists what the folder holds, and
:func:`sim.outputs.artefacts.save` writes it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.engine.blocks import BLOCK_WORLDS
from sim.engine.runner import RunRecords, run_worlds
from sim.experiments.result import Artefacts
from sim.spec.scenario import Scenario
from sim.stats.metrics import HORIZON, P_DEAL, intent_table, p_hold, summary_table, survival_table
from sim.stats.trajectories import trajectory_table
from sim.stats.validity import validity_columns

HEADLINE_LABELS: dict[str, str] = {
    P_DEAL: "P(deal)", p_hold(90): "P(hold 90 d)", p_hold(365): "P(hold 1 y)", p_hold(HORIZON): "P(hold horizon)",
    f"{p_hold(365)}_given_deal": "P(hold 1 y | deal)"}
"""The headlines a ``RunResult`` shows (``repr``, notebooks), by their ``summary.csv`` column."""

RUN_FIGURES: tuple[str, ...] = ("survival.png", "trajectories.png", "causes.png")
"""The figures of a run folder (:mod:`sim.outputs.plots.runs`), in order."""


@dataclass(repr=False)
class RunResult:
    """All tables of one scenario run.

    Attributes:
        scenario: the scenario run.
        runs: one row per world (``runs.csv``).
        survival: P(holding) per day with Wilson intervals (``survival.csv``).
        summary: one row of headline figures (``summary.csv``), ending with their ``validity`` flags and
            ``validity_note`` (:mod:`sim.stats.validity`: what the empirical record covers).
        trajectories: per-day means and 10th/90th percentiles (``trajectories.csv``), or None.
        intent: P(deal) and P(hold 365 | deal) by quartile of Russia's intent (``intent.csv``).
        wall_seconds: time the simulation took (seconds).
        workers: local processes used.
    """

    scenario: Scenario
    runs: pd.DataFrame
    survival: pd.DataFrame
    summary: pd.DataFrame
    trajectories: pd.DataFrame | None
    intent: pd.DataFrame
    wall_seconds: float
    workers: int

    def headlines(self) -> list[tuple[str, float, float, float]]:
        """(label, value, 95 % low, 95 % high) of each headline in ``summary``: P(deal), P(hold 90 days),
        P(hold 1 year), P(hold at the horizon), P(hold 1 year | deal); those beyond the horizon left out."""
        row = self.summary.iloc[0]
        out = []
        for column, label in HEADLINE_LABELS.items():
            if column in row.index and pd.notna(row[column]):
                out.append((label, float(row[column]), float(row[f"{column}_ci_low"]), float(row[f"{column}_ci_high"])))
        return out

    def __repr__(self) -> str:
        """One short line: the scenario, its size, P(deal) and P(hold 1 year) with their intervals."""
        scenario = self.scenario
        shown = [f"{label} {value:.3f} [{low:.3f}, {high:.3f}]" for label, value, low, high in self.headlines()
                 if label in ("P(deal)", "P(hold 1 y)")]
        text = (f"<RunResult {scenario.name[:80]}: {len(self.runs):,} worlds x {scenario.horizon_days} days, "
                f"seed {scenario.seed}; {'; '.join(shown)}>")
        return text

    def _repr_html_(self) -> str:
        """A notebook's view: the scenario and a table of the headlines with their 95 % intervals."""
        scenario = self.scenario
        rows = "".join(f"<tr><td>{label}</td><td>{value:.3f}</td><td>[{low:.3f}, {high:.3f}]</td></tr>"
                       for label, value, low, high in self.headlines())
        return (f"<div><b>{html.escape(scenario.name)}</b>: {len(self.runs):,} worlds &times; "
                f"{scenario.horizon_days} days, seed {scenario.seed}, {self.wall_seconds:.2f} s"
                "<table><thead><tr><th>headline</th><th>value</th><th>95 % interval (Wilson)</th></tr></thead>"
                f"<tbody>{rows}</tbody></table></div>")

    def tables(self) -> dict[str, pd.DataFrame]:
        """The CSV files of the run folder by name (no ``trajectories.csv`` when they were not recorded)."""
        tables = {"runs.csv": self.runs, "survival.csv": self.survival, "summary.csv": self.summary,
                  "intent.csv": self.intent}
        if self.trajectories is not None:
            tables["trajectories.csv"] = self.trajectories
        return tables

    def manifest(self) -> dict[str, Any]:
        """The run's own manifest fields (the scenario, seed, versions … are added when it is written)."""
        return {"structure": self.scenario.structure.model_dump(), "block_worlds": BLOCK_WORLDS,
                "workers": self.workers, "wall_seconds": round(self.wall_seconds, 3)}

    def figures(self) -> tuple[str, ...]:
        """The figures its tables can be drawn into."""
        return tuple(f for f in RUN_FIGURES if self.trajectories is not None or f != "trajectories.png")

    def artefacts(self, source: str | Path | None = None) -> Artefacts:
        """What the run folder holds; ``source`` is the scenario file, recorded in the manifest."""
        return Artefacts("run", self.tables(), self.manifest(), figures=self.figures(), scenario=self.scenario,
                         source=source)


def run_result(records: RunRecords) -> RunResult:
    """The tables of a run from the engine's records."""
    scenario, runs, horizon = records.scenario, records.runs, records.scenario.horizon_days
    return RunResult(
        scenario=scenario,
        runs=runs,
        survival=survival_table(runs, horizon),
        summary=summary_table(runs, horizon, scenario.name, scenario.seed).assign(
            **validity_columns(horizon, scenario.structure)),
        trajectories=trajectory_table(records.trajectories, horizon) if records.trajectories else None,
        intent=intent_table(runs, horizon),
        wall_seconds=records.wall_seconds,
        workers=records.workers,
    )


def run_scenario(
    scenario: Scenario,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    record_trajectories: bool = True,
) -> RunResult:
    """Run all ``scenario.replications`` worlds and compute every table.

    Args:
        scenario: validated scenario; its ``seed`` determines every result.
        workers: local processes to use (>= 1); 1 runs in this process. The results do not depend on it.
        progress: called with the number of worlds each time a block of them finishes.
        record_trajectories: also compute ``trajectories.csv`` (costs memory: 4 floats per world-day).

    Raises:
        InputError: the run would need more memory than :func:`sim.engine.resources.memory_limit_bytes`
            (checked before anything is simulated).
        sim.engine.runner.WorkersStoppedError: with ``workers > 1``, the worker processes stopped.
    """
    return run_result(run_worlds(scenario, workers, progress, record_trajectories))
