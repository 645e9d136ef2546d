"""The validity horizon (issue 23, item 8): headlines beyond what the record covers carry a flag in summary.csv,
the report and the bet's table; ``seeds/validity.yaml`` is checked like the other seeds files."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.api import read_csv
from sim.cli.main import main
from sim.core.errors import InputError
from sim.core.strict_yaml import load_yaml
from sim.experiments.run import run_scenario
from sim.experiments.validation.variants import DISCRIMINATED
from sim.mechanisms import DEFAULT_STRUCTURE
from sim.outputs.artefacts import write_csv
from sim.outputs.report import build_report
from sim.spec.scenario import load_scenario
from sim.spec.validity import VALIDITY_FILE, bundled_coverage, coverage_from_document, load_coverage
from sim.stats.metrics import summary_table
from sim.stats.validity import (
    BEYOND,
    VALIDITY_COLUMNS,
    WITHIN,
    headline_validity,
    in_words,
    parse_validity,
    run_validity,
)

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY_COPY = ROOT / "seeds" / "validity.yaml"
NOT_LISTED = {"objection": "linear"}  # a non-default form that seeds/validity.yaml does not list
REJECTED = {"impatience": "detected"}  # a rival form the refitted held-out spells reject (p 0.003)


def _small_run(horizon: int, structure: dict[str, str]):
    overrides = {"replications": 20, "horizon_days": horizon, **{f"structure.{k}": v for k, v in structure.items()}}
    return run_scenario(load_scenario(ROOT / "scenarios" / "baseline.yaml", overrides), record_trajectories=False)


# --------------------------------------------------------------------------- the file


def test_the_file_states_the_record_horizon_of_the_spell_validation_and_the_current_rejections():
    from sim.experiments.validation.spell_level import HORIZON_DAYS

    coverage = bundled_coverage()
    assert coverage.record_horizon_days == HORIZON_DAYS == 3652
    flags = [entry.flag for entry in coverage.rejected]
    assert "default_rejected:spells_mission_gaps" in flags
    assert "default_rejected:peacekeepers_timing" in flags
    assert "default_rejected:spells_prefer_escalation_threshold" in flags
    assert {"structure_rejected:duration=constant", "structure_rejected:impatience=detected"} <= set(flags)
    assert "structure_rejected:escalation=threshold" not in flags, "the cliff at E = 5 is not the threshold form"
    assert all(entry.p_value < coverage.alpha for entry in coverage.rejected)


def test_the_repository_copy_and_the_bundled_copy_are_the_same_bytes():
    assert REPOSITORY_COPY.read_bytes() == VALIDITY_FILE.read_bytes(), "run `make bundle`"


def test_every_variant_and_form_named_is_one_the_validation_built():
    variants = {v.key: v for v in DISCRIMINATED}
    for entry in bundled_coverage().rejected:
        if entry.against is not None:
            assert entry.against in variants, entry.against
        if entry.variant is not None:
            assert variants[entry.variant].set.get(f"structure.{entry.mechanism}") == entry.form, entry.variant


def test_every_p_value_is_the_one_docs_validation_prints():
    """The file is copied by hand from the validation; when docs/VALIDATION.md is regenerated with other figures,
    this fails until seeds/validity.yaml says the same (its header says how)."""
    text = (ROOT / "docs" / "VALIDATION.md").read_text(encoding="utf-8")
    stale = [f"{entry.flag}: {entry.p_value:.3f}" for entry in bundled_coverage().rejected
             if f"{entry.p_value:.3f}" not in text]
    assert stale == []


def _discrimination_rows() -> list[list[str]]:
    """The cells of docs/VALIDATION.md's generated discrimination table, one list a model."""
    text = (ROOT / "docs" / "VALIDATION.md").read_text(encoding="utf-8")
    block = text.split("<!-- discrimination:begin -->")[1].split("<!-- discrimination:end -->")[0]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.strip().splitlines()
            if line.startswith("| `")]


def test_every_rejection_docs_validation_prints_is_in_the_file():
    """The other direction: a rival structure the refitted discrimination rejects, or a model the held-out spells
    prefer to the default, is a flag of seeds/validity.yaml (a validation rerun with new verdicts fails this until
    the file is updated by hand, as its header says)."""
    flags = {entry.flag for entry in bundled_coverage().rejected}
    rows = _discrimination_rows()
    assert len(rows) == 1 + len(DISCRIMINATED), "regenerate docs/VALIDATION.md: ceasefire validation --discriminate"
    missing = []
    for model, _fit, _llr, _p, verdict, *_ in rows:
        key = model.strip("`")
        if verdict == "**variant rejected**" and "=" in key:
            missing += [f"structure_rejected:{key}"] if f"structure_rejected:{key}" not in flags else []
        if verdict == "default rejected":
            against = [e for e in bundled_coverage().rejected if e.against == key]
            missing += [] if against else [f"default_rejected (against {key})"]
    assert missing == []


