"""Scenario files: defaults from the commitments, extends, and one clear line for every bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli.main import main
from sim.core.errors import InputError
from sim.spec.scenario import load_scenario, numeric_paths
from sim.spec.sources import load_commitments

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))


def test_baseline_takes_every_agent_parameter_from_the_commitments():
    scenario = load_scenario(SCENARIOS[0].parent / "baseline.yaml")
    defaults = load_commitments().defaults()
    assert scenario.model_dump(include={"agents", "model"}) == defaults


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_bundled_scenario_is_valid_and_says_which_question_it_answers(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description.rstrip().endswith("?")


def test_the_bundled_set_covers_the_required_scenarios():
    required = {"baseline", "no_european_troops", "us_withdraws_monitoring", "germany_deploys_early",
                "russia_hardline", "strong_coalition"}
    assert required <= {p.stem for p in SCENARIOS}


def test_extends_inherits_and_overrides(write_yaml):
    write_yaml("name: parent\nhorizon_days: 400\nagents:\n  UK: {troops: 111}\n", "parent.yaml")
    child = write_yaml("extends: parent.yaml\nname: child\nagents:\n  FR: {troops: 222}\n", "child.yaml")
    scenario = load_scenario(child)
    assert (scenario.name, scenario.horizon_days) == ("child", 400)
    assert (scenario.agents.UK.troops, scenario.agents.FR.troops) == (111, 222)
    assert scenario.agents.DE.troops == load_commitments().defaults()["agents"]["DE"]["troops"]


def test_overrides_apply_last():
    scenario = load_scenario(SCENARIOS[0].parent / "baseline.yaml", {"replications": 7, "agents.US.resolve": 0.25})
    assert scenario.replications == 7 and scenario.agents.US.resolve == 0.25


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nagents:\n  UK:\n    troops: -5\n", "agents.UK.troops: must be >= 0.0 (got -5)"),
        ("name: x\nagents:\n  UK:\n    trops: 5\n", "agents.UK.trops: unknown key (did you mean 'troops'?)"),
        ("name: x\nagents:\n  XX: {}\n", "agents.XX: unknown key"),
        ("name: x\nreplicatons: 5\n", "replicatons: unknown key (did you mean 'replications'?)"),
        ("name: x\nagents:\n  US:\n    detection_probability: 1.5\n",
         "agents.US.detection_probability: must be <= 1.0 (got 1.5)"),
        ("name: x\nmodel:\n  troop_scale: abc\n", "model.troop_scale: input should be a valid number"),
        ("name: x\nhorizon_days: 0\n", "horizon_days: must be >= 1 (got 0)"),
        ("name: 'a b'\n", "name: may contain only letters"),
        ("name: x\n  bad: : yaml\n", "not valid YAML at line 2"),
        ("- just\n- a list\n", "must be a mapping of fields (got list)"),
        ("", "must be a mapping of fields (got NoneType)"),
        ("!!python/object/apply:os.system ['echo pwned']\n", "not valid YAML"),
        ("name: x\nextends: missing.yaml\n", "extends: no such file"),
        ("name: x\nagents:\n  UK:\n    permanent_bases: maybe\n", "agents.UK.permanent_bases"),
    ],
)
def test_bad_input_gives_one_line_naming_file_and_field(write_yaml, text, expected):
    path = write_yaml(text)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_circular_extends_is_an_error(write_yaml):
    write_yaml("extends: b.yaml\nname: a\n", "a.yaml")
    b = write_yaml("extends: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(InputError, match="circular"):
        load_scenario(b)


def test_unknown_override_path_suggests_the_closest():
    with pytest.raises(InputError, match=r"overrides: agents.UK.trops: unknown parameter \(did you mean "
                                         r"'agents.UK.troops'\?\)"):
        load_scenario(SCENARIOS[0].parent / "baseline.yaml", {"agents.UK.trops": 1})


@pytest.mark.parametrize(("overrides", "message"), [
    ({"agents.UK.trops": 1}, "baseline: overrides: agents.UK.trops: unknown parameter (did you mean "
                             "'agents.UK.troops'?)"),
    ({"model.entry_cst": 1}, "baseline: overrides: model.entry_cst: unknown parameter (did you mean "
                             "'model.entry_cost'?)"),
    ({"agents.UK.troops": -5}, "baseline: overrides: agents.UK.troops: must be >= 0.0 (got -5)"),
    ({"structure.objection": "x"}, "baseline: overrides: structure.objection: value error, unknown form 'x'"),
])
def test_a_bad_override_of_a_bundled_scenario_names_the_override_not_the_installed_file(overrides, message):
    with pytest.raises(InputError) as caught:
        load_scenario("baseline", overrides)
    assert str(caught.value).startswith(message)
    assert "site-packages" not in str(caught.value) and "baseline.yaml" not in str(caught.value)


def test_numeric_paths_exclude_booleans_and_text():
    paths = numeric_paths(load_scenario(SCENARIOS[0].parent / "baseline.yaml"))
    assert "agents.UK.troops" in paths and "model.deterrence_weight" in paths
    assert "agents.UK.permanent_bases" not in paths and "name" not in paths


def test_extends_a_bundled_name_from_a_file_in_any_folder(tmp_path, monkeypatch, capsys):
    """``extends: baseline`` (no folder, no .yaml) is the bundled scenario, wherever the file and the command are."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    child = elsewhere / "child.yaml"
    child.write_text("extends: baseline\nname: child\nreplications: 7\nagents:\n  UK: {troops: 123}\n")
    scenario = load_scenario(child)
    baseline = load_scenario("baseline")
    assert (scenario.name, scenario.replications, scenario.agents.UK.troops) == ("child", 7, 123)
    assert scenario.horizon_days == baseline.horizon_days and scenario.agents.FR == baseline.agents.FR
    assert main(["validate", str(child)]) == 0
    assert capsys.readouterr().out == f"ok: {child} (child)\n"
    assert list(empty.iterdir()) == []


def test_extends_an_unknown_bare_name_lists_the_bundled_ones(write_yaml):
    path = write_yaml("extends: baseline2\nname: x\n")
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: extends: no such file 'baseline2' beside this file, and no "
                                        "bundled scenario of that name (bundled: baseline, ")


def test_a_file_beside_wins_over_a_bundled_name(write_yaml):
    write_yaml("name: mine\nhorizon_days: 400\n", "baseline")
    child = write_yaml("extends: baseline\nname: child\n", "child.yaml")
    assert load_scenario(child).horizon_days == 400
