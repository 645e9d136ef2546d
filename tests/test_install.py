"""The package as users get it: a wheel installed (not editable) into a fresh venv, run from an empty
folder; and the model's attributes, which must not shadow Mesa's (Mesa 3.5 added ``Model.scenario``)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import mesa
import pytest

from sim.engine.agents import State
from sim.engine.model import CeasefireModel

ROOT = Path(__file__).resolve().parent.parent

MESA_35_NAMES = frozenset({
    "scenario", "time", "batch", "observables", "observe", "unobserve", "notify", "subscribers", "suppress",
    "data_registry", "run_for", "run_until", "schedule_event", "schedule_recurring", "agent_id_counter",
    "clear_all_subscriptions", "from_dataframe",
})
"""Public names Mesa 3.5 added to Model or Agent: reserved even while Mesa 3.3 runs the tests."""
OVERRIDDEN_ON_PURPOSE = frozenset({"step", "running"})
"""Mesa's hooks that a model is meant to override or set."""


def clean_env() -> dict[str, str]:
    """The environment without anything that would put the checkout on ``sys.path``."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}


def run(command: list[str | Path], cwd: Path) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"{command[:3]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv holding the wheel of this checkout, its dependencies borrowed from the running venv.

    The wheel is built from a copy of the sources (no build/ in the checkout). The venv reaches the
    dependencies through a plain path entry in a .pth file: entries added that way are not scanned for
    .pth files of their own, so an editable install of the checkout there cannot leak in.
    """
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    shutil.copytree(ROOT / "sim", source / "sim", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "-w", tmp / "wheels", source], cwd=tmp)
    wheel = next((tmp / "wheels").glob("ceasefire-*.whl"))
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--disable-pip-version-check", wheel], cwd=tmp)
    site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_test_dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(deps)))
    return venv


@pytest.fixture
def empty_folder(tmp_path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def test_the_installed_package_is_the_wheel_not_the_checkout(installed, empty_folder):
    where = run([installed / "bin" / "python", "-c", "import sim; print(sim.__file__)"], cwd=empty_folder)
    assert Path(where.strip()).is_relative_to(installed), where
    assert not Path(where.strip()).is_relative_to(ROOT)


def test_installed_scenarios_lists_the_bundled_scenarios(installed, empty_folder):
    """After `pip install .`, `ceasefire scenarios` once printed nothing and exited 0."""
    out = run([installed / "bin" / "ceasefire", "scenarios"], cwd=empty_folder)
    assert "baseline" in out.splitlines()
    assert "coalition_troops" in out


def test_installed_run_of_a_bundled_name_works_from_an_empty_folder(installed, empty_folder):
    """After `pip install .`, `ceasefire run` once failed: site-packages/seeds/commitments.yaml: cannot read."""
    out = empty_folder / "out"
    run([installed / "bin" / "ceasefire", "run", "baseline", "--replications", "200", "--horizon", "60",
         "--no-plots", "--quiet", "--out", out], cwd=empty_folder)
    assert (out / "runs.csv").stat().st_size > 0
    assert sorted(p.name for p in empty_folder.iterdir()) == ["out"]


def test_installed_package_ships_the_article_and_the_sweeps(installed, empty_folder):
    code = ("from sim.spec.sources import article_text; from sim.core.bundled import sweep_names, sweep_path; "
            "from sim.experiments.sweep.design import load_sweep; assert len(article_text()) > 1000; "
            "print(len([load_sweep(sweep_path(n)) for n in sweep_names()]))")
    assert int(run([installed / "bin" / "python", "-c", code], cwd=empty_folder)) >= 1


# --------------------------------------------------------------------------- Mesa's names


def names_set_by(source: Path, class_names: set[str] | None = None) -> dict[str, set[str]]:
    """By class: the ``self.X`` attributes its methods assign and the names its body defines."""
    found: dict[str, set[str]] = {}
    for cls in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if not isinstance(cls, ast.ClassDef) or (class_names is not None and cls.name not in class_names):
            continue
        names = {node.attr for node in ast.walk(cls) if isinstance(node, ast.Attribute)
                 and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) and node.value.id == "self"}
        for node in cls.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and node.value is not None and isinstance(node.target, ast.Name):
                names.add(node.target.id)  # a bare annotation (``model: CeasefireModel``) only narrows a type
        found[cls.name] = {n for n in names if not n.startswith("__")}
    return found


def mesa_names(base: type, instance: object) -> set[str]:
    return (set(dir(base)) | set(vars(instance)) | MESA_35_NAMES) - OVERRIDDEN_ON_PURPOSE


def test_model_and_agents_do_not_shadow_mesa_attributes():
    """Mesa 3.5's Model.scenario setter broke `self.scenario = ...`; no name of ours may take Mesa's."""
    plain_model = mesa.Model(rng=1)
    reserved_model = mesa_names(mesa.Model, plain_model)
    reserved_agent = mesa_names(mesa.Agent, mesa.Agent(plain_model))
    model_classes = names_set_by(ROOT / "sim" / "engine" / "model.py", {CeasefireModel.__name__})
    agent_classes = names_set_by(ROOT / "sim" / "engine" / "agents.py")
    assert model_classes and State.__name__ in agent_classes
    clashes = {name: sorted(names & reserved_model) for name, names in model_classes.items()}
    clashes |= {name: sorted(names & reserved_agent) for name, names in agent_classes.items()}
    assert {name: clash for name, clash in clashes.items() if clash} == {}


def test_the_oracle_does_not_shadow_mesa_attributes():
    """The test oracle is a Mesa model too, and runs on Mesa 3.5 in CI's second leg."""
    plain_model = mesa.Model(rng=1)
    reserved_model = mesa_names(mesa.Model, plain_model)
    reserved_agent = mesa_names(mesa.Agent, mesa.Agent(plain_model))
    classes = names_set_by(ROOT / "tests" / "oracle.py")
    assert "OracleModel" in classes
    clashes = {name: sorted(names & (reserved_model if name == "OracleModel" else reserved_agent))
               for name, names in classes.items()}
    assert {name: clash for name, clash in clashes.items() if clash} == {}


def test_the_shadow_check_sees_a_clash(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("class M:\n    def __init__(self, scenario):\n        self.scenario = scenario\n")
    assert names_set_by(source)["M"] & mesa_names(mesa.Model, mesa.Model(rng=1)) == {"scenario"}
