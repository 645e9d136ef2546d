"""Main effects of the forms, fitted to an ensemble's combination means (sim.stats.form_effects)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sim.stats.form_effects import coefficients, form_effects

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
    """Over 1,000 noisy replicates of 48 combinations (43 residual degrees of freedom) each 95 % t interval covers
    its true effect in a share whose 99.9 % binomial band around 0.95 is 0.927-0.973 (normal approximation,
    +- 3.29 sd, sd = sqrt(1000 * 0.95 * 0.05) = 6.9). Both sides can fail: half-SE intervals cover about 0.38,
    intervals of 1.96 SE of the normal instead of t(43)'s 2.017 about 0.944 (inside the band: the test does not claim
    to tell those apart), twice the SE about 0.9999."""
    replicates = 1000
    covered = {key: 0 for key in TRUE}
    for seed in range(replicates):
        table = form_effects(_combinations(noise_sd=0.02, seed=seed), list(FORMS), ["y"], REFERENCE, FORMS)
        for r in table.itertuples():
            covered[(r.mechanism, r.form)] += r.low <= TRUE[(r.mechanism, r.form)] <= r.high
    half_width = 3.29 * np.sqrt(replicates * 0.95 * 0.05)
    for key, count in covered.items():
        assert abs(count - 0.95 * replicates) <= half_width, (key, count)


def test_the_fit_reports_its_degrees_of_freedom_and_needs_more_combinations_than_coefficients():
    data = _combinations()
    assert coefficients(data, list(FORMS), REFERENCE, FORMS) == 5  # intercept + 2 + 1 + 1
    table = form_effects(data, list(FORMS), ["y"], REFERENCE, FORMS)
    assert set(table["residual_df"]) == {len(data) - 5}


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
