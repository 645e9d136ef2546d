"""The files shipped in the package (sim/data), bundled names for scenarios and sweeps, and a
``model_copy`` that validates like loading does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.cli.main import main
from sim.core import bundled
from sim.core.errors import InputError
from sim.experiments.sweep.design import load_sweep
from sim.spec.scenario import load_scenario
from sim.spec.sources import COMMITMENTS_FILE, article_text, load_commitments

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- the mirror


def test_package_copies_equal_the_top_level_files():
    """A change to seeds/ or scenarios/ not copied into sim/data would ship stale files in the wheel."""
    stale = bundled.differences(ROOT)
    assert stale == [], f"sim/data differs from the checkout in {stale}; run `python -m sim.core.bundled --sync`"


def test_every_shipped_file_is_declared_as_package_data():
    """A file in sim/data that pyproject's package-data globs miss would be absent from the wheel."""
    import fnmatch
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["sim"]
    shipped = [p.relative_to(ROOT / "sim").as_posix() for p in bundled.DATA_DIR.rglob("*") if p.is_file()]
    missed = [name for name in shipped if not any(fnmatch.fnmatch(name, g) and name.count("/") == g.count("/")
                                                  for g in globs)]
    assert shipped and missed == []


@pytest.fixture
def fake_checkout(tmp_path, monkeypatch) -> Path:
    """A checkout (seeds/, scenarios/) and a package data folder, both in tmp_path."""
    root = tmp_path / "repo"
    (root / "seeds").mkdir(parents=True)
    (root / "scenarios" / "sweeps").mkdir(parents=True)
    (root / "seeds" / "commitments.yaml").write_text("new: 1\n")
    (root / "scenarios" / "a.yaml").write_text("name: a\n")
    (root / "scenarios" / "sweeps" / "s.yaml").write_text("name: s\n")
    data = tmp_path / "data"
    (data / "seeds").mkdir(parents=True)
    (data / "scenarios").mkdir()
    (data / "seeds" / "commitments.yaml").write_text("old: 1\n")
    (data / "scenarios" / "gone.yaml").write_text("name: gone\n")
    (data / "scenarios" / "notes.md").write_text("not a mirrored kind\n")
    monkeypatch.setattr(bundled, "DATA_DIR", data)
    return root


def test_sync_copies_changed_and_new_files_and_removes_deleted_ones(fake_checkout):
    assert bundled.differences(fake_checkout) == ["seeds/commitments.yaml", "scenarios/a.yaml",
                                                  "scenarios/gone.yaml", "scenarios/sweeps/s.yaml"]
    bundled.sync(fake_checkout)
    assert bundled.differences(fake_checkout) == []
    assert (bundled.DATA_DIR / "seeds" / "commitments.yaml").read_text() == "new: 1\n"
    assert not (bundled.DATA_DIR / "scenarios" / "gone.yaml").exists()
    assert (bundled.DATA_DIR / "scenarios" / "notes.md").exists(), "only mirrored kinds of file are touched"


def test_check_command_fails_on_a_stale_copy(fake_checkout, monkeypatch, capsys):
    monkeypatch.setattr(bundled, "checkout_root", lambda: fake_checkout)
    assert bundled.main(["--check"]) == 1
    assert "differs: scenarios/a.yaml" in capsys.readouterr().out
    assert bundled.main(["--sync"]) == 0
    assert bundled.main(["--check"]) == 0


def test_commitments_and_article_are_read_from_the_package():
    """The installed wheel has no seeds/ beside sim/: the defaults must come from the package."""
    assert COMMITMENTS_FILE.is_relative_to(bundled.DATA_DIR)
    assert (bundled.SEEDS_DIR / load_commitments().article).is_file()
    assert article_text() == (ROOT / "seeds" / load_commitments().article).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- bundled names


def test_scenario_and_sweep_names_list_the_shipped_files():
    assert bundled.scenario_names() == sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert bundled.sweep_names() == sorted(p.stem for p in (ROOT / "scenarios" / "sweeps").glob("*.yaml"))
    assert bundled.scenario_path("baseline") == bundled.SCENARIOS_DIR / "baseline.yaml"
    assert bundled.sweep_path("coalition_troops").is_file()


def test_load_scenario_accepts_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # from anywhere, not only the repository root
    assert load_scenario("baseline") == load_scenario(ROOT / "scenarios" / "baseline.yaml")


def test_extends_works_inside_the_package():
    """russia_hardline extends baseline.yaml: the parent is found beside it in the package."""
    assert bundled.resolve_scenario("russia_hardline").parent == bundled.SCENARIOS_DIR
    assert load_scenario("russia_hardline") == load_scenario(ROOT / "scenarios" / "russia_hardline.yaml")


