"""The record's survival curves and hazards by mission type beside the model's (``km.csv``, ``hazard_bands.csv``):
the record's curve is the Kaplan-Meier of its rows, the band is ordered, the tables do not depend on the workers,
and a different record gives a different curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.validation import spell_level
from sim.experiments.validation import survival_curves as sc
from sim.spec.spells import load_segments
from sim.stats.survival import censor_at, kaplan_meier, life_table

TINY_DRAWS, TINY_WORLDS = 4, 6


class _Run:
    """The slice of a RunResult the tables read."""

    def __init__(self, runs: pd.DataFrame) -> None:
        self.runs = runs


def _fake_runs(seed: int, worlds: int = 400, rate: float = 1 / 900) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    day = np.floor(rng.exponential(1 / rate, size=worlds))
    return pd.DataFrame({
        "replication": np.arange(worlds),
        "agreed": rng.random(worlds) < 0.7,
        "breakdown_day": pd.array([int(d) if d <= spell_level.HORIZON_DAYS else pd.NA for d in day], dtype="Int64"),
    })


@pytest.fixture(scope="module")
def fake_spell_runs() -> dict:
    """Default spell runs by scenario key, made up (no simulation)."""
    return {m.key: _Run(_fake_runs(k)) for k, m in enumerate(spell_level.MISSION_SCENARIOS.values())}


@pytest.fixture(scope="module")
def segments() -> pd.DataFrame:
    return load_segments()


@pytest.fixture(scope="module")
def band() -> sc.BandRuns:
    """The posterior band at a tiny size, in this process."""
    return sc.simulate_band(workers=1, draws=TINY_DRAWS, worlds_per_draw=TINY_WORLDS)


def test_the_record_curve_of_each_group_is_the_kaplan_meier_of_its_segments(fake_spell_runs, segments):
    km = sc.km_table(fake_spell_runs, segments=segments)
    for group, panel in sc.PANELS.items():
        rows = spell_level.group_segments(segments, panel.pkop, panel.spells, "primary")
        start, stop, event = censor_at(rows["entry_day"], rows["exit_day"], rows["event"], spell_level.HORIZON_DAYS)
        expected = kaplan_meier(start, stop, event, sc.CONFIDENCE)
        record = km[(km["group"] == group) & (km["source"] == "record")].reset_index(drop=True)
        steps = record.iloc[: len(expected)]
        np.testing.assert_allclose(steps["day"], expected["day"])
        np.testing.assert_allclose(steps["survival"], expected["survival"], atol=1e-6)
        np.testing.assert_allclose(steps["low"], expected["ci_low"], atol=1e-6)
        np.testing.assert_allclose(steps["high"], expected["ci_high"], atol=1e-6)
        assert (steps["at_risk"].to_numpy() == expected["at_risk"].to_numpy()).all()
        # the one extra row carries the last step to the last exit, with no failure
        tail = record.iloc[len(expected):]
        assert len(tail) <= 1 and (tail["failures"] == 0).all() and (tail["day"] == stop.max()).all()
        assert record["n"].iloc[0] == len(rows) and int(record["failures"].sum()) == int(event.sum())


def test_the_groups_are_the_plans_and_the_gaps_of_mission_spells_are_in_no_panel(fake_spell_runs, segments):
    km = sc.km_table(fake_spell_runs, segments=segments)
    roles = km.groupby("group")["role"].first().to_dict()
    assert roles == {"none": "calibration", "monitoring": "held_out", "armed": "held_out"}
    # the no-mission panel is calibration spells only: no segment of a spell that had a mission
    none = spell_level.group_segments(segments, sc.PANELS["none"].pkop, "calibration", "primary")
    assert (none.groupby("id")["pkop"].max() <= 1).all()
    gaps = spell_level.group_segments(segments, (0, 1), "held_out", "primary")
    assert len(gaps) and not set(gaps.index) & set(none.index)


def test_a_different_record_gives_a_different_curve_in_its_own_panel_only(fake_spell_runs, segments):
    flipped = segments.copy()
    armed = spell_level.group_segments(segments, sc.PANELS["armed"].pkop, "held_out", "primary").index
    flipped.loc[armed, "event"] = 1 - flipped.loc[armed, "event"]
    before = sc.km_table(fake_spell_runs, segments=segments)
    after = sc.km_table(fake_spell_runs, segments=flipped)

    def record(table: pd.DataFrame, group: str) -> pd.DataFrame:
        return table[(table["group"] == group) & (table["source"] == "record")].reset_index(drop=True)

    assert not record(before, "armed").equals(record(after, "armed"))
    assert record(after, "armed")["survival"].iloc[-1] < record(before, "armed")["survival"].iloc[-1]
    for group in ("none", "monitoring"):
        pd.testing.assert_frame_equal(record(before, group), record(after, group))
    hazards = sc.hazard_band_table(fake_spell_runs, segments=flipped)
    assert hazards.loc[(hazards["group"] == "armed") & (hazards["source"] == "record"), "failures"].sum() \
        > sc.hazard_band_table(fake_spell_runs, segments=segments).query(
            "group == 'armed' and source == 'record'")["failures"].sum()


def test_the_record_hazards_are_the_life_table_and_agree_with_the_spell_rows(fake_spell_runs, segments):
    hazards = sc.hazard_band_table(fake_spell_runs, segments=segments)
    for group, panel in sc.PANELS.items():
        rows = spell_level.group_segments(segments, panel.pkop, panel.spells, "primary")
        start, stop, event = censor_at(rows["entry_day"], rows["exit_day"], rows["event"], spell_level.HORIZON_DAYS)
        table = life_table(start, stop, event, spell_level.BREAKS_DAYS, sc.CONFIDENCE)
        record = hazards[(hazards["group"] == group) & (hazards["source"] == "record")]
        np.testing.assert_allclose(record["failures"], table["failures"])
        np.testing.assert_allclose(record["per_year"], table["failures_per_year"], atol=1e-6)
        assert (record["low"] <= record["per_year"]).all() and (record["per_year"] <= record["high"]).all()
    # the calibration spells' rates are those of the spell rows' hazard table (the same segments)
    none = hazards[(hazards["group"] == "none") & (hazards["source"] == "record")]
    old = spell_level.hazard_table(fake_spell_runs, segments)
    np.testing.assert_allclose(none["per_year"], old["record_calibration_per_year"], atol=1e-4)
    default = hazards[(hazards["group"] == "none") & (hazards["source"] == "model_default")]
    np.testing.assert_allclose(default["per_year"], old["model_none_per_year"], atol=1e-4)


def test_the_band_is_ordered_and_every_curve_falls(fake_spell_runs, segments, band):
    km = sc.km_table(fake_spell_runs, band, segments=segments)
    assert set(km["source"]) == set(sc.SOURCES)
    for (group, source), curve in km.groupby(["group", "source"]):
        curve = curve.sort_values("day", kind="stable")
        assert curve["day"].iloc[0] == 0 and curve["survival"].between(0, 1).all()
        assert (np.diff(curve["survival"]) <= 1e-12).all(), (group, source)
        inside = curve.dropna(subset=["low", "high"])
        assert ((inside["low"] <= inside["survival"] + 1e-12) & (inside["survival"] <= inside["high"] + 1e-12)).all()
        if source != "record":
            assert curve["day"].iloc[-1] == spell_level.HORIZON_DAYS
    hazards = sc.hazard_band_table(fake_spell_runs, band, segments=segments)
    model = hazards[hazards["source"] == "model_posterior"]
    assert len(model) == len(sc.PANELS) * len(spell_level.BREAKS_DAYS)
    assert ((model["low"] <= model["per_year"] + 1e-12) & (model["per_year"] <= model["high"] + 1e-12)).all()
    summary = sc.km_summary(km)
    assert list(summary["day"]) == [*sc.REPORT_DAYS] * len(sc.PANELS)
    assert (summary["posterior_low"] <= summary["posterior_high"]).all()


def test_the_band_is_wider_than_its_monte_carlo_error_when_the_draws_differ():
    """Draws with different true rates: the band holds their spread; identical draws: Monte Carlo error only."""
    exposure = np.full((8, 1), 3652.5)
    same = np.full((8, 1), 10.0)
    rate, low, high = sc.pooled_rate(same, exposure)
    mc_only = sc.Z * np.sqrt(80.0) / (8 * 3652.5) * 365.25
    assert rate[0] == pytest.approx(1.0) and high[0] - rate[0] == pytest.approx(mc_only)
    spread = np.array([[2.0], [30.0], [4.0], [25.0], [3.0], [20.0], [1.0], [35.0]])
    rate2, low2, high2 = sc.pooled_rate(spread, exposure)
    assert high2[0] - low2[0] > 3 * (high[0] - low[0])


def test_the_tables_do_not_depend_on_the_workers(fake_spell_runs, segments, band):
    two = sc.simulate_band(workers=2, draws=TINY_DRAWS, worlds_per_draw=TINY_WORLDS)
    for table in (sc.km_table, sc.hazard_band_table):
        one_bytes = table(fake_spell_runs, band, segments=segments).to_csv(index=False).encode()
        two_bytes = table(fake_spell_runs, two, segments=segments).to_csv(index=False).encode()
        assert one_bytes == two_bytes
    assert band.describe() == two.describe()
    assert band.describe()["sha256"] and band.describe()["file"].endswith("posterior.csv")


def test_the_figures_are_drawn_from_the_csvs(fake_spell_runs, segments, band, tmp_path):
    from sim.outputs.plots.validation import plot_hazards, plot_km

    sc.km_table(fake_spell_runs, band, segments=segments).to_csv(tmp_path / "km.csv", index=False)
    sc.hazard_band_table(fake_spell_runs, band, segments=segments).to_csv(tmp_path / "hazard_bands.csv", index=False)
    plot_km(pd.read_csv(tmp_path / "km.csv"), tmp_path / "km.png").clear()
    figure = plot_hazards(pd.read_csv(tmp_path / "hazard_bands.csv"), tmp_path / "hazards.png")
    titles = [ax.get_title() for ax in figure.axes]
    assert sum("HELD OUT" in t for t in titles) == 2 and any("calibration" in t for t in titles)
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in figure.axes)
    figure.clear()
    assert (tmp_path / "km.png").stat().st_size > 10_000 and (tmp_path / "hazards.png").stat().st_size > 10_000


def test_without_the_posterior_the_tables_and_figures_hold_the_record_and_the_default(fake_spell_runs, segments,
                                                                                       tmp_path):
    from sim.outputs.plots.validation import plot_hazards, plot_km

    km = sc.km_table(fake_spell_runs, None, segments=segments)
    hazards = sc.hazard_band_table(fake_spell_runs, None, segments=segments)
    assert set(km["source"]) == set(hazards["source"]) == {"record", "model_default"}
    text = sc.km_markdown(km, hazards)
    assert text.count("| — |") >= 2 * len(sc.PANELS)
    plot_km(km, tmp_path / "km.png").clear()
    plot_hazards(hazards, tmp_path / "hazards.png").clear()
    assert (tmp_path / "km.png").is_file() and (tmp_path / "hazards.png").is_file()
