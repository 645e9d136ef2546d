"""Main effects of the forms, fitted to an ensemble's combination means (sim.stats.form_effects)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sim.stats.form_effects import Z_95, form_effects

FORMS = {"a": ["x", "y", "z"], "b": ["p", "q"], "c": ["u", "v"]}
TRUE = {("a", "y"): 0.10, ("a", "z"): -0.05, ("b", "q"): 0.03, ("c", "v"): 0.0}
REFERENCE = {"a": "x", "b": "p", "c": "u"}


def _combinations(noise_sd: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rows = [dict(zip(FORMS, chosen, strict=True)) for chosen in itertools.product(*FORMS.values())] * 4
    table = pd.DataFrame(rows)
    mean = 0.5 + sum(effect * (table[m] == f) for (m, f), effect in TRUE.items())
    table["y"] = mean + np.random.default_rng(seed).normal(0.0, noise_sd, len(table))
    return table


def test_additive_effects_are_recovered_exactly_without_noise():
    table = form_effects(_combinations(), list(FORMS), ["y"], REFERENCE, FORMS)
    found = {(r.mechanism, r.form): r.effect for r in table.itertuples()}
    assert found.keys() == TRUE.keys()
    for key, effect in TRUE.items():
        assert found[key] == pytest.approx(effect, abs=1e-12)
    assert set(table["reference"]) == {"x", "p", "u"} and table["r_squared"].iloc[0] == pytest.approx(1.0)


def test_intervals_cover_the_true_effects_at_their_stated_rate():
    """Over 200 noisy replicates, each 95 % interval covers its true effect in a share of them whose binomial
    99.9 % interval (with the number of replicates) contains 0.95; the check fails for intervals built from half
    the standard error (coverage about 0.68)."""
    replicates = 200
    covered = {key: 0 for key in TRUE}
    for seed in range(replicates):
        table = form_effects(_combinations(noise_sd=0.02, seed=seed), list(FORMS), ["y"], REFERENCE, FORMS)
        for r in table.itertuples():
            covered[(r.mechanism, r.form)] += r.low <= TRUE[(r.mechanism, r.form)] <= r.high
    # normal approximation of the binomial count: 0.95 * n +- 3.29 sd, sd = sqrt(n * 0.95 * 0.05)
    half_width = 3.29 * np.sqrt(replicates * 0.95 * 0.05)
    for key, count in covered.items():
        assert abs(count - 0.95 * replicates) <= half_width, (key, count)
    assert abs(Z_95 - 1.96) < 1e-3


def test_the_reference_falls_back_when_the_default_is_not_in_the_sample_and_constant_mechanisms_are_skipped():
    data = _combinations()
    data = data[data["a"] != "x"]  # the default form of "a" is absent
    data = data.assign(c="u")  # "c" the same everywhere
    table = form_effects(data, list(FORMS), ["y"], REFERENCE, FORMS)
    a_rows = table[table["mechanism"] == "a"]
    assert list(a_rows["reference"]) == ["y"] and list(a_rows["form"]) == ["z"]
    assert a_rows["effect"].iloc[0] == pytest.approx(-0.15, abs=1e-12)
    assert "c" not in set(table["mechanism"])


def test_too_few_combinations_or_missing_values_give_no_fit_rather_than_a_wrong_one():
    data = _combinations().iloc[:3]  # 3 combinations, "a" constant: 3 coefficients, no residual freedom
    assert form_effects(data, list(FORMS), ["y"], REFERENCE, FORMS).empty
    data = _combinations()
    data.loc[data.index[:3], "y"] = np.nan
    table = form_effects(data, list(FORMS), ["y"], REFERENCE, FORMS)
    assert set(table["combinations"]) == {len(data) - 3}
