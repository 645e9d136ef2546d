"""Per-day statistics of the state of the worlds whose ceasefire still holds (``trajectories.csv``).

Pure functions of the engine's per-day records (:class:`sim.engine.runner.RunRecords`); they know nothing
of the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

TABLE_DAYS = 64
"""Days per slice when :func:`trajectory_table` joins the blocks, so its working copies stay small."""


def trajectory_table(blocks: Sequence[Mapping[str, np.ndarray]], horizon_days: int) -> pd.DataFrame:
    """Per-day mean and 10th/90th percentiles of each trajectory variable over holding worlds.

    Args:
        blocks: per block of worlds, in replication order, variable -> array (horizon + 1, worlds), NaN
            on the days a world's ceasefire does not hold. Every block has the same variables, in the
            order of the table's columns.
        horizon_days: the last day (>= 0).

    The blocks are joined ``TABLE_DAYS`` days at a time, so beyond the blocks themselves memory grows
    by one slice (``TABLE_DAYS`` x worlds), not by copies of every day; each day's figures are
    computed exactly as over all days at once.
    """
    slices = [_trajectory_slice(blocks, first, min(first + TABLE_DAYS, horizon_days + 1))
              for first in range(0, horizon_days + 1, TABLE_DAYS)]
    frame = pd.concat(slices, ignore_index=True)
    value_columns = [c for c in frame.columns if c not in ("day", "n_holding")]
    frame[value_columns] = frame[value_columns].round(6)
    return frame


def _trajectory_slice(blocks: Sequence[Mapping[str, np.ndarray]], first: int, stop: int) -> pd.DataFrame:
    """Rows ``first .. stop - 1`` (days) of the trajectory table, before rounding."""
    table: dict[str, np.ndarray] = {"day": np.arange(first, stop)}
    for position, name in enumerate(blocks[0]):
        values = np.concatenate([block[name][first:stop] for block in blocks], axis=1)
        holding = ~np.isnan(values)
        count = holding.sum(axis=1)
        if position == 0:
            table["n_holding"] = count
        with np.errstate(invalid="ignore", divide="ignore"):
            # what np.nansum computes (NaN as 0, the same pairwise sum), without its second isnan pass and copy
            sums = np.add.reduce(np.where(holding, values, np.float32(0)), axis=1, dtype=np.float64)
            table[f"{name}_mean"] = np.where(count > 0, sums / count, np.nan)
        p10, p90 = _nan_quantiles(values, count, (0.1, 0.9))
        table[f"{name}_p10"], table[f"{name}_p90"] = p10, p90
    return pd.DataFrame(table)


def _nan_quantiles(values: np.ndarray, count: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    """Row-wise quantiles ignoring NaN (linear interpolation), fast: one sort, NaN sorted last."""
    ordered = np.sort(values, axis=1)
    out = []
    rows = np.arange(values.shape[0])
    for q in qs:
        position = q * np.maximum(count - 1, 0)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(count - 1, 0))
        frac = position - low
        result = ordered[rows, low] * (1.0 - frac) + ordered[rows, high] * frac
        out.append(np.where(count > 0, result, np.nan))
    return out