def _document() -> dict:
    return load_yaml(REPOSITORY_COPY)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(record_horizon_days="ten years"), r"validity\.yaml: record_horizon_days: "),
    (lambda d: d.update(record_horizon_days=True), r"validity\.yaml: record_horizon_days: must be a number"),
    (lambda d: d.pop("alpha"), r"validity\.yaml: alpha: Field required"),
    (lambda d: d.update(horizon=10), r"validity\.yaml: horizon: Extra inputs"),
    (lambda d: d["rejected"][0].update(p_value=0.2), r"validity\.yaml: rejected\.0\.p_value: 0\.2 is not below alpha"),
    (lambda d: d["rejected"][0].update(p_value="0.01"), r"validity\.yaml: rejected\.0\.p_value: write the number"),
    (lambda d: d["rejected"][-1].update(form="cliff"), r"validity\.yaml: rejected\.8: .*unknown form 'cliff'"),
    (lambda d: d["rejected"][-1].update(mechanism="weather"), r"validity\.yaml: rejected\.8: .*unknown mechanism"),
    (lambda d: d["rejected"][0].pop("key"), r"validity\.yaml: rejected\.0: .*needs a key"),
    (lambda d: d["rejected"][0].update(held_out=["spells_none"]),
     r"validity\.yaml: rejected\.0\.held_out: 'spells_none' is not a held-out item"),
    (lambda d: d["rejected"].append(dict(d["rejected"][0])), r"validity\.yaml: rejected\.9: default_rejected:\S+ is "
                                                             r"listed twice"),
])
def test_a_malformed_file_is_one_line_naming_the_file_and_the_field(change, message):
    document = _document()
    change(document)
    with pytest.raises(InputError, match=message) as caught:
        coverage_from_document(document, "seeds/validity.yaml")
    assert "\n" not in str(caught.value)


