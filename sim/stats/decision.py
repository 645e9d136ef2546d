"""Decision criteria for options evaluated in one shared set of futures (decision making under deep uncertainty).

Every function takes ``values``: a DataFrame with one row per future (a model structure x posterior draw, run with
common random numbers) and one column per option (a candidate guarantee package), holding one outcome in its own
units (a probability in [0, 1] for P(deal), P(hold 1 y), P(hold 5 y)). Because every option is run in the same
futures, a row is a paired comparison, and the bootstrap resamples rows (futures) jointly across options.

Criteria (Lempert, Popper & Bankes 2003, *Shaping the Next One Hundred Years*, RAND MR-1626; Lempert & Collins
2007, *Risk Analysis* 27:1009), with "better" meaning higher unless ``higher_is_better=False``:

- expected value: the mean over futures (futures weighted equally, as the ensemble draws them);
- worst decile: the mean of the worst 10% of futures (the conditional value at risk, CVaR at 10%). A mean over the
  tail rather than the 10th percentile, because it uses every tail future, moves continuously with them, and does
  not stick on tied values (probabilities estimated from finite replications tie often). With ``n`` futures the
  tail holds ``0.1 n`` futures: the ``floor(0.1 n)`` worst in full and the next one with the fractional remainder
  (Rockafellar & Uryasev 2002, *J. Banking & Finance* 26:1443), so with fewer than 10 futures it is the minimum;
- regret in a future: the best option's value in that future minus this option's (>= 0, 0 for the best option);
  max regret (minimax regret: Savage 1951, *JASA* 46:55) and the 90th-percentile regret (numpy's linear interpolation);
  expected regret is also reported: E[regret_j] = E[max_k value_k] - E[value_j], so the option with the highest
  expected value has the lowest expected regret, and that lowest expected regret is the expected value of perfect
  information (see :func:`sim.stats.evppi.evpi`);
- satisficing share: the share of futures in which the option meets ``threshold`` (value >= threshold; <= when
  lower is better), in [0, 1] (Simon 1956; the "robustness" of Lempert et al. 2006, *Management Science* 52:514).

Intervals are bootstrap percentile intervals over futures (Efron & Tibshirani 1993, ch. 13). Pure numpy/pandas:
nothing here imports ``sim``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

WORST_FRACTION = 0.10
REGRET_QUANTILE = 0.90
# criterion -> (column of the table, "max" if the criterion picks the largest value, "min" for the smallest)
CRITERIA: dict[str, tuple[str, str]] = {
    "expected value": ("expected_value", "max"),
    "worst decile": ("worst_decile", "max"),
    "minimax regret": ("max_regret", "min"),
    "90th-percentile regret": ("p90_regret", "min"),
    "satisficing": ("satisficing_share", "max"),
}
STATISTICS = ("expected_value", "worst_decile", "expected_regret", "max_regret", "p90_regret", "satisficing_share")
_BOOTSTRAP_BATCH = 64  # resamples computed at once (bounds memory at 64 x futures x options floats)


@dataclass(frozen=True)
class CriteriaResult:
    """What :func:`criteria` returns.

    ``table``: one row per option; the columns of :data:`STATISTICS` in the outcome's units (regrets >= 0,
    ``satisficing_share`` in [0, 1], NaN without a threshold), each with ``_lo`` and ``_hi`` bootstrap bounds.
    ``picks``: one row per criterion: ``pick`` (the option it picks; the first in column order among exact ties),
    ``score`` (the pick's value of the criterion), ``tied_with`` (other options with the same score, comma-joined,
    "" if none), ``pick_share`` (share of bootstrap resamples in which the criterion picks the same option: its
    stability, NaN without a bootstrap). ``regret``: the per-future regret table. ``disagree``: True when the
    criteria do not all pick the same option.
    """

    table: pd.DataFrame
    picks: pd.DataFrame
    regret: pd.DataFrame
    disagree: bool

    def disagreement(self) -> str:
        """One sentence: which option each criterion picks, saying whether they agree."""
        named = "; ".join(f"{criterion} picks {row.pick}" for criterion, row in self.picks.iterrows())
        return ("Criteria disagree: " if self.disagree else "Criteria agree: ") + named + "."


def _validated(values: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(values, pd.DataFrame):
        raise TypeError("values must be a DataFrame: one row per future, one column per option")
    if values.shape[0] < 1 or values.shape[1] < 1:
        raise ValueError("values needs at least one future (row) and one option (column)")
    if not values.columns.is_unique:
        raise ValueError("option names (columns) must be unique")
    numeric = values.apply(pd.to_numeric, errors="raise").astype(float)
    if not np.isfinite(numeric.to_numpy()).all():
        raise ValueError("values must be finite numbers (no NaN): every option needs a value in every future")
    return numeric


def _oriented(values: pd.DataFrame, higher_is_better: bool) -> tuple[np.ndarray, float]:
    """The values as "goodness" (higher is better) and the sign that maps them back to the outcome's units."""
    sign = 1.0 if higher_is_better else -1.0
    return sign * _validated(values).to_numpy(), sign


def regret_table(values: pd.DataFrame, higher_is_better: bool = True) -> pd.DataFrame:
    """Regret of each option in each future: the best option's value in that future minus this option's.

    Same shape, index and columns as ``values``; every entry >= 0 (in the outcome's units), and in every future the
    best option's regret is exactly 0. With ``higher_is_better=False`` the best is the smallest value and regret is
    this option's value minus it.
    """
    goodness, _ = _oriented(values, higher_is_better)
    regret = goodness.max(axis=1, keepdims=True) - goodness
    return pd.DataFrame(regret, index=values.index, columns=values.columns)


