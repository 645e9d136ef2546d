"""Fortna's ceasefire record as bundled: its hash, its counts, the loader's types and checks, and the
selections. No statistic of a spell with a mission (pkop >= 2) is computed here: the held-out rows are only
counted as rows to check that the selections partition the record."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.spec import spells as record

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL_COPY = ROOT / "seeds" / "record" / record.RECORD_NAME


@pytest.fixture(scope="module")
def segments() -> pd.DataFrame:
    return record.load_segments()


# --------------------------------------------------------------------------- the file


def test_bundled_file_has_the_recorded_hash_and_equals_the_top_level_copy():
    path = record.record_path()
    assert path.is_file()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == record.RECORD_SHA256
    assert TOP_LEVEL_COPY.read_bytes() == path.read_bytes(), "seeds/record and sim/data/seeds/record differ"
    assert (TOP_LEVEL_COPY.parent / "README.md").read_bytes() == (path.parent / "README.md").read_bytes()
    assert record.RECORD_SHA256 in (path.parent / "README.md").read_text(encoding="utf-8")


def test_one_changed_byte_is_refused(tmp_path):
    data = bytearray(record.record_path().read_bytes())
    position = data.index(b"Afghanistan") + 2
    data[position] ^= 0x01  # one bit of one letter of a name: same rows, same columns
    changed = tmp_path / "changed.csv"
    changed.write_bytes(bytes(data))
    assert record.sha256_of(changed) != record.RECORD_SHA256
    with pytest.raises(record.RecordError, match="SHA-256"):
        record.load_segments(changed)
    assert len(record.load_segments(changed, check_hash=False)) == 192  # the content check alone passes it


def test_an_unchanged_copy_loads(tmp_path):
    copy = tmp_path / "copy.csv"
    copy.write_bytes(record.record_path().read_bytes())
    pd.testing.assert_frame_equal(record.load_segments(copy), record.load_segments())


# --------------------------------------------------------------------------- counts and types


def test_counts_are_those_the_data_readme_states(segments):
    per_spell = record.spells(segments)
    post_cold_war = per_spell[per_spell["pcw"] == 1]
    assert len(segments) == 192
    assert len(per_spell) == 156 == segments["id"].nunique()
    assert int(per_spell["event"].sum()) == 84 == int(segments["event"].sum())
    assert len(post_cold_war) == 95
    assert int(post_cold_war["event"].sum()) == 55


def test_columns_are_typed(segments):
    for column in record.DATE_COLUMNS:
        assert pd.api.types.is_datetime64_any_dtype(segments[column]), column
    for column in (*record.INT_COLUMNS, "entry_day", "exit_day"):
        assert segments[column].dtype == np.int64, column
    for column in record.NULLABLE_INT_COLUMNS:
        assert segments[column].dtype == "Int64", column
    assert segments["firstob"].dtype == bool
    assert segments["firstob"].sum() == 156
    assert segments["cfdate"].notna().sum() == 156
    first = segments[segments["firstob"]]
    assert ((first["t0"] - first["cfdate"]).dt.days == 0).all()
    assert ((segments["t1"] - segments.groupby("id")["t0"].transform("first")).dt.days == segments["day_end"]).all()


def test_risk_intervals_are_contiguous_within_a_spell(segments):
    previous_exit = segments.groupby("id")["exit_day"].shift()
    later = previous_exit.notna()
    assert (segments.loc[later, "entry_day"] == previous_exit[later]).all()
    assert (segments.loc[~later, "entry_day"] == 0).all()
    assert set(segments["day_start"] - segments["entry_day"]) <= {0, 1}
    assert (segments["exit_day"] > segments["entry_day"]).all()


def test_spell_view_spans_each_spell(segments):
    per_spell = record.spells(segments)
    assert (per_spell["entry_day"] == 0).all()
    assert (per_spell["exit_day"] == segments.groupby("id")["day_end"].max().to_numpy()).all()
    assert per_spell["n_segments"].sum() == 192
    assert per_spell["id"].is_unique
    assert set(per_spell["pkop_max"]) <= set(record.PKOP_CODES)


def _two_segment_spell(tmp_path: Path, day_starts: tuple[int, int], day_ends: tuple[int, int],
                       events: tuple[int, int]) -> Path:
    """A one-spell record of two segments (synthetic values on the record's columns)."""
    header = record.record_path().read_text(encoding="utf-8").splitlines()[0].split(",")
    rows = []
    for part, (start, end, event) in enumerate(zip(day_starts, day_ends, events, strict=True)):
        row = dict.fromkeys(header, "0")
        row.update(id="1", cname="Test", cfdate="2000-01-01" if part == 0 else "", faildate="",
                   firstob="1" if part == 0 else "", t0="2000-01-01", t1="2000-02-01", day_start=str(start),
                   day_end=str(end), event=str(event), estdate="", partcf="", pkwho="", outcome="3")
        rows.append(",".join(row[c] for c in header))
    path = tmp_path / "two.csv"
    path.write_text("\n".join([",".join(header), *rows]) + "\n", encoding="utf-8")
    return path


def test_loader_checks_segments_of_a_file_without_the_hash(tmp_path):
    good = record.load_segments(_two_segment_spell(tmp_path, (0, 11), (10, 20), (0, 1)), check_hash=False)
    assert good["entry_day"].tolist() == [0, 10] and good["exit_day"].tolist() == [10, 20]
    with pytest.raises(record.RecordError, match="not the spell's last"):
        record.load_segments(_two_segment_spell(tmp_path, (0, 11), (10, 20), (1, 0)), check_hash=False)
    with pytest.raises(record.RecordError, match="overlap"):
        record.load_segments(_two_segment_spell(tmp_path, (0, 5), (10, 20), (0, 0)), check_hash=False)
    with pytest.raises(record.RecordError, match="SHA-256"):
        record.load_segments(_two_segment_spell(tmp_path, (0, 11), (10, 20), (0, 1)))


# --------------------------------------------------------------------------- selections


def test_calibration_holds_no_segment_of_a_spell_that_ever_had_a_mission(segments):
    calibration = segments[record.calibration_segments(segments)]
    assert (calibration["pkop"] <= 1).all()
    chosen = record.spell_ids(segments, record.calibration_segments(segments))
    every_segment_of_chosen = segments[segments["id"].isin(chosen)]
    assert len(every_segment_of_chosen) == len(calibration), "a calibration spell is missing some segments"
    assert (every_segment_of_chosen["pkop"] <= 1).all()


def test_calibration_and_held_out_partition_the_record_by_spell(segments):
    calibration = record.calibration_segments(segments)
    held_out = record.held_out_segments(segments)
    assert (calibration ^ held_out).all()
    assert not set(record.spell_ids(segments, calibration)) & set(record.spell_ids(segments, held_out))
    assert calibration.any() and held_out.any()


def test_a_spell_whose_mission_arrives_later_is_held_out_whole():
    """A segment-level rule (pkop <= 1 row by row) would keep the mission-free first segment: wrong."""
    frame = pd.DataFrame({"id": [1, 1, 2, 3, 3], "pkop": [0, 2, 1, 1, 0]})
    assert record.calibration_segments(frame).tolist() == [False, False, True, True, True]
    assert record.held_out_segments(frame).tolist() == [True, True, False, False, False]


def test_primary_analogue_is_post_cold_war_truce_or_settlement(segments):
    frame = pd.DataFrame({"pcw": [1, 1, 1, 1, 0, 0], "outcome": [1, 2, 3, 4, 3, 4]})
    assert record.primary_analogue(frame).tolist() == [False, False, True, True, False, False]
    per_spell = record.spells(segments)
    by_spell = set(per_spell.loc[record.primary_analogue(per_spell), "id"])
    assert by_spell == set(record.spell_ids(segments, record.primary_analogue(segments)))


def test_mission_groups():
    assert [record.mission_group(code) for code in range(6)] == \
        ["none", "political", "monitoring", "armed", "armed", "armed"]
    assert record.mission_group(np.array([0, 5])).tolist() == ["none", "armed"]
    labelled = record.mission_group(pd.Series([2, 1], index=[7, 9]))
    assert labelled.index.tolist() == [7, 9] and labelled.tolist() == ["monitoring", "political"]
    for bad in (6, -1, np.array([1.5])):
        with pytest.raises(ValueError):
            record.mission_group(bad)
