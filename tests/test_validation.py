"""Validation against the empirical record: the statistics, and docs/VALIDATION.md's table reproduced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.validation import (
    ANCHORS,
    BEGIN,
    END,
    RUNS,
    VALIDATION_DOC,
    failed_within,
    hazard_reduction,
    kaplan_meier,
    markdown,
    run_validation,
)


class _Result:
    """The slice of a RunResult the statistics read."""

    def __init__(self, runs: pd.DataFrame) -> None:
        self.runs = runs


def _runs(days: list[float | None], causes: list[str] | None = None) -> pd.DataFrame:
    causes = causes or ["major_offensive" if d is not None else "held" for d in days]
    return pd.DataFrame({
        "agreed": [True] * len(days),
        "breakdown_day": pd.array([d if d is not None else pd.NA for d in days], dtype="Int64"),
        "cause": causes,
    })


def test_failed_within_counts_breakdowns_up_to_the_day_among_deals():
    results = {"r": _Result(_runs([10, 90, 91, None]))}
    estimate = failed_within("r", 90)(results)
    assert estimate.value == 0.5
    assert estimate.low < 0.5 < estimate.high


def test_hazard_reduction_is_zero_for_equal_rates_and_positive_when_fewer_break():
    same = {"a": _Result(_runs([5, None, 50, None])), "b": _Result(_runs([5, None, 50, None]))}
    assert hazard_reduction("a", "b", 100)(same).value == pytest.approx(0.0)
    fewer = {"a": _Result(_runs([50, None, None, None])), "b": _Result(_runs([5, 10, 50, None]))}
    assert hazard_reduction("a", "b", 100)(fewer).value > 0


def test_kaplan_meier_equals_the_empirical_survival_without_censoring():
    times = np.array([1.0, 2.0, 2.0, 5.0, 9.0])
    events = np.ones(5, dtype=bool)
    assert kaplan_meier(times, events, at=4).value == pytest.approx(2 / 5)


def test_kaplan_meier_treats_censored_worlds_as_at_risk_until_censored():
    times = np.array([1.0, 3.0, 3.0, 8.0])
    events = np.array([True, False, True, True])
    # S(3) = (1 - 1/4) * (1 - 1/3) = 0.5
    assert kaplan_meier(times, events, at=3).value == pytest.approx(0.5)


def test_every_anchor_has_a_citation_a_figure_and_a_known_run():
    keys = [a.key for a in ANCHORS]
    assert len(keys) == len(set(keys))
    runs = {r.key for r in RUNS}
    for anchor in ANCHORS:
        assert anchor.citation and anchor.run in runs
        assert np.isfinite(anchor.empirical.value)


def test_validation_reproduces_the_table_in_the_docs():
    document = VALIDATION_DOC.read_text(encoding="utf-8")
    documented = document.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert markdown(run_validation(workers=2)) == documented, (
        "docs/VALIDATION.md is stale: run `ceasefire validation --update-docs`"
    )
