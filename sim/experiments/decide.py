"""Decide under deep uncertainty: every candidate guarantee package in the same futures, judged by several criteria,
with the assumptions under which an option fails and the value of learning each assumption first.

**Futures** are the structural x parameter ensemble of :mod:`sim.experiments.ensemble`: C combinations of the
contested mechanisms' forms (a seeded uniform sample of all of them) crossed with K parameter draws, from the
committed calibrated posterior by default or from the priors (``priors=True``). Future ``(c, d)`` runs with seed
``seed + d``.

**Options** (:mod:`sim.spec.options`) set the decision levers; a lever that an option sets is a decision, not an
uncertainty, so a prior draw of it is dropped. Every option runs in every future with the same seed and stream
(common random numbers: the differences between options in a future are paired), all (option, future) runs packed
many to a batch (:mod:`sim.engine.packing`), so the bytes do not depend on the workers or the executor.

**Outcomes** per run of N worlds: P(deal), P(hold 1 y) and P(hold 5 y) over all worlds (no deal is not holding;
5 y needs a horizon of 1,825 days).

**Criteria** (:func:`sim.stats.decision.criteria`) per outcome and option, with bootstrap intervals over futures:
expected value, worst decile, expected, maximum and 90th-percentile regret, and the share of futures that meet the
satisficing threshold; the option each criterion picks and whether they disagree.

**Scenario discovery** (:func:`sim.stats.discovery.discover`, PRIM from EMA Workbench): the regions of mechanism
forms and drawn parameters where (a) the chosen option misses the threshold of the discovery outcome and (b)
provocation beats deterrence: the larger package's outcome is below the smaller one's.

**EVPPI** (:func:`sim.stats.evppi.evppi`) per outcome for each mechanism, each drawn parameter, the structure as a
whole (the combination) and the parameters as a whole (the draw).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.core.errors import InputError
from sim.experiments.ensemble import MECHANISM_NAMES, Design, make_design
from sim.experiments.result import Artefacts
from sim.spec.options import OUTCOMES, DecisionOptions
from sim.spec.scenario import Scenario, set_path, validate_document

if TYPE_CHECKING:
    from concurrent.futures import Executor

ONE_YEAR, FIVE_YEARS = 365, 1825
DAYS: dict[str, int | None] = {"p_deal": None, "p_hold_1y": ONE_YEAR, "p_hold_5y": FIVE_YEARS}

FIGURES: tuple[str, ...] = ("regret.png", "boxes.png", "evppi.png")
"""The figures of a decide folder (``sim.outputs.plots.decide``)."""

@dataclass(frozen=True)
class Settings:
    """Sizes of a decide run."""

    combinations: str = "sample:48"
    draws: int = 6
    replications: int = 200
    horizon_days: int = FIVE_YEARS
    bootstrap: int = 1000
    seed: int | None = None


FULL = Settings()
QUICK = Settings(combinations="sample:16", draws=2, replications=100, bootstrap=200)


@dataclass(frozen=True)
class DecideDesign:
    """The options and the futures they all run in."""

    options: DecisionOptions
    futures: Design
    settings: Settings
    posterior: Path | None

    @property
    def cells(self) -> list[tuple[int, int]]:
        return self.futures.cells

    @property
    def n_runs(self) -> int:
        return len(self.options.names) * len(self.cells)

    def draw_values(self, d: int) -> dict[str, Any]:
        """Draw ``d``'s parameters, less the levers some option sets (decisions, not uncertainties)."""
        levers = set(self.options.lever_paths)
        return {k: v for k, v in self.futures.draws.values[d].items() if k not in levers}

    def drawn_paths(self) -> list[str]:
        """The parameters that vary between draws (those with one value in every draw are not factors)."""
        if len(self.futures.seeds) < 2:
            return []
        values = [self.draw_values(d) for d in range(len(self.futures.seeds))]
        return [p for p in values[0] if len({repr(v[p]) for v in values}) > 1]


