"""Which parameters matter? Each assumed parameter alone at both ends of its prior (issue 22, "every parameter
matters or goes"): ``ceasefire screen --inert``.

Every ``inspired`` and ``assumption`` parameter of ``seeds/commitments.yaml`` is moved, alone, to the low and
the high end of its prior (:meth:`sim.spec.sources.Prior.ppf` at 0 and 1), all points with the baseline's
seed (common random numbers: the difference between two points is mostly the parameter's effect). A parameter
is *inert* when neither end moves any headline (P(deal), P(hold 365 d), P(hold 730 d), over all worlds) by
``THRESHOLD`` or more. Each inert parameter must say why in the commitments: ``acts_in`` naming the
non-default form(s) it acts in, or ``inert_reason``; :attr:`InertResult.undocumented` lists those that do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.result import Artefacts
from sim.experiments.screening import Factor, base_document, point_scenario, prior_factors
from sim.spec.scenario import Scenario
from sim.spec.sources import COMMITMENTS_FILE, load_commitments
from sim.stats.metrics import holding_counts

THRESHOLD = 0.01
"""A headline moved by less than this at both ends of the prior counts as not moved."""
HEADLINES: tuple[str, ...] = ("p_deal", "p_hold_365", "p_hold_730")
HOLD_DAYS = {"p_hold_365": 365, "p_hold_730": 730}
COLUMNS = ("parameter", "low", "high", "default", *[f"{h}_{end}" for end in ("low", "high") for h in HEADLINES],
           "largest_move", "inert", "acts_in", "inert_reason", "documented")


def headlines(scenario: Scenario, runs: pd.DataFrame) -> dict[str, float]:
    """P(deal), P(hold 365), P(hold 730) over all worlds (a day past the horizon reads the horizon)."""
    n_holding, n_agreed = holding_counts(runs, scenario.horizon_days)
    worlds = len(runs)
    values = {"p_deal": float(n_agreed) / worlds}
    for name, day in HOLD_DAYS.items():
        values[name] = float(n_holding[min(day, scenario.horizon_days)]) / worlds
    return values


@dataclass
class InertResult:
    """The effect of every assumed parameter at both ends of its prior."""

    table: pd.DataFrame
    baseline: dict[str, float]
    replications: int
    horizon_days: int
    seed: int

    @property
    def inert(self) -> list[str]:
        """The parameters that move no headline by ``THRESHOLD``."""
        return self.table.loc[self.table["inert"], "parameter"].tolist()

    @property
    def undocumented(self) -> list[str]:
        """Inert parameters with neither ``acts_in`` nor ``inert_reason`` in the commitments."""
        rows = self.table[self.table["inert"] & ~self.table["documented"]]
        return rows["parameter"].tolist()

    def artefacts(self) -> Artefacts:
        return Artefacts("screen", {"inert.csv": self.table}, manifest={
            "experiment": "inert", "threshold": THRESHOLD, "baseline": self.baseline,
            "replications": self.replications, "horizon_days": self.horizon_days, "seed": self.seed,
            "inert": self.inert, "undocumented": self.undocumented})


def _documentation() -> dict[str, tuple[str, str]]:
    """Dotted path -> (acts_in, inert_reason) from the commitments."""
    commitments = load_commitments(COMMITMENTS_FILE)
    out = {}
    for owner, name, provenance in commitments.items():
        path = f"model.{name}" if owner == "model" else f"agents.{owner}.{name}"
        out[path] = (provenance.acts_in or "", provenance.inert_reason or "")
    return out


def run_inert(scenario_file: Path, replications: int, horizon: int, seed: int, workers: int = 1,
              parameters: Sequence[str] | None = None,
              progress: Callable[[int], None] | None = None, executor: Executor | None = None) -> InertResult:
    """Run the baseline and every parameter (or only ``parameters``) at both ends of its prior; ``executor``: where
    the packs run (a Dask cluster's, ``--scheduler``) instead of ``workers`` local processes; the same bytes."""
    from sim.engine.packing import run_packed

    document = base_document(scenario_file, replications, horizon, seed)
    factors: list[Factor] = prior_factors()
    if parameters is not None:
        factors = [f for f in factors if f.path in set(parameters)]
    scenarios = [point_scenario(document, [], np.array([]))]
    for factor in factors:
        scenarios += [point_scenario(document, [factor], np.array([0.0])),
                      point_scenario(document, [factor], np.array([1.0]))]
    values: list[dict[str, float]] = [{}] * len(scenarios)

    def done(index: int, runs: pd.DataFrame) -> None:
        values[index] = headlines(scenarios[index], runs)
        if progress is not None:
            progress(1)

    run_packed(scenarios, [()] * len(scenarios), done=done, workers=workers, executor=executor)
    return InertResult(_table(factors, values, document), values[0], replications, horizon, seed)


def _table(factors: Sequence[Factor], values: Sequence[dict[str, float]], document: dict[str, Any]) -> pd.DataFrame:
    base, documentation, rows = values[0], _documentation(), []
    for number, factor in enumerate(factors):
        low, high = values[1 + 2 * number], values[2 + 2 * number]
        moves = [abs(end[h] - base[h]) for end in (low, high) for h in HEADLINES]
        acts_in, reason = documentation.get(factor.path, ("", ""))
        inert = max(moves) < THRESHOLD
        rows.append({"parameter": factor.path, "low": factor.value(0.0), "high": factor.value(1.0),
                     "default": factor.default if factor.default is not None else _default(document, factor.path),
                     **{f"{h}_low": low[h] for h in HEADLINES}, **{f"{h}_high": high[h] for h in HEADLINES},
                     "largest_move": max(moves), "inert": inert, "acts_in": acts_in, "inert_reason": reason,
                     "documented": bool(acts_in or reason)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _default(document: dict[str, Any], path: str) -> Any:
    node: Any = document
    for key in path.split("."):
        node = node[key]
    return node


def summary_lines(result: InertResult) -> str:
    """What the command prints: the inert parameters and why each is."""
    lines = ["baseline: " + ", ".join(f"{h} {v:.3f}" for h, v in result.baseline.items()),
             f"{len(result.inert)} of {len(result.table)} parameters move no headline by {THRESHOLD} at either end "
             "of their prior:"]
    for row in result.table[result.table["inert"]].itertuples():
        why = f"acts in {row.acts_in}" if row.acts_in else row.inert_reason or "UNDOCUMENTED"
        lines.append(f"  {row.parameter} (largest move {row.largest_move:.4f}): {why}")
    if result.undocumented:
        lines.append(f"undocumented: {', '.join(result.undocumented)}")
    return "\n".join(lines)
