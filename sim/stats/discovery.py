"""Scenario discovery: the regions of assumptions in which an option fails, as boxes over the uncertain factors.

Input: ``x``, one row per future and one column per uncertain factor (a model structure or mechanism switch as a
categorical column, a parameter as a numeric one), and ``y``, True where the option fails in that future (or where
"provocation beats deterrence"). Output: boxes, each a conjunction of limits on a few factors, with

- coverage: the share of all failing futures that fall in the box, in [0, 1];
- density: the share of futures in the box that fail, in [0, 1];
- mass: the share of all futures in the box, in [0, 1];
- restricted dimensions: the factors whose limits the box narrows;
- the peeling trajectory: coverage, density, mass and restricted dimensions after each step.

Method (Bryant & Lempert 2010, *Technological Forecasting & Social Change* 77:34): PRIM, the Patient Rule
Induction Method (Friedman & Fisher 1999, *Statistics and Computing* 9:123), from EMA Workbench's maintained
implementation (``ema_workbench.analysis.prim``; Kwakkel 2017, *Environmental Modelling & Software* 96:239),
which peels ``peel_alpha`` of the box's futures off one face at a time, keeping the peel that raises density most
per futures lost (its "lenient1" objective), down to ``mass_min``, then pastes back. Categorical factors are peeled
one category at a time. Where EMA Workbench is not importable, a classification tree from scikit-learn (Breiman et
al. 1984): every node of the tree is a box (the conjunction of the splits above it), and the path from the root to
the chosen node is its trajectory. Neither algorithm is written here.

Choosing a box on a trajectory (:func:`select_step`): the step with the highest F-score, the weighted harmonic
mean of density and coverage (van Rijsbergen 1979, *Information Retrieval*, ch. 7: density is a classifier's
precision, coverage its recall), ``F = (1 + beta^2) density coverage / (beta^2 density + coverage)``; ``beta = 1``
weighs them equally, ``beta < 1`` favours density and ``beta > 1`` coverage. Ties go to the fewest restricted
dimensions, then the earliest step. Optionally only steps keeping ``min_coverage`` x the start's coverage compete
(default 0: no floor). This is Bryant & Lempert's density-coverage trade-off made automatic. Two simpler rules fail
on synthetic data: "highest density with coverage >= 0.5" chases sampling noise (with 2% of labels flipped it took,
in one of 20 trials, a peel that lost a third of the coverage for 1.4 points of density; the F-score chose the true
box in all 20), and any coverage floor above the share of the largest region forces a box that mixes two disjoint
failure regions with the non-failing futures between them.

Further boxes (``n_boxes > 1``) are found, as in PRIM's covering, among the futures outside the boxes already
chosen; their coverage still counts all failing futures, and covering stops at the first further box whose density
is not above the share of failing futures in all the data (such a box is no failure region). The first box is
always reported: if it restricts nothing, no region was found. PRIM peels greedily, one face at a time, so with two
disjoint failure regions its first trajectory may never isolate either; a tree separates them more readily.

Pure numpy/pandas (+ the optional libraries): nothing here imports ``sim``.
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

TRAJECTORY_COLUMNS = ["box", "step", "coverage", "density", "mass", "n", "n_restricted", "selected"]
BOX_COLUMNS = ["box", "dimension", "kind", "lower", "upper", "lower_restricted", "upper_restricted", "categories"]
SUMMARY_COLUMNS = ["box", "step", "coverage", "density", "mass", "n", "n_restricted", "restricted"]

# A box: factor name -> (lower, upper) for numeric factors or a frozenset of the allowed categories for categorical
# ones. PRIM's limits are data values, both inclusive; a tree's are its split points, lower exclusive (x > lower),
# upper inclusive (x <= upper).
Limits = dict[str, Any]


@dataclass(frozen=True)
class DiscoveryResult:
    """What :func:`discover` returns.

    ``method``: the algorithm and library version used. ``summary``: one row per box (:data:`SUMMARY_COLUMNS`;
    ``step`` is the chosen trajectory step, ``restricted`` the restricted factors comma-joined). ``boxes``: one row
    per restricted factor of each box (:data:`BOX_COLUMNS`; numeric: ``lower``/``upper`` and whether each limit is
    narrower than the data's range; categorical: the allowed ``categories`` as a tuple). ``trajectory``: one row per
    step of each box's trajectory (:data:`TRAJECTORY_COLUMNS`; ``selected`` marks the chosen step).
    """

    method: str
    summary: pd.DataFrame
    boxes: pd.DataFrame
    trajectory: pd.DataFrame


def prim_available() -> bool:
    """Whether EMA Workbench's PRIM can be imported here."""
    try:
        _ema_prim()
    except ImportError:
        return False
    return True


def _ema_prim() -> ModuleType:
    with warnings.catch_warnings():
        # EMA Workbench warns on import when its optional parallel back-end (ipyparallel) is missing.
        warnings.filterwarnings("ignore", message=".*ipyparallel.*", category=UserWarning)
        from ema_workbench.analysis import prim
    return prim


# --------------------------------------------------------------------------- inputs


def _validated(x: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """Factors with numeric columns (integers too) as float64 and the rest (booleans too) as categories holding only
    the values present; a positional index; y as bool."""
    if not isinstance(x, pd.DataFrame) or x.shape[1] == 0:
        raise TypeError("x must be a DataFrame with one column per uncertain factor")
    if not x.columns.is_unique:
        raise ValueError("factor names (columns of x) must be unique")
    fails = np.asarray(y)
    if fails.ndim != 1 or len(fails) != len(x):
        raise ValueError("y must be 1-D with one entry per row of x")
    if fails.dtype != bool:
        if not np.isin(fails, (0, 1)).all():
            raise ValueError("y must be boolean (True where the option fails)")
        fails = fails.astype(bool)
    if fails.all() or not fails.any():
        raise ValueError("y needs both failing and non-failing futures to discover a region")
    if x.isna().to_numpy().any():
        raise ValueError("x must have no missing values")
    columns = {}
    for name in x.columns:
        column = x[name]
        numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
        columns[name] = (column.astype(float).to_numpy() if numeric
                         else pd.Categorical(column).remove_unused_categories())
    return pd.DataFrame(columns, index=pd.RangeIndex(len(x))), fails


def _restricted(limits: Limits, initial: Limits) -> list[str]:
    """Factors whose limits are narrower than the initial box's, in the initial box's order."""
    return [name for name in initial if name in limits and _narrower(limits[name], initial[name])]


def _narrower(limit: Any, initial: Any) -> bool:
    if isinstance(initial, frozenset):
        return limit != initial
    return limit[0] > initial[0] or limit[1] < initial[1]


# --------------------------------------------------------------------------- choosing a step


def select_step(trajectory: pd.DataFrame, min_coverage: float = 0.0, beta: float = 1.0) -> int:
    """Position (0-based row) of the chosen step on a trajectory with ``coverage``, ``density``, ``n_restricted``.

    The rule of the module docstring: among steps with coverage >= ``min_coverage`` x the first step's coverage, the
    highest F-score (``beta`` weighs coverage against density), then the fewest restricted dimensions, then the
    earliest.
    """
    coverage = trajectory["coverage"].to_numpy(dtype=float)
    density = trajectory["density"].to_numpy(dtype=float)
    weighted = beta**2 * density + coverage
    score = np.divide((1 + beta**2) * density * coverage, weighted, out=np.zeros_like(weighted), where=weighted > 0)
    eligible = coverage >= min_coverage * coverage[0] - 1e-12
    eligible[0] = True
    score = np.where(eligible, np.round(score, 12), -np.inf)
    order = np.lexsort((np.arange(len(score)), trajectory["n_restricted"].to_numpy(), -score))
    return int(order[0])


# --------------------------------------------------------------------------- PRIM (EMA Workbench)


def _ema_limits(box_lim: pd.DataFrame) -> Limits:
    limits: Limits = {}
    for name in box_lim.columns:
        low, high = box_lim[name].iloc[0], box_lim[name].iloc[1]
        limits[name] = frozenset(low) if isinstance(low, (set, frozenset)) else (float(low), float(high))
    return limits


def _prim_boxes(x: pd.DataFrame, fails: np.ndarray, n_boxes: int, min_coverage: float, beta: float,
                peel_alpha: float, paste_alpha: float, mass_min: float
                ) -> tuple[list[tuple[pd.DataFrame, int, Limits]], Limits]:
    """Per box: its trajectory (coverage, density, mass, n, n_restricted), the chosen step and its limits; and
    the initial box (the data's range)."""
    prim = _ema_prim()
    # EMA Workbench drops a column named "scenario" and ignores dtypes other than float64/int64/category, so the
    # factors go in under neutral names with the dtypes of _validated.
    internal = {f"factor_{i}": name for i, name in enumerate(x.columns)}
    data = x.set_axis(list(internal), axis=1)
    options = {"peel_alpha": peel_alpha, "paste_alpha": paste_alpha, "mass_min": mass_min}
    if "threshold" in inspect.signature(prim.Prim).parameters:
        # EMA Workbench 2.x counts futures with y >= threshold as failing, and replaces a found box whose density is
        # below threshold by the whole space. Any threshold in (0, 1] counts exactly the True ones; the smallest
        # keeps every box that holds a failure, so that the choice is the rule of select_step as in 3.x (which has
        # no threshold).
        options["threshold"] = 1e-9
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"ema_workbench\..*")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"ema_workbench\..*")
        algorithm = prim.Prim(data, fails, **options)
        initial = {internal[k]: v for k, v in _ema_limits(algorithm.box_init).items()}
        found = []
        for _ in range(n_boxes):
            box = algorithm.find_box()
            if box is None:
                break
            steps = [{internal[k]: v for k, v in _ema_limits(lim).items()} for lim in box.box_lims]
            trajectory = box.peeling_trajectory.reset_index(drop=True)
            trajectory = pd.DataFrame({
                "coverage": trajectory["coverage"].astype(float), "density": trajectory["density"].astype(float),
                "mass": trajectory["mass"].astype(float), "n": trajectory["n"].astype(int),
                "n_restricted": [len(_restricted(limits, initial)) for limits in steps],
            })
            step = select_step(trajectory, min_coverage, beta)
            if found and trajectory["density"].iloc[step] <= fails.mean():
                break
            box.select(step)
            found.append((trajectory, step, steps[step]))
            if trajectory["n_restricted"].iloc[step] == 0:
                break
    return found, initial