def make_decide_design(options: DecisionOptions, settings: Settings, posterior: Path | None) -> DecideDesign:
    """Futures for ``options``: the ensemble design on the options' base scenario (every draw validated).

    Raises:
        InputError: bad sizes, combinations or posterior.
    """
    if settings.draws < 2:
        raise InputError(f"--draws: must be >= 2 (got {settings.draws})")
    if settings.bootstrap < 0:
        raise InputError(f"--bootstrap: must be >= 0 (got {settings.bootstrap})")
    futures = make_design(options.base_file, settings.combinations, settings.draws, settings.replications,
                          settings.horizon_days, settings.seed, posterior)
    return DecideDesign(options, futures, settings, posterior)


def _scenarios(design: DecideDesign) -> list[Scenario]:
    """One validated scenario per (option, future), option-major."""
    base = design.futures.base
    futures = design.futures
    out = []
    template = base.model_dump()
    source = Path(str(design.options.source))
    for name in design.options.names:
        for c, d in design.cells:
            document = {**template, "agents": {k: dict(v) for k, v in template["agents"].items()},
                        "model": dict(template["model"]), "structure": dict(template["structure"])}
            values = {**{f"structure.{m}": f for m, f in futures.combinations[c].items()}, **design.draw_values(d),
                      **design.options.overrides[name], "replications": futures.replications,
                      "horizon_days": futures.horizon_days, "seed": futures.seeds[d]}
            for path, value in values.items():
                set_path(document, path, value, source)
            out.append(validate_document(document, source))
    return out


def _counts(runs: pd.DataFrame, horizon_days: int) -> dict[str, int]:
    agreed = runs["agreed"].to_numpy(dtype=bool)
    breakdown = runs["breakdown_day"].to_numpy(dtype=float, na_value=np.nan)
    out = {"n": len(runs)}
    for outcome, day in DAYS.items():
        if day is None:
            out[f"{outcome}_k"] = int(agreed.sum())
        elif day > horizon_days:
            out[f"{outcome}_k"] = -1
        else:
            out[f"{outcome}_k"] = int((agreed & ~(breakdown <= day)).sum())
    return out


def run_points(scenarios: Sequence[Scenario]) -> list[dict[str, int]]:
    """Successes of each outcome for each of ``scenarios`` (one structural combination), packed, in this process.

    A worker's task: it returns counts only, not the worlds."""
    from sim.engine.packing import run_packed

    parts = run_packed(list(scenarios), [()] * len(scenarios))
    return [_counts(runs, scenario.horizon_days) for scenario, runs in zip(scenarios, parts, strict=True)]


