"""A scenario run whose fitted parameters are drawn from a posterior (``ceasefire run --posterior``).

The same method as sweeps and the bet (:meth:`sim.stats.posterior.PosteriorChoice.world_values`): ``D``
particles are picked by weight (seeded by the scenario's seed), world ``r`` runs draw ``r % D``, and every
world keeps the streams it has in a plain run of the scenario. The run's tables then pool the worlds by
draw: their intervals hold the spread of each probability across the posterior as well as Monte Carlo
noise (``interval`` = ``parameters+monte_carlo``), and ``draws.csv`` gives each draw's particle and figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from sim.engine.runner import run_worlds
from sim.experiments.result import Artefacts
from sim.experiments.run import RunResult, run_result
from sim.spec.scenario import Scenario
from sim.stats.posterior import INTERVAL_KIND, Posterior, PosteriorChoice, draw_table, pooled_summary, pooled_survival
from sim.stats.validity import validity_columns


@dataclass
class PosteriorRun:
    """A run over posterior draws: its tables, pooled by draw, and one row per draw.

    Attributes:
        result: the run's tables; ``runs`` has a ``draw`` column (first), ``survival`` and ``summary`` pooled
            intervals with each headline's spread across the posterior and Monte-Carlo-only interval.
        draws: one row per draw: draw, particle, the particle's parameters, worlds, and the draw's own
            P(deal), P(hold at 365 days) and P(hold at the horizon).
        choice: the posterior and the number of draws.
    """

    result: RunResult
    draws: pd.DataFrame
    choice: PosteriorChoice

    @property
    def posterior(self) -> Posterior:
        """The posterior the parameters were drawn from."""
        return self.choice.posterior

    def artefacts(self, source: str | Path | None = None) -> Artefacts:
        """The run folder: the run's tables and figures, ``draws.csv``, and the posterior in the manifest."""
        plain = self.result.artefacts(source)
        plain.tables["draws.csv"] = self.draws
        plain.manifest.update(interval=INTERVAL_KIND,
                              posterior=self.choice.describe(self.result.scenario.replications))
        return plain


def run_with_posterior(
    scenario: Scenario, posterior: Posterior, draws: int, workers: int = 1,
    progress: Callable[[int], None] | None = None, record_trajectories: bool = True,
) -> PosteriorRun:
    """Run ``scenario`` with world ``r`` on posterior draw ``r % draws`` and pool the worlds by draw.

    Args:
        scenario: validated scenario; its ``seed`` picks the draws and seeds every world.
        posterior: the weighted particles (:func:`sim.stats.posterior.load_posterior`).
        draws: particles drawn, 1 .. ``scenario.replications``.
        workers: local processes (>= 1); the results do not depend on it.
        progress: called with the number of worlds each time a block of them finishes.
        record_trajectories: also compute ``trajectories.csv``.

    Raises:
        InputError: ``draws`` out of range, or a drawn value invalid for ``scenario``.
    """
    choice = PosteriorChoice(posterior, draws)
    values, draw_of_world = choice.world_values(scenario.seed, scenario.replications, template=scenario)
    records = run_worlds(scenario, workers, progress, record_trajectories, world_values=values)
    runs, horizon = records.runs, scenario.horizon_days
    draw = draw_of_world[runs["replication"].to_numpy()]
    pooled = replace(run_result(records), runs=runs.assign(draw=draw)[["draw", *runs.columns]],
                     survival=pooled_survival(runs, horizon, draw, draws),
                     summary=pooled_summary(runs, horizon, scenario.name, scenario.seed, draw, draws).assign(
                         **validity_columns(horizon, scenario.structure)))
    return PosteriorRun(pooled, draw_table(choice, scenario.seed, runs, horizon, draw), choice)