def _tail_weights(n_futures: int, fraction: float) -> np.ndarray:
    """Weights over futures sorted worst first whose dot product is the mean of the worst ``fraction`` of them."""
    tail = fraction * n_futures
    weights = np.clip(tail - np.arange(n_futures), 0.0, 1.0)
    return weights / tail


def _statistics(goodness: np.ndarray, threshold: float | None, tail_weights: np.ndarray) -> np.ndarray:
    """The :data:`STATISTICS` of goodness values shaped (..., futures, options), as (..., statistic, option),
    with value statistics still in goodness units."""
    regret = goodness.max(axis=-1, keepdims=True) - goodness
    worst_first = np.sort(goodness, axis=-2)
    if threshold is None:
        satisficing = np.full(goodness.shape[:-2] + goodness.shape[-1:], np.nan)
    else:
        satisficing = (goodness >= threshold).mean(axis=-2)
    return np.stack([
        goodness.mean(axis=-2),
        np.einsum("...fo,f->...o", worst_first, tail_weights),
        regret.mean(axis=-2),
        regret.max(axis=-2),
        np.quantile(regret, REGRET_QUANTILE, axis=-2),
        satisficing,
    ], axis=-2)


def _in_units(stats: np.ndarray, sign: float) -> np.ndarray:
    """Statistics from goodness back to the outcome's units (values flip sign; regrets and shares do not)."""
    out = stats.copy()
    out[..., :2, :] = sign * out[..., :2, :] + 0.0  # + 0.0 turns -0.0 into 0.0
    return out


def _pick(scores: np.ndarray, direction: str) -> np.ndarray:
    """Index of the picked option along the last axis (the first among exact ties)."""
    return np.argmax(scores, axis=-1) if direction == "max" else np.argmin(scores, axis=-1)


def criteria(values: pd.DataFrame, threshold: float | None = None, bootstrap: int = 1000, seed: int = 0,
             higher_is_better: bool = True, level: float = 0.95) -> CriteriaResult:
    """Every criterion for every option, with bootstrap intervals, and the option each criterion picks.

    ``values``: futures x options (see the module docstring). ``threshold``: the satisficing level in the outcome's
    units (None: no satisficing criterion). ``bootstrap``: number of resamples of futures (0: no intervals; the
    bounds are then NaN). ``seed``: seeds a numpy Generator, so one seed gives the same intervals. ``level``: the
    central coverage of the percentile intervals, in (0, 1).
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    if bootstrap < 0:
        raise ValueError("bootstrap must be >= 0 resamples")
    goodness, sign = _oriented(values, higher_is_better)
    n_futures = goodness.shape[0]
    weights = _tail_weights(n_futures, WORST_FRACTION)
    oriented_threshold = None if threshold is None else sign * float(threshold)
    point_goodness = _statistics(goodness, oriented_threshold, weights)
    point = _in_units(point_goodness, sign)

    stat_index = {name: i for i, name in enumerate(STATISTICS)}
    lower = np.full_like(point, np.nan)
    upper = np.full_like(point, np.nan)
    picks_agree = {name: np.nan for name in CRITERIA}
    point_picks = {name: int(_pick(point_goodness[stat_index[col]], d)) for name, (col, d) in CRITERIA.items()}
    if bootstrap:
        rng = np.random.default_rng(seed)
        draws = []
        for start in range(0, bootstrap, _BOOTSTRAP_BATCH):
            rows = rng.integers(0, n_futures, size=(min(_BOOTSTRAP_BATCH, bootstrap - start), n_futures))
            draws.append(_statistics(goodness[rows], oriented_threshold, weights))
        boot_goodness = np.concatenate(draws)  # (resample, statistic, option)
        boot = _in_units(boot_goodness, sign)
        tail = (1 - level) / 2
        lower, upper = np.quantile(boot, [tail, 1 - tail], axis=0)
        for name, (col, direction) in CRITERIA.items():
            if col == "satisficing_share" and threshold is None:
                continue
            picked = _pick(boot_goodness[:, stat_index[col]], direction)
            picks_agree[name] = float((picked == point_picks[name]).mean())

    columns: dict[str, np.ndarray] = {}
    for i, name in enumerate(STATISTICS):
        columns[name], columns[f"{name}_lo"], columns[f"{name}_hi"] = point[i], lower[i], upper[i]
    table = pd.DataFrame(columns, index=pd.Index(values.columns, name="option"))

    options = list(values.columns)
    rows = []
    for name, (col, _direction) in CRITERIA.items():
        if col == "satisficing_share" and threshold is None:
            continue
        scores = point_goodness[stat_index[col]]
        best = point_picks[name]
        tied = [options[j] for j in np.flatnonzero(np.isclose(scores, scores[best], rtol=1e-12, atol=1e-12))
                if j != best]
        rows.append({"criterion": name, "pick": options[best], "score": table[col].iloc[best],
                     "tied_with": ", ".join(map(str, tied)), "pick_share": picks_agree[name]})
    picks = pd.DataFrame(rows).set_index("criterion")
    regret = pd.DataFrame(goodness.max(axis=1, keepdims=True) - goodness, index=values.index, columns=values.columns)
    return CriteriaResult(table=table, picks=picks, regret=regret, disagree=picks["pick"].nunique() > 1)
