"""The rival forms of the contested mechanisms (sim.mechanisms) and the command line that chooses them.

The forms are pure functions over arrays: each is checked on its own, against the property its docstring
and docs/ODD.md state. The command line is run in-process (``sim.cli.main.main``) in temporary folders.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from sim.cli.main import main
from sim.cli.structures import structure_overrides, structures_text
from sim.core.errors import InputError
from sim.mechanisms import DEFAULT_STRUCTURE, LEGACY_STRUCTURE, MECHANISMS, REGISTRY, form
from sim.mechanisms.credibility import guarantor_commitment
from sim.mechanisms.offensive import OffensiveInputs
from sim.mechanisms.ukraine import UkraineInputs

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

ISSUE_FORMS = {
    "objection": {"linear", "principled", "saturating"},
    "capability": {"absolute", "relative"},
    "credibility": {"reputation", "commitment", "both"},
    "escalation": {"threshold", "smooth"},
    "acceptance": {"independent", "bargaining", "resolute"},
    "presence": {"switch", "dose"},
    "deployment": {"rear", "interposition", "blanket"},
    "types": {"gamma", "two_types"},
    "offensive": {"hazard", "choice"},
    "duration": {"constant", "institutionalisation"},
    "ukraine": {"guarantee", "terms"},
    "impatience": {"detected", "estimated"},
}
"""The mechanisms and forms issues 9 and 22 ask for, at least (version 3 retires objection's categorical form)."""

N = 7
RNG = np.random.default_rng(0)
DOCUMENTED_ARGS = {
    "objection": dict(presence=RNG.uniform(0, 5, N), troop_objection=0.4, objection_scale=2.0, presence_half=0.4),
    "capability": dict(ground=RNG.uniform(0, 30_000, N), air_maritime=RNG.uniform(0, 1, N), troop_scale=10_000.0,
                       balance_unit=0.1, russian_troops=700_000.0),
    "credibility": dict(reputation=RNG.uniform(0, 1, N), commitment=RNG.uniform(0, 1, N), commitment_share=0.7),
    "escalation": dict(level=RNG.uniform(0, 10, N), escalation_threshold=5.0, spiral_hazard=0.2, spiral_slope=1.5),
    "acceptance": dict(base=RNG.normal(0, 1, N), intent=RNG.gamma(1.0, 1.0, N), expected_cost=RNG.uniform(0, 3, N),
                       table_gain=1.5, resolve=0.7),
    "presence": dict(troops=RNG.uniform(0, 20_000, N), presence_half=4000.0),
    "deployment": dict(troops=RNG.uniform(0, 20_000, N), troop_scale=10_000.0, front_km=1200.0, buffer_density=50.0),
    "types": dict(u=RNG.uniform(0, 1, N), gamma_draw=RNG.gamma(1.0, 1.0, N), hawk_share=0.35, hawk_ratio=3.0),
    "offensive": dict(x=OffensiveInputs(
        intent=RNG.gamma(1.0, 1.0, N), drive=0.7, value=0.9, shift=0.0, hostility=RNG.uniform(0, 0.5, N),
        expected_cost=RNG.uniform(0, 3, N), escalation_push=RNG.uniform(0, 1, N), waiting=0.0,
        log_base=float(np.log(0.0015)), ceiling=0.01, noise=1.0, resumption_cost=2.0)),
    "duration": dict(institution=RNG.uniform(0, 1, N), institution_effect=4.0),
    "ukraine": dict(x=UkraineInputs(guarantee=RNG.uniform(0, 1, N), threshold=0.6, sharpness=0.35, war_cost=1.0,
                                    situation=-0.1, terms_cost=0.4)),
    "impatience": dict(detected_violations=RNG.poisson(1000, N), detection_probability=RNG.uniform(0.1, 1, N)),
}
"""Arguments of each mechanism's forms, by the names their modules document."""


# --- the registry -------------------------------------------------------------------------------


def test_the_registry_holds_every_mechanism_and_form_the_issue_names():
    assert set(REGISTRY) == set(ISSUE_FORMS)
    for mechanism, forms in ISSUE_FORMS.items():
        assert forms <= set(REGISTRY[mechanism]), mechanism
        assert DEFAULT_STRUCTURE[mechanism] in REGISTRY[mechanism]
        assert LEGACY_STRUCTURE[mechanism] in REGISTRY[mechanism]


def test_rival_forms_share_one_signature_so_the_model_can_call_any_of_them():
    for mechanism, forms in REGISTRY.items():
        for name, function in forms.items():
            parameters = list(inspect.signature(function).parameters)
            assert parameters == list(DOCUMENTED_ARGS[mechanism]), f"{mechanism}.{name}: {parameters}"


@pytest.mark.parametrize("mechanism,name", [(m, f) for m, forms in REGISTRY.items() for f in forms])
def test_every_form_maps_arrays_to_an_array_of_the_same_shape(mechanism, name):
    result = form(mechanism, name)(**DOCUMENTED_ARGS[mechanism])
    assert isinstance(result, np.ndarray) and result.shape == (N,)
    assert np.isfinite(result).all()


def test_an_unknown_form_is_a_key_error():
    with pytest.raises(KeyError):
        form("objection", "cubic")
    with pytest.raises(KeyError):
        form("morale", "linear")


def test_every_form_has_a_one_line_description():
    for mechanism in MECHANISMS.values():
        for name in mechanism.forms:
            description = mechanism.describe(name)
            assert description and "\n" not in description and description != name, (mechanism.name, name)


# --- objection ------------------------------------------------------------------------------------


OBJECTION = dict(troop_objection=0.4, objection_scale=2.0)


def test_no_presence_costs_nothing_in_every_objection_form():
    for name, function in REGISTRY["objection"].items():
        assert function(np.zeros(3), **OBJECTION).tolist() == [0.0, 0.0, 0.0], name


def test_saturating_objection_is_linear_for_a_small_presence():
    # 1 - e^-u lies between u - u^2/2 and u, so the relative shortfall from linear is at most u/2
    u = np.array([1e-4, 1e-3, 1e-2])
    presence = u * OBJECTION["objection_scale"]
    linear = form("objection", "linear")(presence, **OBJECTION)
    saturating = form("objection", "saturating")(presence, **OBJECTION)
    assert (saturating <= linear).all()
    assert ((linear - saturating) / linear <= u / 2).all()


def test_saturating_objection_levels_off_at_its_scale():
    cap = OBJECTION["troop_objection"] * OBJECTION["objection_scale"]
    saturating = form("objection", "saturating")(np.array([1.0, 10.0, 40.0]), **OBJECTION)
    assert (np.diff(saturating) > 0).all() and (saturating < cap).all()
    assert saturating[-1] == pytest.approx(cap)


def test_principled_objection_is_half_its_cap_at_the_half_presence_and_little_for_a_few_soldiers():
    cap = OBJECTION["troop_objection"] * OBJECTION["objection_scale"]
    half = OBJECTION["presence_half"]
    principled = form("objection", "principled")(np.array([0.0, 0.01, half, 1e6]), **OBJECTION)
    assert principled[0] == 0.0 and principled[1] < 0.03 * cap
    assert principled[2] == pytest.approx(cap / 2) and principled[3] == pytest.approx(cap, rel=1e-5)


# --- capability -----------------------------------------------------------------------------------


def test_relative_capability_equals_absolute_where_the_balance_unit_matches_the_troop_scale():
    args = dict(DOCUMENTED_ARGS["capability"])
    args["russian_troops"] = args["troop_scale"] / args["balance_unit"]  # 100,000
    np.testing.assert_allclose(form("capability", "relative")(**args), form("capability", "absolute")(**args))


def test_relative_capability_falls_with_russian_forces_and_absolute_ignores_them():
    args = dict(DOCUMENTED_ARGS["capability"])
    relative = [form("capability", "relative")(**{**args, "russian_troops": r}) for r in (5e5, 7e5, 9e5)]
    assert (relative[0] > relative[1]).all() and (relative[1] > relative[2]).all()
    absolute = [form("capability", "absolute")(**{**args, "russian_troops": r}) for r in (5e5, 9e5)]
    np.testing.assert_array_equal(*absolute)


def test_relative_capability_without_russian_forces_falls_back_to_absolute():
    args = {**DOCUMENTED_ARGS["capability"], "russian_troops": 0.0}
    np.testing.assert_array_equal(form("capability", "relative")(**args), form("capability", "absolute")(**args))


# --- credibility ----------------------------------------------------------------------------------


def test_both_credibility_forms_mix_commitment_and_reputation_by_the_commitment_share():
    args = DOCUMENTED_ARGS["credibility"]
    reputation, commitment = args["reputation"], args["commitment"]
    np.testing.assert_array_equal(form("credibility", "reputation")(**args), reputation)
    np.testing.assert_array_equal(form("credibility", "commitment")(**args), commitment)
    np.testing.assert_allclose(form("credibility", "both")(**args), 0.7 * commitment + 0.3 * reputation)
    np.testing.assert_allclose(form("credibility", "both")(**{**args, "commitment_share": 1.0}), commitment)
    np.testing.assert_allclose(form("credibility", "both")(**{**args, "commitment_share": 0.0}), reputation)


def test_a_guarantors_commitment_rests_on_resolve_support_and_capped_stakes():
    ones, zeros = np.ones(4), np.zeros(4)
    stakes = dict(presence_stake=0.8, bases_stake=0.2, neighbour_stake=0.25)
    resolve = np.array([0.0, 0.3, 0.6, 1.0])
    in_ukraine = guarantor_commitment(resolve, ones, 10_000 * ones, zeros, zeros, **stakes)
    np.testing.assert_allclose(in_ukraine, 0.8 * resolve)
    with_bases = guarantor_commitment(resolve, ones, 10_000 * ones, ones, zeros, **{**stakes, "bases_stake": 0.5})
    np.testing.assert_allclose(with_bases, resolve)  # stakes 0.8 + 0.5 capped at 1
    neighbour = guarantor_commitment(resolve, ones, zeros, zeros, ones, **stakes)
    np.testing.assert_allclose(neighbour, 0.25 * resolve)
    eroded = guarantor_commitment(ones, np.array([0.0, 0.5, 1.0, 1.5]), 10_000 * ones, zeros, zeros, **stakes)
    np.testing.assert_allclose(eroded, [0.0, 0.4, 0.8, 0.8])  # support above its initial level adds nothing
    absent = guarantor_commitment(ones, ones, zeros, zeros, zeros, **stakes)
    np.testing.assert_array_equal(absent, 0.0)


# --- escalation -----------------------------------------------------------------------------------


SPIRAL = dict(escalation_threshold=5.0, spiral_hazard=0.2, spiral_slope=1.5)


def test_the_threshold_form_is_zero_up_to_the_threshold_and_one_above_it():
    level = np.array([0.0, 4.99, 5.0, 5.01, 1e9])
    hazard = form("escalation", "threshold")(level, **SPIRAL)
    assert hazard.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


def test_the_smooth_form_rises_with_escalation_and_is_spiral_hazard_at_the_threshold():
    level = np.linspace(0.0, 8.0, 81)
    hazard = form("escalation", "smooth")(level, **SPIRAL)
    assert (np.diff(hazard) >= 0).all() and (np.diff(hazard[hazard < 1]) > 0).all()
    assert form("escalation", "smooth")(np.array([5.0]), **SPIRAL)[0] == pytest.approx(0.2)
    assert ((hazard > 0) & (hazard <= 1)).all()


def test_the_smooth_form_is_at_most_one_without_overflow():
    with np.errstate(over="raise"):
        hazard = form("escalation", "smooth")(np.array([1e6, 1e300]), **SPIRAL)
    assert hazard.tolist() == [1.0, 1.0]


# --- acceptance -----------------------------------------------------------------------------------


def test_bargaining_is_independent_without_gains_at_the_table():
    args = {**DOCUMENTED_ARGS["acceptance"], "table_gain": 0.0}
    np.testing.assert_array_equal(form("acceptance", "bargaining")(**args), form("acceptance", "independent")(**args))


def test_under_bargaining_hawks_refuse_more_and_a_costlier_war_brings_russia_closer():
    base, gain = np.zeros(3), 1.5
    by_intent = form("acceptance", "bargaining")(base, np.array([0.5, 1.0, 2.0]), np.ones(3), gain)
    assert (np.diff(by_intent) < 0).all()
    by_cost = form("acceptance", "bargaining")(base, np.ones(3), np.array([0.0, 1.0, 3.0]), gain)
    assert (np.diff(by_cost) > 0).all()
    np.testing.assert_allclose(by_cost, -gain * np.exp(-np.array([0.0, 1.0, 3.0])))


def test_independent_acceptance_ignores_intent_and_cost():
    logit = form("acceptance", "independent")(np.full(3, 0.7), np.array([0.0, 1.0, 9.0]), np.array([0.0, 1.0, 3.0]),
                                              1.5)
    assert logit.tolist() == [0.7, 0.7, 0.7]


# --- ``ceasefire structures`` and ``--structure`` ----------------------------------------------------


def test_structures_lists_every_mechanism_and_form_and_marks_each_default(capsys):
    assert main(["structures"]) == 0
    out = capsys.readouterr().out
    assert out == structures_text() + "\n"
    lines = out.splitlines()
    form_lines = [line for line in lines if line.startswith("  ")]  # headers and the footnote start at column 0
    for mechanism, forms in REGISTRY.items():
        assert any(line.startswith(f"{mechanism}: ") for line in lines), mechanism
        for name in forms:
            [line] = [line for line in form_lines if line.replace("*", " ", 1).split()[0] == name]
            assert line.lstrip().startswith("* ") == (name == DEFAULT_STRUCTURE[mechanism]), line
            assert MECHANISMS[mechanism].describe(name) in line
    assert sum(line.lstrip().startswith("* ") for line in form_lines) == len(REGISTRY)
    assert all(f"{key}={value}" in out for key, value in LEGACY_STRUCTURE.items()), "says which forms are v1"


def test_structure_option_becomes_scenario_overrides():
    assert structure_overrides([]) == {}
    assert structure_overrides(["objection=principled", " escalation = threshold "]) == {
        "structure.objection": "principled", "structure.escalation": "threshold"}
    assert structure_overrides(["objection=linear", "objection=principled"]) == {"structure.objection": "principled"}


@pytest.mark.parametrize("value,named", [("morale=high", "morale"), ("objection=cubic", "cubic"),
                                         ("objection", "MECHANISM=FORM"), ("=linear", "MECHANISM=FORM"),
                                         ("objection=", "MECHANISM=FORM")])
def test_a_bad_structure_option_is_an_input_error(value, named):
    with pytest.raises(InputError, match=named):
        structure_overrides([value])


def test_run_records_the_chosen_forms_in_the_manifest(tmp_path, capsys):
    out = tmp_path / "principled"
    code = main(["run", str(BASELINE), "--structure", "objection=principled", "--replications", "200",
                 "--horizon", "30", "--no-plots", "--quiet", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["structure"] == {**DEFAULT_STRUCTURE, "objection": "principled"}
    assert manifest["structure"]["objection"] != DEFAULT_STRUCTURE["objection"]


@pytest.mark.parametrize("value,named", [("morale=high", "morale"), ("objection=cubic", "cubic")])
def test_run_with_an_unknown_mechanism_or_form_exits_2_with_one_line(tmp_path, capsys, value, named):
    out = tmp_path / "never"
    code = main(["run", str(BASELINE), "--structure", value, "--replications", "200", "--horizon", "30",
                 "--no-plots", "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --structure") and named in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert not out.exists()


def test_validate_rejects_an_unknown_form_in_the_structure_block(tmp_path, capsys):
    path = tmp_path / "cubic.yaml"
    path.write_text("name: cubic\nstructure:\n  objection: cubic\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: structure.objection:") and "cubic" in err[0]


def test_validate_accepts_a_known_form_in_the_structure_block(tmp_path, capsys):
    path = tmp_path / "linear.yaml"
    path.write_text("name: linear\nstructure:\n  objection: linear\n  escalation: threshold\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {path}")


def test_the_guarantors_fast_commitment_equals_the_mechanism_function():
    """UK and France take a shortcut (no neighbouring troops); it must equal guarantor_commitment."""
    from sim.engine.model import CeasefireModel
    from sim.spec.scenario import load_scenario

    model = CeasefireModel(load_scenario("baseline"), 400, rng=3)
    rng = np.random.default_rng(4)
    m = model.params
    for g in (model.uk, model.fr):
        g.troops = np.where(rng.random(400) < 0.3, 0.0, rng.uniform(0, 20_000, 400))
        g.support = rng.uniform(0, g.params.domestic_support, 400)
        g.resolve = rng.uniform(0, 1, 400)
        expected = guarantor_commitment(g.resolve, g.support / g.params.domestic_support, g.troops,
                                        g.bases_in_ukraine(), False, m.presence_stake, m.bases_stake,
                                        m.neighbour_stake)
        np.testing.assert_allclose(g.commitment(), expected, rtol=1e-12)
