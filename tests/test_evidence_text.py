"""The README's evidence paragraph is written from the validation's tables (issue 23 item 8)."""

from __future__ import annotations

import pandas as pd

from sim.experiments.validation.evidence_text import evidence_paragraph


def _spells(p_monitoring: float) -> pd.DataFrame:
    rows = []
    for item, role, p in (("spells_none", "calibration", 0.03), ("spells_political", "calibration", 0.5),
                          ("spells_monitoring", "held_out", p_monitoring), ("spells_armed", "held_out", 0.4),
                          ("spells_mission_gaps", "held_out", 0.2)):
        for population in ("primary", "all"):
            rows.append({"item": item, "role": role, "population": population, "observed": 7, "expected": 5.25,
                         "p_value": p if population == "primary" else 0.9, "contaminated": False})
    return pd.DataFrame(rows)


TABLE = pd.DataFrame({"anchor": ["peacekeepers_fail_1y", "peacekeepers_fail_2y", "no_peacekeepers_fail_1y"],
                      "role": ["held_out", "held_out", "calibration"], "failed": [True, False, True]})
DISCRIMINATION = pd.DataFrame({
    "variant": ["default", "troops_dont_deter", "escalation_cliff_5", "monitoring_does_nothing", "power_shift_0_5"],
    "variant_rejected": [False, False, True, False, None], "default_rejected": [False, False, False, True, None],
    "p_variant": [None, 0.3, 0.004, 0.6, None], "p_default": [None, 0.2, 0.7, 0.01, None],
    "note": ["", "", "", "", "not run: Russia must rearm faster"],
    "calibration_distance": [11.9, 13.2, 14.8, 15.6, None], "observed_llr": [0.0, -8.9, -2.3, 1.0, None]})
POWER = pd.DataFrame({"variant": ["troops_dont_deter"], "power": [0.31], "cases_for_80": [166.0], "spells": [30],
                      "observed_llr": [0.57]})


def test_the_paragraph_says_what_the_record_rejects_and_what_it_cannot_tell_apart():
    text = evidence_paragraph(_spells(0.01), TABLE, DISCRIMINATION, POWER)
    assert "**fails** the no-mission spells" in text and "passes the spells with a political mission" in text
    assert "**fails** the unarmed-monitoring spells" in text and "p 0.010" in text
    assert "fails 1 of 2 held-out anchors (`peacekeepers_fail_1y`)" in text
    assert "reject `escalation_cliff_5` (p 0.004)" in text
    assert "reject the default in favour of `monitoring_does_nothing` (p 0.010)" in text
    assert "cannot tell the default from `troops_dont_deter`" in text
    assert "power_shift_0_5" not in text  # not run: says nothing either way
    assert "0.31 against `troops_dont_deter` (166 spells for 80 %)" in text and "30 held-out spells" in text
    assert "beyond 10 years" in text
    assert "median distances 13.2–15.6" in text and "provisional" in text
    assert "reverses the record's lean for `troops_dont_deter` (+0.57 at the default's values, -8.90 refitted)" in text


def test_rival_structures_get_their_own_sentence_apart_from_the_wrong_variants():
    rivals = pd.DataFrame({
        "variant": ["presence=switch", "duration=constant", "types=gamma"],
        "kind": ["rival_structure"] * 3, "variant_rejected": [True, False, False],
        "default_rejected": [False, True, False], "p_variant": [0.02, 0.5, 0.4], "p_default": [0.8, 0.03, 0.3],
        "note": ["", "", ""], "calibration_distance": [12.0, 12.5, 13.0], "observed_llr": [-3.0, 2.0, 0.1]})
    table = pd.concat([DISCRIMINATION.assign(kind=["default"] + ["wrong_variant"] * 4), rivals], ignore_index=True)
    text = evidence_paragraph(_spells(0.01), TABLE, table, POWER)
    wrong, rival = text.split("Of the 3 rival structures")
    assert "reject `escalation_cliff_5` (p 0.004)" in wrong and "presence=switch" not in wrong
    assert "reject `presence=switch` (p 0.020)" in rival
    assert "reject the default in favour of `duration=constant` (p 0.030)" in rival
    assert "cannot tell the default from `types=gamma`" in rival and "troops_dont_deter`." not in rival
    # six comparisons: Holm multiplies the smallest p by 6, so p 0.004 -> 0.024 stays, p 0.02 -> 0.10 does not
    assert "Over all 6 comparisons, Holm's correction at a family-wise 0.05 keeps the rejection of " \
           "`escalation_cliff_5` only, not of `presence=switch` (adjusted p 0.100)" in rival
    assert "the default's rejection in favour of `monitoring_does_nothing` (adjusted p 0.060), " \
           "`duration=constant` (adjusted p 0.150) does not survive it" in rival


def test_the_paragraph_follows_the_tables_when_they_change():
    passing = evidence_paragraph(_spells(0.5), TABLE, DISCRIMINATION, POWER)
    assert "passes the unarmed-monitoring spells" in passing
    assert passing != evidence_paragraph(_spells(0.01), TABLE, DISCRIMINATION, POWER)


def test_the_readme_block_is_replaced_and_nothing_else(tmp_path):
    from types import SimpleNamespace

    from sim.outputs.docs import update_readme_evidence

    readme = tmp_path / "README.md"
    readme.write_text("# x\n\nbefore\n<!-- evidence:begin -->\nold\n<!-- evidence:end -->\nafter\n", encoding="utf-8")
    assert update_readme_evidence(SimpleNamespace(evidence_markdown=lambda: "new words"), readme)
    assert readme.read_text(encoding="utf-8") == (
        "# x\n\nbefore\n<!-- evidence:begin -->\nnew words\n<!-- evidence:end -->\nafter\n")
    assert not update_readme_evidence(SimpleNamespace(evidence_markdown=lambda: None), readme)
    plain = tmp_path / "PLAIN.md"
    plain.write_text("no markers\n", encoding="utf-8")
    assert not update_readme_evidence(SimpleNamespace(evidence_markdown=lambda: "x"), plain)
    assert plain.read_text(encoding="utf-8") == "no markers\n"