def simulate(design: DecideDesign, workers: int = 1, progress: Callable[[int], None] | None = None,
             executor: Executor | None = None) -> pd.DataFrame:
    """``outcomes.csv``: one row per (option, future) with successes and estimates of each outcome.

    One task per structural combination (every option and draw of it, packed): the batches then hold one form
    of each mechanism, and tasks run on ``executor`` (a Dask cluster's), on ``workers`` local processes, or in
    this process. Every world has the streams of its future's seed, so the bytes are the same whichever.
    """
    import contextlib
    from concurrent.futures import as_completed

    from sim.engine.runner import WorkersStoppedError, local_executor

    scenarios = _scenarios(design)
    n_cells = len(design.cells)
    by_combination: dict[int, list[int]] = {}
    for index in range(len(scenarios)):
        by_combination.setdefault(design.cells[index % n_cells][0], []).append(index)
    records: list[dict[str, int]] = [{}] * len(scenarios)

    def finished(indices: list[int], counts: list[dict[str, int]]) -> None:
        for index, count in zip(indices, counts, strict=True):
            records[index] = count
        if progress is not None:
            progress(len(indices))

    tasks = list(by_combination.values())
    if executor is None and (workers <= 1 or len(tasks) <= 1):
        for indices in tasks:
            finished(indices, run_points([scenarios[i] for i in indices]))
    else:
        from concurrent.futures.process import BrokenProcessPool

        with contextlib.ExitStack() as stack:
            if executor is None:
                executor = stack.enter_context(local_executor(min(workers, len(tasks))))
            futures = {executor.submit(run_points, [scenarios[i] for i in indices]): k
                       for k, indices in enumerate(tasks)}
            try:
                for future in as_completed(futures):
                    finished(tasks[futures[future]], future.result())
            except BrokenProcessPool:
                raise WorkersStoppedError(workers) from None
            finally:
                for future in futures:
                    future.cancel()
    rows = []
    names = design.options.names
    for index, record in enumerate(records):
        option = names[index // len(design.cells)]
        future = index % len(design.cells)
        c, d = design.cells[future]
        row: dict[str, Any] = {"option": option, "future": future, "combination": c, "draw": d,
                               "seed": design.futures.seeds[d], "n": record["n"]}
        for outcome in OUTCOMES:
            k = record[f"{outcome}_k"]
            row[f"{outcome}_k"] = k if k >= 0 else np.nan
            row[outcome] = k / record["n"] if k >= 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- analysis


def futures_table(design: DecideDesign) -> pd.DataFrame:
    """``futures.csv``: one row per future: combination, draw, seed, the forms and the drawn parameters."""
    futures = design.futures
    rows = []
    for future, (c, d) in enumerate(design.cells):
        rows.append({"future": future, "combination": c, "draw": d, "seed": futures.seeds[d],
                     **futures.combinations[c], **design.draw_values(d)})
    return pd.DataFrame(rows)


def options_table(design: DecideDesign) -> pd.DataFrame:
    """``options.csv``: one row per option: its description and every lever's value in its scenario."""
    from sim.spec.scenario import get_path

    base = design.futures.base.model_dump()
    levers = design.options.lever_paths
    rows = []
    for name in design.options.names:
        overrides = design.options.overrides[name]
        row = {"option": name, "description": design.options.descriptions[name]}
        for path in levers:
            row[path] = overrides.get(path, get_path(base, path))
        rows.append(row)
    return pd.DataFrame(rows)


def values_of(outcomes: pd.DataFrame, outcome: str, names: Sequence[str]) -> pd.DataFrame:
    """Futures x options of one outcome (columns in option order)."""
    wide = outcomes.pivot(index="future", columns="option", values=outcome)
    return wide[list(names)]


def factors_of(futures: pd.DataFrame, drawn: Sequence[str]) -> pd.DataFrame:
    """Futures x uncertain factors: each mechanism (categorical) and each drawn parameter (numeric)."""
    columns: dict[str, Any] = {}
    for mechanism in MECHANISM_NAMES:
        if futures[mechanism].nunique() > 1:
            columns[mechanism] = pd.Categorical(futures[mechanism])
    for path in drawn:
        columns[path] = futures[path].astype(float)
    return pd.DataFrame(columns, index=futures.index)


def regret_rows(outcomes: pd.DataFrame, names: Sequence[str], thresholds: dict[str, float], bootstrap: int,
                seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``regret.csv`` (one row per outcome x option: every criterion with its interval, and the criteria that pick
    it) and ``picks.csv`` (one row per outcome x criterion)."""
    from sim.stats.decision import criteria

    tables, picks = [], []
    for outcome in OUTCOMES:
        if outcomes[outcome].isna().any():
            continue
        result = criteria(values_of(outcomes, outcome, names), threshold=thresholds.get(outcome),
                          bootstrap=bootstrap, seed=seed)
        table = result.table.reset_index()
        picked = {name: [] for name in names}
        for criterion, row in result.picks.iterrows():
            picked[row["pick"]].append(str(criterion))
        table.insert(0, "outcome", outcome)
        table.insert(2, "threshold", thresholds.get(outcome, np.nan))
        table["picked_by"] = [", ".join(picked[name]) for name in table["option"]]
        tables.append(table)
        chosen = result.picks.reset_index()
        chosen.insert(0, "outcome", outcome)
        chosen["disagree"] = result.disagree
        picks.append(chosen)
    return pd.concat(tables, ignore_index=True), pd.concat(picks, ignore_index=True)


@dataclass
class Question:
    """A scenario-discovery question: its label and, per future, whether the bad thing happens."""

    name: str
    label: str
    fails: np.ndarray


def discovery_tables(x: pd.DataFrame, questions: Sequence[Question], seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``boxes.csv`` (one row per question x box x restricted dimension, with the box's coverage, density and
    mass) and ``peeling.csv`` (the trajectory of each box)."""
    from sim.stats.discovery import discover

    boxes, peeling = [], []
    for question in questions:
        share = float(question.fails.mean())
        base = {"question": question.name, "label": question.label, "share_failing": share}
        if not question.fails.any() or question.fails.all() or x.shape[1] == 0:
            boxes.append({**base, "method": "none", "box": 0, "coverage": np.nan, "density": np.nan,
                          "mass": np.nan, "n": len(question.fails), "n_restricted": 0, "restricted": "",
                          "dimension": "", "kind": "", "lower": np.nan, "upper": np.nan, "categories": "",
                          "note": "fails in every future" if question.fails.all() else "fails in no future"})
            continue
        result = discover(x, question.fails, n_boxes=3, seed=seed)
        for _, summary in result.summary.iterrows():
            limits = result.boxes[result.boxes["box"] == summary["box"]]
            head = {**base, "method": result.method, "box": int(summary["box"]), "coverage": summary["coverage"],
                    "density": summary["density"], "mass": summary["mass"], "n": int(summary["n"]),
                    "n_restricted": int(summary["n_restricted"]), "restricted": summary["restricted"]}
            if limits.empty:
                boxes.append({**head, "dimension": "", "kind": "", "lower": np.nan, "upper": np.nan,
                              "categories": "", "note": "restricts nothing: no region found"})
            for _, limit in limits.iterrows():
                categories = "|".join(map(str, limit["categories"])) if limit["kind"] == "categorical" else ""
                boxes.append({**head, "dimension": limit["dimension"], "kind": limit["kind"],
                              "lower": limit["lower"] if limit["lower_restricted"] else np.nan,
                              "upper": limit["upper"] if limit["upper_restricted"] else np.nan,
                              "categories": categories, "note": ""})
        trajectory = result.trajectory.copy()
        trajectory.insert(0, "question", question.name)
        peeling.append(trajectory)
    peel = pd.concat(peeling, ignore_index=True) if peeling else pd.DataFrame(
        columns=["question", "box", "step", "coverage", "density", "mass", "n", "n_restricted", "selected"])
    return pd.DataFrame(boxes), peel


def evppi_rows(outcomes: pd.DataFrame, futures: pd.DataFrame, names: Sequence[str], drawn: Sequence[str]
               ) -> pd.DataFrame:
    """``evppi.csv``: per outcome, the EVPPI of each mechanism, each drawn parameter, the structure as a whole and
    the parameters as a whole, largest first, with the outcome's EVPI."""
    from sim.stats.evppi import evpi, evppi

    x = pd.concat([factors_of(futures, drawn), pd.DataFrame({
        "structure (all mechanisms)": futures["combination"].astype(str),
        "parameters (all drawn)": futures["draw"].astype(str)}, index=futures.index)], axis=1)
    group = {**dict.fromkeys(MECHANISM_NAMES, "mechanism"), **dict.fromkeys(drawn, "parameter"),
             "structure (all mechanisms)": "structure", "parameters (all drawn)": "parameters"}
    tables = []
    for outcome in OUTCOMES:
        if outcomes[outcome].isna().any():
            continue
        values = values_of(outcomes, outcome, names)
        table = evppi(values.reset_index(drop=True), x.reset_index(drop=True)).reset_index()
        table = table.rename(columns={table.columns[0]: "factor"})
        table.insert(0, "outcome", outcome)
        table.insert(2, "group", [group[f] for f in table["factor"]])
        table["evppi"] = table["evppi"].where(table["evppi"] > 1e-12, 0.0)  # rounding of group means, not value
        table["share_of_evpi"] = table["share_of_evpi"].where(table["evppi"] > 0, 0.0)
        table["rank"] = np.arange(1, len(table) + 1)
        table["evpi"] = evpi(values)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


# --------------------------------------------------------------------------- the result


@dataclass
class DecideResult:
    """The design, every run's outcome and the analyses."""

    design: DecideDesign
    outcomes: pd.DataFrame
    discovery_outcome: str
    discovery_option: str
    wall_seconds: float
    workers: int
    regret: pd.DataFrame = field(init=False)
    picks: pd.DataFrame = field(init=False)
    boxes: pd.DataFrame = field(init=False)
    peeling: pd.DataFrame = field(init=False)
    evppi: pd.DataFrame = field(init=False)
    questions: list[Question] = field(init=False)

    def __post_init__(self) -> None:
        design = self.design
        names = design.options.names
        seed = design.futures.seeds[0]
        thresholds = design.options.thresholds
        self.regret, self.picks = regret_rows(self.outcomes, names, thresholds, design.settings.bootstrap, seed)
        futures = futures_table(design)
        drawn = design.drawn_paths()
        x = factors_of(futures, drawn)
        self.questions = self._questions()
        self.boxes, self.peeling = discovery_tables(x, self.questions, seed)
        self.evppi = evppi_rows(self.outcomes, futures, names, drawn)

    def _questions(self) -> list[Question]:
        options = self.design.options
        outcome = self.discovery_outcome
        values = values_of(self.outcomes, outcome, options.names)
        level = options.thresholds.get(outcome)
        if level is None:  # no threshold: failing is doing worse than the best option by more than 0.05
            fails = (values.max(axis=1) - values[self.discovery_option] > 0.05).to_numpy()
            label = f"{self.discovery_option}: {OUTCOMES[outcome]} more than 0.05 below the best option's"
        else:
            fails = (values[self.discovery_option] < level).to_numpy()
            label = f"{self.discovery_option}: {OUTCOMES[outcome]} < {level:g}"
        questions = [Question("option_fails", label, fails)]
        if options.provocation is not None:
            p = options.provocation
            wide = values_of(self.outcomes, p.outcome, options.names)
            questions.append(Question(
                "provocation_wins", f"{OUTCOMES[p.outcome]} of {p.larger} < {p.smaller}",
                (wide[p.larger] < wide[p.smaller]).to_numpy()))
        return questions

    def summary(self) -> dict[str, Any]:
        """The picks per outcome and criterion, whether they disagree, and the first box of each question."""
        picks = {outcome: {row.criterion: row.pick for row in group.itertuples()}
                 for outcome, group in self.picks.groupby("outcome", sort=False)}
        disagree = {outcome: bool(group["disagree"].iloc[0]) for outcome, group in self.picks.groupby("outcome")}
        shares = {q.name: round(float(q.fails.mean()), 4) for q in self.questions}
        return {"picks": picks, "criteria_disagree": disagree, "share_failing": shares}

    def artefacts(self) -> Artefacts:
        tables = {"options.csv": options_table(self.design), "futures.csv": futures_table(self.design),
                  "outcomes.csv": self.outcomes, "regret.csv": self.regret, "picks.csv": self.picks,
                  "boxes.csv": self.boxes, "peeling.csv": self.peeling, "evppi.csv": self.evppi}
        return Artefacts("decide", tables, manifest=self.manifest_fields(), figures=FIGURES,
                         scenario=self.design.futures.base.model_copy(
                             update={"replications": self.design.futures.replications,
                                     "horizon_days": self.design.futures.horizon_days}),
                         source=self.design.options.source)

    def manifest_fields(self) -> dict[str, Any]:
        design, futures = self.design, self.design.futures
        return {
            "options_file": str(design.options.source),
            "options": design.options.names,
            "combinations": futures.combination_rule,
            "n_combinations": len(futures.combinations),
            "draws": len(futures.seeds),
            "futures": len(design.cells),
            "run_seeds": list(futures.seeds),
            "worlds_per_run": futures.replications,
            "run_horizon_days": futures.horizon_days,
            "parameter_source": futures.draws.source,
            "parameters_drawn": design.drawn_paths(),
            "thresholds": design.options.thresholds,
            "bootstrap": design.settings.bootstrap,
            "discovery_outcome": self.discovery_outcome,
            "discovery_option": self.discovery_option,
            "provocation": None if design.options.provocation is None else design.options.provocation.model_dump(),
            "design": "every option in every future (combination x draw); future (c, d) runs with seed S + d in "
                      "every option and combination (common random numbers); packed batches",
            "criteria": "sim.stats.decision (bootstrap over futures); discovery: sim.stats.discovery; EVPPI: "
                        "sim.stats.evppi (group means for discrete factors, penalized spline otherwise)",
            **self.summary(),
            "workers": self.workers,
            "wall_seconds": round(self.wall_seconds, 3),
        }


def run_decide(design: DecideDesign, discovery_outcome: str = "p_hold_1y", discovery_option: str | None = None,
               workers: int = 1, progress: Callable[[int], None] | None = None,
               executor: Executor | None = None) -> DecideResult:
    """Run every option in every future and analyse (see the module docstring).

    ``discovery_option``: the option whose failures are explained (default: the options file's ``discover``, else
    the option the expected value of ``discovery_outcome`` picks).

    Raises:
        InputError: an unknown option or outcome, or an outcome beyond the horizon.
        sim.engine.runner.WorkersStoppedError: with ``workers > 1``, the worker processes stopped.
    """
    check_choice(design, discovery_outcome, discovery_option)
    start = time.perf_counter()
    outcomes = simulate(design, workers=workers, progress=progress, executor=executor)
    if discovery_option is None:
        discovery_option = design.options.discover
    if discovery_option is None:
        values = values_of(outcomes, discovery_outcome, design.options.names)
        discovery_option = str(values.mean(axis=0).idxmax())
    result = DecideResult(design, outcomes, discovery_outcome, discovery_option, 0.0, workers)
    result.wall_seconds = time.perf_counter() - start
    return result


def check_choice(design: DecideDesign, outcome: str, option: str | None) -> None:
    """Refuse, before any simulation, an unknown outcome or option, or an outcome beyond the horizon."""
    if outcome not in OUTCOMES:
        raise InputError(f"--outcome: must be one of {', '.join(OUTCOMES)} (got {outcome!r})")
    day = DAYS[outcome]
    if day is not None and day > design.futures.horizon_days:
        raise InputError(f"--outcome: {outcome} needs a horizon of {day} days or more "
                         f"(got {design.futures.horizon_days})")
    if option is not None and option not in design.options.names:
        raise InputError(f"--option: no option named {option!r} in {design.options.source}")
    p = design.options.provocation
    if p is not None and DAYS[p.outcome] is not None and DAYS[p.outcome] > design.futures.horizon_days:
        raise InputError(f"{design.options.source}: provocation.outcome: {p.outcome} needs a horizon of "
                         f"{DAYS[p.outcome]} days or more (got {design.futures.horizon_days})")


def planned_runs(design: DecideDesign) -> int:
    """Runs of a design: options x futures."""
    return design.n_runs

