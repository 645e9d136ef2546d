"""The pre-registered evidence plan: its roles, its hash in every manifest, calibrate never touching a held-out
item, contamination reported, and the spell-level rows by mission type (issue 23)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

import sim.experiments.calibrate.fit as fit
import sim.spec.evidence_plan as evidence_plan
from sim.core.errors import InputError
from sim.experiments.validation import spell_level
from sim.experiments.validation.anchors import ANCHORS, validation_table
from sim.spec.evidence_plan import (
    PLAN_FILE,
    bundled_plan,
    calibrated_to_keys,
    calibration_keys,
    commitments_calibrated_to,
    contaminating_parameters,
    load_plan,
    plan_from_document,
)
from sim.spec.spells import RECORD_SHA256, calibration_segments, held_out_segments, load_segments
from sim.stats.survival import piecewise_exponential_loglik

MINSK = ("minsk_deals", "minsk_i_collapse_138d", "minsk_ii_held_7y", "minsk_ii_failed_debaltseve")


def test_the_plan_lists_every_anchor_and_every_piece_of_evidence_with_a_role_and_a_reason():
    plan = bundled_plan()
    assert plan.sha256 == hashlib.sha256(PLAN_FILE.read_bytes()).hexdigest()
    assert plan.record_sha256 == RECORD_SHA256
    for anchor in ANCHORS:
        assert plan.role(anchor.key) == anchor.role
    assert set(plan.item_keys(kind="spell_group")) == {"spells_none", "spells_political", "spells_monitoring",
                                                  "spells_armed", "spells_mission_gaps"}
    for item in plan.items:
        assert item.role in ("calibration", "held_out") and len(item.reason) > 10


def test_the_roles_are_the_issue_s_split():
    plan = bundled_plan()
    calibration = {"minsk_recorded_violations_per_day", *MINSK, "hazard_shape", "spells_none", "spells_political",
                   "no_peacekeepers_fail_90d", "no_peacekeepers_fail_1y", "no_peacekeepers_fail_2y"}
    held_out = {"spells_monitoring", "spells_armed", "spells_mission_gaps", "mission_hazard_ratios",
                "peacekeeping_hazard_reduction", "peacekeepers_fail_90d", "peacekeepers_fail_1y",
                "peacekeepers_fail_2y"}
    assert set(plan.item_keys("calibration")) == calibration
    assert set(plan.item_keys("held_out")) == held_out


def test_the_repository_copy_and_the_bundled_copy_are_the_same_bytes():
    from pathlib import Path

    repository = Path(__file__).resolve().parents[1] / "seeds" / "evidence_plan.yaml"
    assert repository.read_bytes() == PLAN_FILE.read_bytes()


@pytest.mark.parametrize("damage, message", [
    (lambda d: d["items"].append(dict(d["items"][0])), "listed twice"),
    (lambda d: d["items"][0].update(overlaps=["no_such_item"]), "overlaps names no item"),
    (lambda d: d["items"][0].update(role="maybe"), "role"),
    (lambda d: next(i for i in d["items"] if i["key"] == "spells_armed").update(role="calibration"),
     "held-out spells cannot have the calibration role"),
])
def test_a_damaged_plan_is_refused_in_one_line(damage, message):
    from sim.core.strict_yaml import load_yaml

    document = load_yaml(PLAN_FILE)
    damage(document)
    with pytest.raises(InputError, match=message) as caught:
        plan_from_document(document, "plan.yaml", "0" * 64)
    assert "\n" not in str(caught.value)


# --------------------------------------------------------------------------- calibrate reads calibration only


def test_calibrate_s_summary_statistics_are_built_only_from_calibration_items():
    plan = bundled_plan()
    statistics = fit.calibration_statistics()
    items = {item for read in statistics.values() for item in read}
    assert items and all(plan.role(key) == "calibration" for key in items)
    assert set(fit.observed_estimates()) == set(statistics) == set(fit.distance_scales())


class _Sealed:
    """A held-out anchor as calibrate would see it: its key and role may be read, nothing else."""

    def __init__(self, anchor):
        self.key, self.role = anchor.key, anchor.role

    def __getattr__(self, name):
        raise AssertionError(f"calibrate read {name} of held-out anchor {self.key}")


def test_calibrate_touches_no_held_out_anchor(monkeypatch):
    sealed = tuple(_Sealed(a) if a.role == "held_out" else a for a in ANCHORS)
    monkeypatch.setattr(fit, "ANCHORS", sealed)
    fit.observed_values()
    fit.distance_scales()
    runs = pd.DataFrame({"agreed": [True, True, False], "breakdown_day": pd.array([30, pd.NA, pd.NA], dtype="Int64"),
                         "detected_violations": [10, 700, 0]})

    class _Result:
        def __init__(self, horizon):
            self.runs = runs
            self.scenario = type("S", (), {"horizon_days": horizon})()

    stats = fit.summary_statistics({run.key: _Result(run.horizon_days) for run in fit.RUNS})
    assert set(stats) == set(fit.STATISTIC_ITEMS)


def _poisoned(segments: pd.DataFrame, rows: pd.Series) -> pd.DataFrame:
    """``segments`` with the chosen rows' outcomes turned upside down: every failure censored, every censored
    segment failing on its tenth day."""
    changed = segments.copy()
    changed.loc[rows, "event"] = 1 - changed.loc[rows, "event"]
    changed.loc[rows, "exit_day"] = changed.loc[rows, "entry_day"] + 10
    return changed


def test_calibrate_s_life_table_never_reads_a_held_out_spell(monkeypatch):
    """Turning every held-out spell (one that ever had a mission) upside down leaves every statistic calibrate
    fits unchanged; doing the same to the calibration spells changes them (so the check could fail)."""
    segments = load_segments()
    before = fit.observed_values(), fit.distance_scales()
    monkeypatch.setattr(fit, "load_segments", lambda: _poisoned(segments, held_out_segments(segments)))
    assert (fit.observed_values(), fit.distance_scales()) == before
    monkeypatch.setattr(fit, "load_segments", lambda: _poisoned(segments, ~held_out_segments(segments)))
    assert fit.observed_values() != before[0]


def test_calibrate_refuses_to_start_when_the_plan_holds_one_of_its_anchors_out(monkeypatch, tmp_path):
    text = PLAN_FILE.read_text(encoding="utf-8")
    block = "  - key: minsk_recorded_violations_per_day\n    kind: anchor\n    role: calibration\n"
    assert block in text
    changed = tmp_path / "plan.yaml"
    changed.write_text(text.replace(block, block.replace("calibration", "held_out")), encoding="utf-8")
    monkeypatch.setattr(evidence_plan, "bundled_plan", lambda: load_plan(changed))
    with pytest.raises(InputError, match="minsk_recorded_violations_per_day' is held out; calibration may not "
                                         "read it"):
        fit.observed_values()
    spells = text.replace("  - key: spells_political\n    kind: spell_group\n    role: calibration\n",
                          "  - key: spells_political\n    kind: spell_group\n    role: held_out\n")
    assert spells != text
    changed.write_text(spells, encoding="utf-8")
    with pytest.raises(InputError, match="spells_political' is held out"):
        fit.record_life_table()
    with pytest.raises(InputError, match="held out"):
        calibration_keys(["peacekeepers_fail_1y"])


def test_calibrate_s_manifest_records_the_plan_s_hash():
    calibration = fit.Calibration(pd.DataFrame(), pd.DataFrame(columns=["generation"]), fit.QUICK, {}, {}, 0.0)
    assert fit.manifest_fields(calibration)["evidence_plan_sha256"] == bundled_plan().sha256


# --------------------------------------------------------------------------- contamination


def test_calibrated_to_names_are_read_with_suffixes_and_aliases():
    plan = bundled_plan()
    assert calibrated_to_keys("no_peacekeepers_fail_90d, _1y, _2y (docs/VALIDATION.md)", plan) == (
        "no_peacekeepers_fail_90d", "no_peacekeepers_fail_1y", "no_peacekeepers_fail_2y")
    assert calibrated_to_keys("design target, the hazard's shape over time (seeds/evidence_plan.yaml, "
                              "calibration role)", plan) == ("hazard_shape",)


def test_the_duration_defaults_contaminate_the_mission_rows_and_deterrence_weight_no_longer_does():
    """``deterrence_weight`` was once tuned to two held-out anchors; it is now fitted on the calibration spells'
    life table (issue 23). The duration defaults were designed to a pooled table that included the mission spells
    (``hazard_shape`` overlaps them), so they mark those held-out rows. A parameter naming a held-out item taints
    it and every held-out item resting on the same cases."""
    committed = commitments_calibrated_to()
    assert "spells_none" in committed["model.deterrence_weight"]
    tainted = contaminating_parameters(committed)
    duration = ("model.institution_days", "model.institution_effect")
    for key in ("spells_monitoring", "spells_armed", "spells_mission_gaps", "peacekeepers_fail_1y"):
        assert tainted[key] == duration, key
    assert tainted["peacekeeping_hazard_reduction"] == tainted["mission_hazard_ratios"] == ()
    assert not any("deterrence_weight" in p for ps in tainted.values() for p in ps)
    tainted = contaminating_parameters({"model.x": "peacekeepers_fail_1y (docs/VALIDATION.md)"})
    for key in ("peacekeepers_fail_1y", "peacekeepers_fail_2y", "spells_monitoring", "spells_armed"):
        assert tainted[key] == ("model.x",), key
    clean = contaminating_parameters({"model.x": "no_peacekeepers_fail_90d, _1y"})
    assert not any(clean.values())


# --------------------------------------------------------------------------- spell-level rows


@pytest.fixture(scope="module")
def tiny_runs():
    return spell_level.simulate(workers=1, scale=0.03)


def test_every_spell_group_gets_a_row_per_population_with_its_role_p_value_and_log_likelihood(tiny_runs):
    table = spell_level.spell_table(tiny_runs, contamination=contaminating_parameters(commitments_calibrated_to()))
    plan = bundled_plan()
    expected = [k for k in plan.item_keys() if plan.item(k).kind in ("spell_group", "hazard_shape")]
    assert list(table["item"].unique()) == expected
    assert (table.groupby("item").size() == len(spell_level.POPULATIONS)).all()
    for row in table.itertuples():
        assert row.role == plan.role(row.item)
        assert 0 <= row.p_value <= 1 and np.isfinite(row.log_lik)
    held = table[table["role"] == "held_out"]
    assert set(held["mission_group"]) == {"monitoring", "armed", "none"}
    # the duration defaults were designed to a pooled table that included the mission spells
    assert held["contaminated"].all() and held["contaminated_by"].str.contains("institution_effect").all()
    marked = spell_level.spell_table(tiny_runs, contamination={"spells_armed": ("model.x",)})
    assert marked.loc[marked["item"] == "spells_armed", "contaminated"].all()
    assert marked.loc[marked["item"] == "spells_armed", "contaminated_by"].eq("model.x").all()
    segments = load_segments()
    assert table.loc[(table["item"] == "spells_armed") & (table["population"] == "all"), "segments"].item() == int(
        (segments["pkop"] >= 3).sum())


def test_immortal_time_before_a_mission_is_left_out_of_the_held_out_gaps():
    """Two no-mission segments of the record precede their spell's first mission (spells 570 and 1010): they
    could not have failed, so the held-out gap group leaves them out; the later gaps stay."""
    segments = load_segments()
    immortal = spell_level.before_first_mission(segments)
    assert sorted(segments.loc[immortal, "id"]) == [570, 1010]
    assert sorted(segments.loc[immortal, "exit_day"]) == [44, 305]
    gaps = spell_level.group_segments(segments, (0, 1), "held_out", "all")
    assert not gaps.index.isin(segments.index[immortal]).any()
    assert len(gaps) == int(((segments["pkop"] <= 1) & ~calibration_segments(segments)).sum()) - 2


def test_a_constant_hazard_gives_the_exact_exponential_likelihood_and_a_calibrated_p_value():
    hazard = 1 / 400
    rng = np.random.default_rng(3)
    n = 200
    days = rng.exponential(400, n)
    exit_day = np.minimum(np.ceil(days), 1500)
    rows = pd.DataFrame({"id": np.arange(n), "entry_day": 0, "exit_day": exit_day,
                         "event": (days <= 1500).astype(int), "potential_exit": 1500.0})
    exposure = np.array([91, 274, 365, 365, 731, 1826], dtype=float) * 1e6
    score = spell_level.score_group(rows, exposure * hazard, exposure, draws=4000)
    assert score["expected"] == pytest.approx(exit_day.sum() * hazard)
    breaks = spell_level.BREAKS_DAYS
    assert score["log_lik"] == pytest.approx(piecewise_exponential_loglik(
        rows["entry_day"], exit_day, rows["event"], breaks, np.full(len(breaks), hazard)), abs=1e-3)
    assert score["p_value"] > 0.05  # the record was drawn from the model


def test_a_wrong_hazard_is_rejected():
    rng = np.random.default_rng(4)
    n = 150
    days = rng.exponential(200, n)
    exit_day = np.minimum(np.ceil(days), 1500)
    rows = pd.DataFrame({"id": np.arange(n), "entry_day": 0, "exit_day": exit_day,
                         "event": (days <= 1500).astype(int), "potential_exit": 1500.0})
    exposure = np.full(6, 1e9)
    score = spell_level.score_group(rows, exposure / 2000, exposure, draws=2000)  # ten times too low a hazard
    assert score["p_value"] < 0.01


def _fake_results() -> dict:
    class _Fake:
        def __init__(self, runs, horizon):
            self.runs = runs
            self.scenario = type("S", (), {"replications": len(runs), "horizon_days": horizon})()

    runs = pd.DataFrame({"agreed": [True] * 4, "breakdown_day": pd.array([5, 100, pd.NA, 800], dtype="Int64"),
                         "cause": ["major_offensive"] * 4, "detected_violations": [5, 50, 500, 800]})
    return {"baseline": _Fake(runs, 730), "no_troops": _Fake(runs, 730), "no_troops_long": _Fake(runs, 2566)}


@pytest.fixture(scope="module")
def fake_table() -> pd.DataFrame:
    return validation_table(_fake_results())


def test_the_validation_table_marks_contaminated_rows(fake_table, monkeypatch):
    import sim.experiments.validation.anchors as anchors_module

    table = fake_table.set_index("anchor")
    assert set(table.index[table["contaminated"]]) == {"peacekeepers_fail_90d", "peacekeepers_fail_1y",
                                                          "peacekeepers_fail_2y"}  # the duration defaults
    assert (table.loc[list(MINSK), "role"] == "calibration").all()
    monkeypatch.setattr(anchors_module, "commitments_calibrated_to",
                        lambda: {"model.x": "peacekeeping_hazard_reduction, peacekeepers_fail_1y"})
    again = anchors_module.validation_table(_fake_results()).set_index("anchor")
    assert again.loc["peacekeepers_fail_1y", "contaminated"]
    assert again.loc["peacekeepers_fail_1y", "contaminated_by"] == "model.x"
    assert not again.loc["no_peacekeepers_fail_1y", "contaminated"]


def test_validation_writes_every_held_out_item_with_its_role_p_value_and_the_plan_s_hash(fake_table, tiny_runs,
                                                                                          tmp_path):
    from sim.experiments.validation.experiment import ValidationResult
    from sim.outputs.artefacts import save

    result = ValidationResult(fake_table, spells=spell_level.spell_table(tiny_runs),
                              hazards=spell_level.hazard_table(tiny_runs))
    save(result.artefacts(), tmp_path / "v", command_line=["ceasefire", "validation"])
    manifest = json.loads((tmp_path / "v" / "manifest.json").read_text())
    assert manifest["evidence_plan_sha256"] == bundled_plan().sha256
    evidence = pd.read_csv(tmp_path / "v" / "evidence.csv")
    assert list(evidence["item"]) == list(bundled_plan().item_keys())
    held = evidence[evidence["role"] == "held_out"].set_index("item")
    tested = held.drop(index="mission_hazard_ratios")
    assert tested["p_value"].notna().all()
    # a figure known only as a range has a z-test and no log predictive (no counts, docs/VALIDATION.md)
    assert tested.drop(index="peacekeeping_hazard_reduction")["log_predictive"].notna().all()
    assert set(held.index[held["contaminated"]]) == {"peacekeepers_fail_90d", "peacekeepers_fail_1y",
                                                        "peacekeepers_fail_2y", "spells_monitoring",
                                                        "spells_armed", "spells_mission_gaps"}
    assert set(pd.read_csv(tmp_path / "v" / "spells.csv")["item"]) >= {"spells_monitoring", "spells_armed"}


# --------------------------------------------------------------------------- power


def _counts(per_year: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    exposure = np.full(len(spell_level.BREAKS_DAYS), 1e8)
    return {group: (exposure * per_year / 365.25, exposure) for group in spell_level.MISSION_SCENARIOS}


def test_power_is_alpha_against_an_identical_model_and_high_against_a_far_one():
    from sim.experiments.validation import power
    from sim.experiments.validation.variants import variant

    record = power.held_out_record()
    assert record.spells > 20 and set(record.items) == {"spells_monitoring", "spells_armed", "spells_mission_gaps"}
    same = power.power_row(variant("troops_dont_deter"), _counts(0.1 * 1.0001), _counts(0.1), record, draws=3000)
    assert same["power"] == pytest.approx(0.05, abs=0.03) and same["cases_for_80"] > 1000
    far = power.power_row(variant("troops_dont_deter"), _counts(1.0), _counts(0.1), record, draws=3000)
    assert far["power"] > 0.99 and far["cases_for_80"] < record.spells
    assert far["observed_llr"] < 0 and far["variant_rejected"]  # the record is far from ten times the hazard


def test_validation_has_a_power_flag_that_writes_power_csv(monkeypatch, tmp_path, fake_table, tiny_runs):
    import sim.experiments.validation.anchors as anchors_module
    from sim.cli.main import main
    from sim.experiments.validation import power

    table = pd.DataFrame([{"variant": "troops_dont_deter", "description": "d", "spells": 30, "observed_llr": 0.1,
                           "observed_llr_se": 0.2, "p_default": 0.4, "p_variant": 0.5, "default_rejected": False,
                           "variant_rejected": False, "critical_llr": 1.0, "power": 0.3, "cases_for_80": 150.0,
                           "note": ""}])
    monkeypatch.setattr(anchors_module, "run_validation", lambda workers, progress: fake_table)
    monkeypatch.setattr(spell_level, "simulate", lambda workers, progress: tiny_runs)
    monkeypatch.setattr(power, "power_table", lambda workers, progress: table)
    assert main(["validation", "--power", "--quiet", "--out", str(tmp_path / "v")]) == 0
    written = pd.read_csv(tmp_path / "v" / "power.csv")
    assert written["cases_for_80"].tolist() == [150.0]
    assert json.loads((tmp_path / "v" / "manifest.json").read_text())["power_alpha"] == 0.05


def test_a_row_multiplier_scores_as_that_many_times_the_hazard():
    rng = np.random.default_rng(5)
    n = 120
    days = rng.exponential(300, n)
    exit_day = np.minimum(np.ceil(days), 1500)
    rows = pd.DataFrame({"id": np.arange(n), "entry_day": 0, "exit_day": exit_day,
                         "event": (days <= 1500).astype(int), "potential_exit": 1500.0})
    exposure = np.full(len(spell_level.BREAKS_DAYS), 1e9)
    doubled = spell_level.score_group(rows, exposure / 800, exposure)
    scaled = spell_level.score_group(rows, exposure / 1600, exposure, multiplier=np.full(n, 2.0))
    assert scaled["log_lik"] == pytest.approx(doubled["log_lik"], abs=1e-3)
    assert scaled["expected"] == pytest.approx(doubled["expected"], rel=1e-6)
    assert scaled["p_value"] == pytest.approx(doubled["p_value"], abs=0.05)


def test_case_difficulty_is_fitted_on_calibration_spells_only():
    segments = load_segments()
    multipliers, beta = spell_level.control_multipliers(segments)
    assert set(beta) == set(spell_level.CONTROLS) and (multipliers > 0).all()
    # the outcomes of held-out segments do not move the fit
    scrambled = segments.copy()
    held = ~spell_level.calibration_segments(segments)
    scrambled.loc[held, "event"] = 0
    assert spell_level.control_multipliers(scrambled)[1] == beta


def test_a_simulated_failure_neither_model_can_produce_favours_neither_instead_of_poisoning_the_sum():
    """Records are simulated from hazards redrawn from the Monte Carlo error (never 0), the models are compared at
    their point hazards (0 where no world failed): a failure in such a bin gives -inf under both; the group then
    counts 0, not NaN (which made the bootstrap's quantile NaN in tiny runs)."""
    from sim.experiments.validation import power

    record = power.HeldOutRecord(("a", "b"), ("a", "b"), (), (), (), (), 2)
    stats = [(np.array([[1.0, 0.0]]), np.array([[10.0, 5.0]])), (np.array([[0.0, 1.0]]), np.array([[3.0, 3.0]]))]
    alternative = {"a": np.array([0.0, 0.1]), "b": np.array([0.1, 0.2])}
    null = {"a": np.array([0.0, 0.2]), "b": np.array([0.1, 0.1])}
    with np.errstate(invalid="raise"):
        llr = power._llr(stats, record, alternative, null)
    # group a favours neither; group b: (log 0.2 - 0.9) - (log 0.1 - 0.6)
    assert llr.tolist() == pytest.approx([np.log(2.0) - 0.3])
    one_sided = {"a": np.array([0.1, 0.1]), "b": alternative["b"]}  # only the alternative can produce it
    assert power._llr(stats, record, one_sided, null)[0] == np.inf