def test_an_existing_file_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").write_text("extends: mine.yaml\nname: local_file\n")
    shutil.copyfile(ROOT / "scenarios" / "baseline.yaml", tmp_path / "mine.yaml")
    assert load_scenario("baseline").name == "local_file"


def test_an_unknown_name_lists_the_bundled_scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^nope: no such file, and no bundled scenario .*baseline, "):
        load_scenario("nope")


def test_a_missing_yaml_path_is_not_taken_for_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^baseline\.yaml: "):
        load_scenario("baseline.yaml")  # there is no ./baseline.yaml: an error about that file
    with pytest.raises(InputError, match=r"^sub/baseline: "):
        load_scenario("sub/baseline")


def test_a_sweep_file_may_name_a_bundled_base_scenario(tmp_path):
    sweep = tmp_path / "mine.yaml"
    sweep.write_text("name: mine\nscenario: baseline\nreplications: 10\naxes:\n"
                     "  - set: agents.UK.troops\n    values: [0, 1000]\n")
    assert load_sweep(sweep).base.agents == load_scenario("baseline").agents


def test_bundled_sweeps_find_their_base_scenario_in_the_package():
    for name in bundled.sweep_names():
        assert len(load_sweep(bundled.sweep_path(name)).points) > 1


# --------------------------------------------------------------------------- the command line


def test_run_accepts_a_bundled_name_and_records_its_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main(["run", "baseline", "--replications", "100", "--horizon", "30", "--no-plots", "--quiet",
                 "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario_file"] == str(bundled.SCENARIOS_DIR / "baseline.yaml")


def test_run_of_an_unknown_name_is_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "nope", "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: nope: no such file, and no bundled scenario")


def test_validate_and_sweep_accept_bundled_names(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "baseline", "strong_coalition"]) == 0
    assert "ok: baseline (baseline)" in capsys.readouterr().out
    assert main(["sweep", "no_such_sweep"]) == 2
    assert "no bundled sweep" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "attribute", "expected"), [
    (["tornado", "baseline"], "scenario", bundled.SCENARIOS_DIR / "baseline.yaml"),
    (["sweep", "coalition_troops"], "file", bundled.SWEEPS_DIR / "coalition_troops.yaml"),
    (["sweep", "baseline", "--param", "agents.UK.troops=0,1"], "file", bundled.SCENARIOS_DIR / "baseline.yaml"),
    (["run", "sub/baseline"], "scenario", Path("sub/baseline")),  # a path, even when no such file exists
])
def test_command_arguments_resolve_bundled_names(tmp_path, monkeypatch, argv, attribute, expected):
    from sim.cli.main import build_parser, resolve_bundled_names

    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(argv)
    resolve_bundled_names(args)
    assert getattr(args, attribute) == expected


def test_scenarios_lists_the_bundled_names(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if line in bundled.scenario_names()] == bundled.scenario_names()
    assert "coalition_troops" in out


def test_scenarios_without_bundled_files_is_a_failure_not_an_empty_list(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bundled, "SCENARIOS_DIR", tmp_path)
    assert main(["scenarios"]) == 1
    assert "no bundled scenarios found" in capsys.readouterr().err


# --------------------------------------------------------------------------- model_copy validates


def test_model_copy_rejects_negative_troops():
    """pydantic's model_copy(update=...) skips validation: negative troops once ran."""
    uk = load_scenario("baseline").agents.UK
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        uk.model_copy(update={"troops": -5000})


def test_model_copy_of_a_scenario_validates_nested_updates():
    scenario = load_scenario("baseline")
    agents = scenario.agents.model_dump()
    agents["UK"]["troops"] = -1
    with pytest.raises(ValidationError):
        scenario.model_copy(update={"agents": agents})
    with pytest.raises(ValidationError):
        scenario.model_copy(update={"replications": 0})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        scenario.model_copy(update={"replicatons": 10})


def test_model_copy_with_valid_updates_gives_the_loaded_equivalent():
    scenario = load_scenario("baseline")
    uk = scenario.agents.UK.model_copy(update={"troops": 1234})
    copied = scenario.model_copy(update={"seed": 9, "agents": scenario.agents.model_copy(update={"UK": uk})})
    assert copied == load_scenario("baseline", {"seed": 9, "agents.UK.troops": 1234})
    assert scenario.model_copy() == scenario
    assert scenario.model_copy(deep=True) == scenario
