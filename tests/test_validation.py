"""Validation against the empirical record: the tests can fail, the roles are kept, wrong models are run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

import sim.experiments.validation.anchors
from sim.cli.main import main
from sim.core.bundled import scenario_path
from sim.core.docblocks import block
from sim.experiments.validation.anchors import (
    ANCHORS,
    RUNS,
    calibration_anchors,
    compositions,
    counts_test,
    failed_within,
    fit_difference,
    fit_statistic,
    hazard_reduction,
    held_out_anchors,
    held_through,
    kaplan_meier,
    markdown,
    run_validation,
)
from sim.experiments.validation.variants import VARIANTS, variant
from sim.outputs.docs import validation_doc


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
    estimate = failed_within("r", 90)({"r": _Result(_runs([10, 90, 91, None]))})
    assert estimate.value == 0.5 and (estimate.events, estimate.trials) == (2, 4)
    assert estimate.low < 0.5 < estimate.high


def test_held_through_counts_worlds_that_never_broke_down_as_held():
    estimate = held_through("r", 90)({"r": _Result(_runs([10, 91, None, None]))})
    assert (estimate.events, estimate.trials) == (3, 4)


def test_hazard_reduction_is_zero_for_equal_rates_and_positive_when_fewer_break():
    same = {"a": _Result(_runs([5, None, 50, None])), "b": _Result(_runs([5, None, 50, None]))}
    assert hazard_reduction("a", "b", 100)(same).value == pytest.approx(0.0)
    fewer = {"a": _Result(_runs([50, None, None, None])), "b": _Result(_runs([5, 10, 50, None]))}
    assert hazard_reduction("a", "b", 100)(fewer).value > 0


def test_kaplan_meier_treats_censored_worlds_as_at_risk_until_censored():
    times = np.array([1.0, 3.0, 3.0, 8.0])
    events = np.array([True, False, True, True])
    assert kaplan_meier(times, events, at=3).value == pytest.approx(0.5)  # (1 - 1/4) * (1 - 1/3)


def test_roles_are_the_agreed_split_and_every_anchor_is_cited_with_counts_or_a_range():
    # model v3 (issue 22) was designed with Minsk in view: the evidence plan makes the Minsk items calibration
    assert [a.key for a in calibration_anchors()] == [
        "no_peacekeepers_fail_90d", "no_peacekeepers_fail_1y", "no_peacekeepers_fail_2y",
        "minsk_recorded_violations_per_day", "minsk_deals", "minsk_i_collapse_138d", "minsk_ii_held_7y",
        "minsk_ii_failed_debaltseve"]
    assert len(held_out_anchors()) + len(calibration_anchors()) == len(ANCHORS)
    keys = [a.key for a in ANCHORS]
    assert len(keys) == len(set(keys))
    runs = {r.key for r in RUNS}
    for anchor in ANCHORS:
        assert anchor.citation and anchor.run in runs
        has_counts = anchor.events is not None and anchor.cases is not None
        assert has_counts or np.isfinite([anchor.empirical.low, anchor.empirical.high]).all(), anchor.key


def test_both_codings_of_minsk_ii_are_calibration_anchors():
    codings = {a.coding: a.key for a in calibration_anchors() if a.coding}
    assert set(codings) == {"held", "debaltseve"}


def test_the_exact_counts_test_agrees_with_the_binomial_test_when_the_model_is_known_precisely():
    alpha = np.array([0.2, 0.8]) * 1e7  # a beta-binomial this concentrated is a binomial(p = 0.2)
    for k in (0, 3, 7, 12):
        p_value, _ = counts_test(np.array([k, 20 - k]), alpha)
        assert p_value == pytest.approx(binomtest(k, 20, 0.2).pvalue, rel=1e-4)


def test_two_deals_in_two_attempts_have_probability_p_squared():
    p_value, log_lik = counts_test(np.array([2, 0]), np.array([0.06, 0.94]) * 1e7)
    assert math.exp(log_lik) == pytest.approx(0.06**2, rel=1e-4)
    assert p_value == pytest.approx(0.06**2, rel=1e-4)  # the least likely of the three outcomes


def test_compositions_enumerate_every_split_once():
    rows = compositions(5, 3)
    assert len(rows) == math.comb(7, 2) and (rows.sum(axis=1) == 5).all()
    assert len({tuple(r) for r in rows}) == len(rows)


def test_a_component_the_variant_does_not_touch_adds_no_noise_to_the_difference():
    table = pd.DataFrame({
        "anchor": ["a", "b"], "role": ["held_out", "held_out"], "in_fit": [True, True], "coding": ["", ""],
        "group": ["", ""], "observed_events": [1, 2], "observed_cases": [1, 2],
        "model_events": [100.0, 300.0], "model_trials": [1000.0, 1000.0],
    })
    other = table.assign(model_events=[100.0, 500.0])
    difference, se = fit_difference(other, table)
    assert difference == pytest.approx(fit_statistic(other) - fit_statistic(table))
    assert difference == pytest.approx(2 * math.log(501 / 301), abs=0.01)
    _, se_same = fit_difference(table, table)
    assert se_same == 0.0 and se > 0


def test_the_power_shift_variant_adds_half_a_log_hazard_unit_a_year():
    overrides = variant("power_shift_0_5").overrides(scenario_path("baseline"))
    weight = overrides["model.power_shift_weight"]
    assert weight * math.log(1.03) == pytest.approx(0.5)  # RU rearms 3 % a year, UA not at all


def test_validation_reproduces_the_table_in_the_docs():
    documented = block(validation_doc().read_text(encoding="utf-8"), "validation")
    assert markdown(run_validation(workers=2)) == documented, (
        "docs/VALIDATION.md is stale: run `ceasefire validation --update-docs`"
    )


@pytest.fixture(scope="module")
def discrimination() -> pd.DataFrame:
    """The default and three variants at their own values (not refitted: the refits are
    tests/test_recalibrate.py's), a quarter of the validation's worlds."""
    from sim.experiments.validation.discrimination import as_is, compare
    from sim.experiments.validation.variants import DEFAULT

    wanted = [variant(key) for key in ("troops_dont_deter", "provocation_x3_3", "monitoring_does_nothing")]
    models = {model.key: as_is(model) for model in (DEFAULT, *wanted)}
    return compare(models, {}, wanted, workers=2, scale=0.25, spell_scale=0.1).set_index("variant")


def test_the_record_cannot_tell_the_default_from_troops_dont_deter_or_provocation_x3(discrimination):
    """What the record says (docs/VALIDATION.md): the held-out spells reject neither "troops don't deter" nor
    "provocation x 3.3" at 0.05 (the parametric-bootstrap test of the variant against the default), and their
    held-out anchors' fit is within a likelihood ratio of 4 of the default's either way."""
    for key in ("troops_dont_deter", "provocation_x3_3"):
        row = discrimination.loc[key]
        assert not row["variant_rejected"] and row["p_variant"] >= 0.05, (key, row["p_variant"])
        assert abs(row["difference_held"]) < math.log(4), (key, row["difference_held"])


def test_monitoring_that_does_nothing_is_not_rejected_by_the_held_out_record_a_documented_miss(discrimination):
    """Model v3 with the evidence plan: "monitoring does nothing" fits the held-out record better than the default
    (docs/VALIDATION.md, an honest miss: the Minsk deals it failed in version 2 are calibration evidence now). If a
    change makes the default fit better, this fails and the docs must say so. That the statistic can reject a
    model far from the truth is checked on simulated records (tests/test_evidence_plan.py, power)."""
    row = discrimination.loc["monitoring_does_nothing"]
    assert row["difference_held"] > 2 * row["difference_held_se"]


def test_the_held_out_anchors_tell_some_wrong_variant_apart_from_the_default(discrimination):
    """Not merely "a variant fails a held-out anchor" (the default fails some itself): at least one variant's set
    of failed held-out anchors differs from the default's, so the anchors see a difference between models."""
    failed = discrimination["failed_held_out"].fillna("")
    assert (failed.drop(index="default") != failed["default"]).any(), failed.to_dict()
    assert {v.key for v in VARIANTS} >= {"troops_dont_deter", "provocation_x3_3", "escalation_cliff_5",
                                          "base_hazard_x2", "power_shift_0_5", "monitoring_does_nothing",
                                          "russia_never_probes"}


@pytest.fixture(scope="module")
def tiny_table() -> pd.DataFrame:
    return run_validation(workers=1, scale=0.005)


@pytest.fixture(scope="module")
def tiny_spell_runs() -> dict:
    from sim.experiments.validation import spell_level

    return spell_level.simulate(workers=1, scale=0.02)


_TINY_BAND: list = []


def _tiny_spells(monkeypatch, runs) -> None:
    """The spell runs given, and the posterior band of the survival curves at a tiny size (simulated once)."""
    from sim.experiments.validation import spell_level, survival_curves

    monkeypatch.setattr(spell_level, "simulate", lambda workers, progress: runs)
    if not _TINY_BAND:
        _TINY_BAND.append(survival_curves.simulate_band(1, draws=2, worlds_per_draw=5))
    monkeypatch.setattr(survival_curves, "simulate_band", lambda workers, progress: _TINY_BAND[0])


@pytest.mark.parametrize("failing", [True, False])
def test_the_exit_code_does_not_depend_on_anchors_passing(failing, tiny_table, tiny_spell_runs, tmp_path,
                                                          monkeypatch, capsys):
    table = tiny_table.assign(p_value=1e-6 if failing else 0.9, failed=failing)
    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", lambda workers, progress: table)
    _tiny_spells(monkeypatch, tiny_spell_runs)
    assert main(["validation", "--out", str(tmp_path / "v"), "--quiet"]) == 0
    out = capsys.readouterr().out.split("spell-level")[0]  # the anchors' part (the spell rows have their own FAILs)
    assert ("FAIL" in out) == failing and "p-value" in out and "role" in out
    assert (tmp_path / "v" / "validation.csv").exists() and (tmp_path / "v" / "manifest.json").exists()


def test_bad_input_exits_2_before_any_simulation(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", lambda **kwargs: pytest.fail("simulated"))
    assert main(["validation", "--out", str(tmp_path / "v"), "--workers", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: --workers")


def test_a_doc_block_is_replaced_and_everything_around_it_kept_byte_for_byte():
    from sim.core.docblocks import replace_block

    document = "intro\r\n<!-- t:begin -->\nold\n<!-- t:end -->\ntail <!-- t:end --> é\n"
    replaced = "intro\r\n<!-- t:begin -->\nnew\n<!-- t:end -->\ntail <!-- t:end --> é\n"
    assert replace_block(document, "t", "new") == replaced
    assert block(replace_block(document, "t", "new"), "t") == "new"
    for broken in ("no markers", "<!-- t:end --> <!-- t:begin -->", "<!-- t:begin --> only"):
        with pytest.raises(ValueError, match="no block <!-- t:begin -->"):
            replace_block(broken, "t", "new")


@pytest.fixture()
def checkout(tmp_path, monkeypatch):
    """A checkout whose docs/VALIDATION.md is a copy: --update-docs never touches the real one in tests."""
    import shutil

    import sim.outputs.docs

    root = tmp_path / "checkout"
    (root / "docs").mkdir(parents=True)
    shutil.copy(validation_doc(), root / "docs" / "VALIDATION.md")
    monkeypatch.setattr(sim.outputs.docs, "checkout_root", lambda: root)
    return root / "docs" / "VALIDATION.md"


def test_update_docs_refreshes_only_the_two_tables_and_the_folder_holds_the_variants(
        checkout, tiny_table, tiny_spell_runs, tmp_path, monkeypatch):
    import sim.experiments.validation.discrimination as discrimination_module
    from sim.experiments.validation.variants import DEFAULT, discrimination_row

    wrong = variant("troops_dont_deter")
    summary = pd.DataFrame([{**discrimination_row(model, tiny_table, tiny_table), "calibration_distance": 6.0,
                             "observed_llr": -0.5, "observed_llr_se": 0.1, "p_default": 0.4, "p_variant": 0.3,
                             "default_rejected": False, "variant_rejected": False, "note": ""}
                            for model in (DEFAULT, wrong)])
    refits = pd.DataFrame({"variant": ["default"], "parameter": ["model.incident_rate"], "posterior_median": [1.0]})
    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", lambda workers, progress: tiny_table)
    monkeypatch.setattr(discrimination_module, "discriminate", lambda workers, progress: (summary, refits))
    _tiny_spells(monkeypatch, tiny_spell_runs)
    before = checkout.read_text(encoding="utf-8")
    out = tmp_path / "v"
    assert main(["validation", "--discriminate", "--update-docs", "--quiet", "--out", str(out)]) == 0
    after = checkout.read_text(encoding="utf-8")
    assert block(after, "validation") == markdown(tiny_table) == (out / "validation.md").read_text().strip()
    assert block(after, "discrimination") == (out / "discrimination.md").read_text().strip()
    assert "`troops_dont_deter`" in block(after, "discrimination")
    outside = before.split("<!-- validation:begin -->")[0], before.split("<!-- discrimination:end -->")[1]
    assert after.startswith(outside[0]) and after.endswith(outside[1])
    assert sorted(p.name for p in out.iterdir()) == ["discrimination.csv", "discrimination.md", "discrimination.png",
                                                     "evidence.csv", "hazard_bands.csv", "hazards.csv", "hazards.png",
                                                     "km.csv", "km.png", "manifest.json", "recalibration.csv",
                                                     "spells.csv",
                                                     "spells.md", "survival_curves.md", "validation.csv",
                                                     "validation.md", "validation.png"]


def test_update_docs_without_its_markers_is_refused_before_any_simulation(checkout, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sim.experiments.validation.anchors, "run_validation", lambda **kwargs: pytest.fail("simulated"))
    damaged = checkout.read_text(encoding="utf-8").replace("<!-- validation:end -->", "")
    checkout.write_text(damaged, encoding="utf-8")
    assert main(["validation", "--update-docs", "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the markers <!-- validation:begin --> and <!-- validation:end --> are missing" in err
    assert checkout.read_text(encoding="utf-8") == damaged
    assert not (tmp_path / "v").exists()