# --------------------------------------------------------------------------- classification tree (scikit-learn)


def _encoded(x: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, Any]]]:
    """Numeric factors as they are, categorical ones one-hot; per encoded column (factor, category or None)."""
    blocks, meaning = [], []
    for name in x.columns:
        column = x[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            for category in column.cat.categories:
                blocks.append((column == category).to_numpy(dtype=float))
                meaning.append((name, category))
        else:
            blocks.append(column.to_numpy(dtype=float))
            meaning.append((name, None))
    return np.column_stack(blocks), meaning


def _tree_node_limits(tree: Any, meaning: list[tuple[str, Any]], initial: Limits) -> dict[int, tuple[Limits, list]]:
    """Per node of a fitted sklearn tree: its box and the path of node ids from the root."""
    nodes: dict[int, tuple[Limits, list]] = {0: (dict(initial), [0])}
    stack = [0]
    while stack:
        node = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left < 0:
            continue
        name, category = meaning[tree.feature[node]]
        cut = float(tree.threshold[node])
        limits, path = nodes[node]
        left_limits, right_limits = dict(limits), dict(limits)
        if category is None:  # numeric: left is x <= cut, right is x > cut
            low, high = limits[name]
            left_limits[name] = (low, min(high, cut))
            right_limits[name] = (max(low, cut), high)
        else:  # one-hot: left is "not this category", right is "this category"
            left_limits[name] = limits[name] - {category}
            right_limits[name] = limits[name] & {category}
        nodes[left], nodes[right] = (left_limits, [*path, left]), (right_limits, [*path, right])
        stack += [left, right]
    return nodes


def _tree_boxes(x: pd.DataFrame, fails: np.ndarray, n_boxes: int, min_coverage: float, beta: float, mass_min: float,
                max_depth: int, seed: int) -> tuple[list[tuple[pd.DataFrame, int, Limits]], Limits]:
    from sklearn.tree import DecisionTreeClassifier

    encoded, meaning = _encoded(x)
    initial: Limits = {
        name: frozenset(x[name].cat.categories) if isinstance(x[name].dtype, pd.CategoricalDtype)
        else (float(x[name].min()), float(x[name].max())) for name in x.columns
    }
    remaining = np.ones(len(x), dtype=bool)
    total_failures, total = fails.sum(), len(fails)
    found = []
    for _ in range(n_boxes):
        rows = np.flatnonzero(remaining)
        if not fails[rows].any() or fails[rows].all():
            break
        classifier = DecisionTreeClassifier(max_depth=max_depth, random_state=seed,
                                            min_samples_leaf=max(1, math.ceil(mass_min * total)))
        classifier.fit(encoded[rows], fails[rows])
        reached = classifier.decision_path(encoded[rows]).tocsc()  # (futures, nodes), 1 where a future passes
        n_in = np.asarray(reached.sum(axis=0)).ravel()
        failing_in = np.asarray(reached.T @ fails[rows].astype(float)).ravel()
        nodes = _tree_node_limits(classifier.tree_, meaning, initial)
        table = pd.DataFrame({
            "coverage": failing_in / total_failures, "density": failing_in / n_in, "mass": n_in / total,
            "n": n_in.astype(int), "n_restricted": [len(_restricted(nodes[i][0], initial)) for i in range(len(n_in))],
        })
        best = select_step(table, min_coverage, beta)
        if found and table["density"].iloc[best] <= total_failures / total:
            break
        path = nodes[best][1]
        trajectory = table.iloc[path].reset_index(drop=True)
        found.append((trajectory, len(path) - 1, nodes[best][0]))
        inside = reached[:, best].toarray().ravel() > 0
        remaining[rows[inside]] = False
        if trajectory["n_restricted"].iloc[-1] == 0:
            break
    return found, initial


# --------------------------------------------------------------------------- the entry point


def _tables(found: list[tuple[pd.DataFrame, int, Limits]], initial: Limits
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    summary_rows, box_rows, trajectories = [], [], []
    for number, (trajectory, step, limits) in enumerate(found, start=1):
        restricted = _restricted(limits, initial)
        chosen = trajectory.iloc[step]
        summary_rows.append({"box": number, "step": step, "coverage": chosen["coverage"],
                             "density": chosen["density"], "mass": chosen["mass"], "n": int(chosen["n"]),
                             "n_restricted": len(restricted), "restricted": ", ".join(map(str, restricted))})
        for name in restricted:
            if isinstance(initial[name], frozenset):
                box_rows.append({"box": number, "dimension": name, "kind": "categorical", "lower": np.nan,
                                 "upper": np.nan, "lower_restricted": False, "upper_restricted": False,
                                 "categories": tuple(sorted(limits[name], key=str))})
            else:
                low, high = limits[name]
                box_rows.append({"box": number, "dimension": name, "kind": "numeric", "lower": low, "upper": high,
                                 "lower_restricted": low > initial[name][0],
                                 "upper_restricted": high < initial[name][1], "categories": None})
        steps = trajectory.assign(box=number, step=np.arange(len(trajectory)),
                                  selected=np.arange(len(trajectory)) == step)
        trajectories.append(steps[TRAJECTORY_COLUMNS])
    summary = pd.DataFrame(summary_rows, columns=SUMMARY_COLUMNS)
    boxes = pd.DataFrame(box_rows, columns=BOX_COLUMNS)
    trajectory = pd.concat(trajectories, ignore_index=True) if trajectories else pd.DataFrame(
        columns=TRAJECTORY_COLUMNS)
    return summary, boxes, trajectory


def discover(x: pd.DataFrame, y: Any, *, method: str = "auto", n_boxes: int = 1, min_coverage: float = 0.0,
             beta: float = 1.0, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
             mass_min: float = 0.05, max_depth: int = 6, seed: int = 0) -> DiscoveryResult:
    """Boxes of ``x`` (futures x factors; numeric and categorical columns, no missing values) where ``y`` is True.

    ``method``: "prim" (EMA Workbench; ImportError if missing), "tree" (scikit-learn) or "auto" (PRIM where
    importable, else the tree). ``n_boxes``: at most this many boxes (covering; stops early at a box that restricts
    nothing, which means no region was found). ``min_coverage``, ``beta``: the choice of step (see
    :func:`select_step`). ``peel_alpha``, ``paste_alpha`` (shares of the box's futures per step, in (0, 1)) and
    ``mass_min`` (the smallest box, as a share of all futures) go to PRIM; the tree uses ``mass_min`` as its
    smallest leaf, ``max_depth`` and ``seed`` (ties between equally good splits).
    """
    if method not in ("auto", "prim", "tree"):
        raise ValueError("method must be 'auto', 'prim' or 'tree'")
    if n_boxes < 1:
        raise ValueError("n_boxes must be >= 1")
    if not (0 <= min_coverage <= 1 and beta > 0 and 0 < mass_min < 1):
        raise ValueError("need 0 <= min_coverage <= 1, beta > 0 and 0 < mass_min < 1")
    factors, fails = _validated(x, y)
    use_prim = method == "prim" or (method == "auto" and prim_available())
    if use_prim:
        found, initial = _prim_boxes(factors, fails, n_boxes, min_coverage, beta, peel_alpha, paste_alpha,
                                     mass_min)
        label = f"prim (ema_workbench {metadata.version('ema_workbench')})"
    else:
        found, initial = _tree_boxes(factors, fails, n_boxes, min_coverage, beta, mass_min, max_depth, seed)
        label = f"classification tree (scikit-learn {metadata.version('scikit-learn')})"
    summary, boxes, trajectory = _tables(found, initial)
    return DiscoveryResult(method=label, summary=summary, boxes=boxes, trajectory=trajectory)