def test_a_malformed_file_on_disk_is_refused_by_load_coverage(tmp_path: Path):
    path = tmp_path / "validity.yaml"
    path.write_text(REPOSITORY_COPY.read_text(encoding="utf-8").replace("record_horizon_days: 3652",
                                                                        "record_horizon_days: -1"), encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: record_horizon_days: Input should be greater"):
        load_coverage(path)


# --------------------------------------------------------------------------- the flags


def test_a_730_day_headline_is_within_the_record_and_a_4000_day_one_is_beyond_it():
    within, beyond = run_validity(730, NOT_LISTED), run_validity(4000, NOT_LISTED)
    assert within.code == WITHIN and within.within and not within.beyond
    assert beyond.code == BEYOND and beyond.beyond
    assert "4,000 days" in beyond.note and "3,652 days" in beyond.note
    assert run_validity(3652, NOT_LISTED).code == WITHIN, "the record's last day is still covered"
    assert headline_validity(1825, NOT_LISTED).code == WITHIN


def test_a_rejected_form_is_flagged_and_a_form_not_listed_is_not():
    rejected = run_validity(730, REJECTED)
    assert rejected.flags == ("structure_rejected:impatience=detected",)
    assert "impatience = detected" in rejected.note and "0.003" in rejected.note
    assert run_validity(730, NOT_LISTED).flags == ()
    assert run_validity(4000, REJECTED).flags == (BEYOND, "structure_rejected:impatience=detected")


def test_the_default_structure_carries_one_flag_per_held_out_test_it_fails():
    expected = tuple(e.flag for e in bundled_coverage().rejected if e.mechanism == "default")
    for structure in ({}, dict(DEFAULT_STRUCTURE)):
        found = run_validity(730, structure)
        assert found.flags == expected and len(found.details()) == len(expected)
    assert "spells_mission_gaps (p 0.032)" in run_validity(730, {}).note
    assert "peacekeepers_timing (p 0.002)" in run_validity(730, {}).note


def test_the_code_parses_back_into_its_flags_and_reads_in_plain_words():
    found = run_validity(4000, REJECTED)
    assert parse_validity(found.code) == found.flags
    assert parse_validity(WITHIN) == ()
    assert in_words(found.flags) == ("P(holding at the horizon) beyond the record's horizon; impatience = detected "
                                     "rejected by the held-out record")
    assert in_words(run_validity(730, {}).flags).startswith("the default structure fails")
    assert in_words(()) == "within what the record covers"


# --------------------------------------------------------------------------- summary.csv, the report, the bet


def test_summary_csv_has_the_validity_columns_last_and_otherwise_the_same_bytes(tmp_path: Path):
    out = tmp_path / "run"
    assert main(["run", str(ROOT / "scenarios" / "baseline.yaml"), "--replications", "20", "--horizon", "4000",
                 "--structure", "impatience=detected", "--no-plots", "--quiet", "--out", str(out)]) == 0
    summary = read_csv(out / "summary.csv")
    assert list(summary.columns[-2:]) == list(VALIDITY_COLUMNS)
    assert summary["validity"].iloc[0] == f"{BEYOND};structure_rejected:impatience=detected"
    assert "beyond what the record can check" in summary["validity_note"].iloc[0]
    # only the columns were added: the rest of the file is what summary_table alone writes
    runs = read_csv(out / "runs.csv")
    plain = tmp_path / "plain.csv"
    write_csv(summary_table(runs, 4000, summary["scenario"].iloc[0], int(summary["seed"].iloc[0])), plain)
    rows = list(csv.reader(io.StringIO((out / "summary.csv").read_text(encoding="utf-8"))))
    cut = io.StringIO()
    csv.writer(cut, lineterminator="\n").writerows(row[:-2] for row in rows)
    assert cut.getvalue() == plain.read_text(encoding="utf-8")


def test_a_run_result_of_the_default_structure_within_ten_years_is_flagged_for_its_structure_only():
    summary = _small_run(730, {}).summary.iloc[0]
    flags = parse_validity(summary["validity"])
    assert BEYOND not in flags and "default_rejected:spells_mission_gaps" in flags
    assert _small_run(730, NOT_LISTED).summary["validity"].iloc[0] == WITHIN


def test_the_report_shows_the_flag_beside_the_headline_in_plain_words(tmp_path: Path):
    from sim.api import save_run

    long = save_run(_small_run(4000, REJECTED), tmp_path / "long", plots=False)
    short = save_run(_small_run(730, NOT_LISTED), tmp_path / "short", plots=False)
    text = build_report([long, short], tmp_path / "report.html").read_text(encoding="utf-8")
    assert "P(holding at the horizon) — beyond what the record covers (3,652 days)" in text
    assert "What the evidence covers: P(holding at the horizon) beyond the record&#x27;s horizon; impatience = " \
           "detected rejected by the held-out record." in text
    assert "What the evidence covers: within what the record covers." in text
    assert text.count("<td>what the evidence covers</td>") == 1  # the comparison row


def test_a_report_of_a_folder_written_before_the_column_states_todays_flags(tmp_path: Path):
    folder = tmp_path / "old"
    from sim.api import save_run

    result = _small_run(4000, NOT_LISTED)
    result.summary = result.summary.drop(columns=list(VALIDITY_COLUMNS))
    save_run(result, folder, plots=False)
    assert "validity" not in pd.read_csv(folder / "summary.csv").columns
    text = build_report([folder], tmp_path / "old.html").read_text(encoding="utf-8")
    assert "— beyond what the record covers (3,652 days)" in text


def test_a_sweep_states_its_validity_once_in_its_manifest_and_leaves_sweep_csv_alone(tmp_path: Path):
    import json

    out = tmp_path / "sweep"
    assert main(["sweep", str(ROOT / "scenarios" / "baseline.yaml"), "--param", "agents.UK.troops=0,20000",
                 "--replications", "10", "--horizon", "4000", "--no-plots", "--quiet", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert parse_validity(manifest["validity"]["code"])[0] == BEYOND
    assert "validity" not in pd.read_csv(out / "sweep.csv").columns


def test_the_bet_table_ends_with_the_validity_of_each_variant():
    from sim.experiments.bet import DEFAULT_VARIANT, VALIDITY_COLUMN, run_bet, structure_variant

    variants = (DEFAULT_VARIANT, structure_variant("impatience", "detected"), structure_variant("objection", "linear"))
    table = run_bet(replications=10, seed=3, variants=variants, horizon=30).table
    assert table.columns[-1] == VALIDITY_COLUMN
    codes = table.groupby("variant", sort=False)[VALIDITY_COLUMN].unique()
    assert parse_validity(codes["default"][0])[0].startswith("default_rejected:")
    assert list(codes["impatience=detected"]) == ["structure_rejected:impatience=detected"]
    assert list(codes["objection=linear"]) == [WITHIN]
