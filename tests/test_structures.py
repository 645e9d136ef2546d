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


OBJECTION = dict(troop_objection=0.4, objection_scale=2.0, presence_half=0.4)


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
    # the third argument is the presence weight of its troops in Ukraine (0-1, ODD 25), not the troops
    ones, zeros = np.ones(4), np.zeros(4)
    stakes = dict(presence_stake=0.8, bases_stake=0.2, neighbour_stake=0.25)
    resolve = np.array([0.0, 0.3, 0.6, 1.0])
    in_ukraine = guarantor_commitment(resolve, ones, ones, zeros, zeros, **stakes)
    np.testing.assert_allclose(in_ukraine, 0.8 * resolve)
    half_weight = guarantor_commitment(resolve, ones, 0.5 * ones, zeros, zeros, **stakes)
    np.testing.assert_allclose(half_weight, 0.4 * resolve)  # the stake grows with the presence weight
    with_bases = guarantor_commitment(resolve, ones, ones, ones, zeros, **{**stakes, "bases_stake": 0.5})
    np.testing.assert_allclose(with_bases, resolve)  # stakes 0.8 + 0.5 capped at 1
    neighbour = guarantor_commitment(resolve, ones, zeros, zeros, ones, **stakes)
    np.testing.assert_allclose(neighbour, 0.25 * resolve)
    eroded = guarantor_commitment(ones, np.array([0.0, 0.5, 1.0, 1.5]), ones, zeros, zeros, **stakes)
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
    by_intent = form("acceptance", "bargaining")(base, np.array([0.5, 1.0, 2.0]), np.ones(3), gain, 0.7)
    assert (np.diff(by_intent) < 0).all()
    by_cost = form("acceptance", "bargaining")(base, np.ones(3), np.array([0.0, 1.0, 3.0]), gain, 0.7)
    assert (np.diff(by_cost) > 0).all()
    np.testing.assert_allclose(by_cost, -gain * np.exp(-np.array([0.0, 1.0, 3.0])))


def test_bargaining_ignores_russias_resolve_as_the_second_version_did():
    args = DOCUMENTED_ARGS["acceptance"]
    by_resolve = [form("acceptance", "bargaining")(**{**args, "resolve": r}) for r in (0.2, 0.7, 1.0)]
    np.testing.assert_array_equal(by_resolve[0], by_resolve[1])
    np.testing.assert_array_equal(by_resolve[1], by_resolve[2])


def test_under_resolute_a_more_resolved_russia_refuses_more_and_at_resolve_one_it_is_bargaining():
    args = DOCUMENTED_ARGS["acceptance"]
    resolute = [form("acceptance", "resolute")(**{**args, "resolve": r}) for r in (0.2, 0.6, 1.0)]
    assert (resolute[0] > resolute[1]).all() and (resolute[1] > resolute[2]).all()
    np.testing.assert_allclose(resolute[2], form("acceptance", "bargaining")(**{**args, "resolve": 1.0}))
    expected = args["base"] - args["table_gain"] * args["intent"] * 0.6 * np.exp(-args["expected_cost"])
    np.testing.assert_allclose(resolute[1], expected)
    assert (form("acceptance", "resolute")(**{**args, "resolve": 0.0}) == args["base"]).all()


def test_independent_acceptance_ignores_intent_cost_and_resolve():
    logit = form("acceptance", "independent")(np.full(3, 0.7), np.array([0.0, 1.0, 9.0]), np.array([0.0, 1.0, 3.0]),
                                              1.5, np.array([0.1, 0.5, 1.0]))
    assert logit.tolist() == [0.7, 0.7, 0.7]


# --- presence -------------------------------------------------------------------------------------


def test_the_dose_is_zero_without_troops_half_at_presence_half_and_saturates():
    half = 4000.0
    dose = form("presence", "dose")(np.array([0.0, 10.0, half, 40_000.0, 1e9]), half)
    assert dose[0] == 0.0 and dose[1] < 0.003  # a handful of soldiers buys a handful of effect
    assert dose[2] == pytest.approx(0.5)
    assert (np.diff(dose) > 0).all() and (dose < 1.0).all() and dose[-1] == pytest.approx(1.0, abs=1e-5)


def test_the_switch_is_the_whole_effect_with_the_first_soldier():
    switch = form("presence", "switch")(np.array([0.0, 1.0, 4000.0, 1e9]), 4000.0)
    assert switch.tolist() == [0.0, 1.0, 1.0, 1.0]


# --- deployment -----------------------------------------------------------------------------------


def test_troops_in_the_rear_leave_the_whole_front_uncovered():
    args = {**DOCUMENTED_ARGS["deployment"], "troops": np.array([0.0, 1_000.0, 50_000.0, 1e7])}
    assert form("deployment", "rear")(**args).tolist() == [1.0, 1.0, 1.0, 1.0]


def test_interposition_covers_by_troops_per_km_of_front():
    args = dict(DOCUMENTED_ARGS["deployment"])
    troops = np.array([0.0, 12_000.0, 60_000.0])
    uncovered = form("deployment", "interposition")(**{**args, "troops": troops})
    np.testing.assert_allclose(uncovered, np.exp(-(troops / 1200.0) / 50.0))
    assert uncovered[0] == 1.0 and (np.diff(uncovered) < 0).all()
    # the same force along a front twice as long covers less of it
    longer = form("deployment", "interposition")(**{**args, "troops": troops, "front_km": 2400.0})
    assert (longer[1:] > uncovered[1:]).all()


def test_blanket_cover_ignores_the_front_and_falls_with_the_troop_scale():
    args = dict(DOCUMENTED_ARGS["deployment"])
    troops = np.array([0.0, 10_000.0, 30_000.0])
    uncovered = form("deployment", "blanket")(**{**args, "troops": troops})
    np.testing.assert_allclose(uncovered, np.exp(-troops / 10_000.0), rtol=1e-6)  # float32 exponential
    np.testing.assert_array_equal(uncovered, form("deployment", "blanket")(**{**args, "troops": troops,
                                                                              "front_km": 99.0}))


# --- types ----------------------------------------------------------------------------------------


def test_two_types_have_mean_one_and_the_hawks_are_hawk_ratio_times_the_others():
    u = (np.arange(100_000) + 0.5) / 100_000  # an even grid of the uniform
    for share, ratio in ((0.35, 3.0), (0.1, 6.0), (0.5, 1.5)):
        intent = form("types", "two_types")(u, np.ones_like(u), share, ratio)
        assert intent.mean() == pytest.approx(1.0, abs=1e-4)
        assert set(np.unique(intent)) == {intent.max(), intent.min()}
        assert intent.max() / intent.min() == pytest.approx(ratio)
        assert (intent == intent.max()).mean() == pytest.approx(share, abs=1e-4)


def test_the_gamma_type_is_the_gamma_draw():
    args = DOCUMENTED_ARGS["types"]
    np.testing.assert_array_equal(form("types", "gamma")(**args), args["gamma_draw"])


# --- offensive ------------------------------------------------------------------------------------


def offensive_inputs(**changes) -> OffensiveInputs:
    return OffensiveInputs(**{**vars(DOCUMENTED_ARGS["offensive"]["x"]), **changes})


def test_the_choice_is_at_most_its_ceiling_and_rises_with_what_fighting_gains():
    intent = np.array([0.0, 0.5, 1.0, 2.0, 5.0, 50.0, 1e6])
    zeros = np.zeros(intent.size)
    x = offensive_inputs(intent=intent, hostility=zeros, expected_cost=zeros, escalation_push=zeros)
    chance = form("offensive", "choice")(x)
    assert (chance <= x.ceiling).all() and (chance > 0).all()
    assert (np.diff(chance) >= 0).all() and chance[-1] == pytest.approx(x.ceiling)
    # U = intent x value - resumption cost: at intent x value = resumption cost, half the ceiling
    even = form("offensive", "choice")(offensive_inputs(intent=np.array([2.0 / 0.9]), hostility=np.zeros(1),
                                                        expected_cost=np.zeros(1), escalation_push=np.zeros(1)))
    assert even[0] == pytest.approx(x.ceiling / 2, rel=1e-6)


def test_the_choice_falls_with_the_expected_cost_and_with_the_value_of_waiting():
    base = form("offensive", "choice")(offensive_inputs())
    assert (form("offensive", "choice")(offensive_inputs(expected_cost=DOCUMENTED_ARGS["offensive"]["x"]
                                                          .expected_cost + 1.0)) < base).all()
    assert (form("offensive", "choice")(offensive_inputs(waiting=1.0)) < base).all()


def test_the_hazard_is_intent_times_the_base_hazard_scaled_and_at_most_one():
    x = DOCUMENTED_ARGS["offensive"]["x"]
    expected = x.intent * np.exp(x.log_base + x.drive + x.hostility - x.expected_cost + x.escalation_push)
    np.testing.assert_allclose(form("offensive", "hazard")(x), np.minimum(expected, 1.0), rtol=1e-6)
    assert (form("offensive", "hazard")(offensive_inputs(escalation_push=np.full(N, 1e6))) <= 1.0).all()
    assert (form("offensive", "hazard")(offensive_inputs(log_base=None)) == 0.0).all()


# --- duration -------------------------------------------------------------------------------------


def test_institutionalisation_is_one_at_the_start_and_exp_minus_the_effect_when_complete():
    institution = np.array([0.0, 0.25, 0.5, 1.0])
    factor = form("duration", "institutionalisation")(institution, 4.0)
    assert factor[0] == 1.0 and factor[-1] == pytest.approx(np.exp(-4.0))
    assert (np.diff(factor) < 0).all()


def test_a_constant_hazard_ignores_the_time_held():
    assert form("duration", "constant")(np.array([0.0, 0.5, 1.0]), 4.0).tolist() == [1.0, 1.0, 1.0]


# --- ukraine --------------------------------------------------------------------------------------


def ukraine_inputs(**changes) -> UkraineInputs:
    return UkraineInputs(**{**vars(DOCUMENTED_ARGS["ukraine"]["x"]), **changes})


def test_ukraines_terms_acceptance_falls_with_the_cost_of_the_terms_and_rises_with_the_guarantee():
    by_cost = [form("ukraine", "terms")(ukraine_inputs(terms_cost=c)) for c in (0.0, 0.5, 2.0)]
    assert (by_cost[0] > by_cost[1]).all() and (by_cost[1] > by_cost[2]).all()
    by_war_cost = [form("ukraine", "terms")(ukraine_inputs(war_cost=c)) for c in (0.0, 1.0)]
    assert (by_war_cost[1] > by_war_cost[0]).all()
    guarantee = np.linspace(0.0, 1.0, N)
    by_guarantee = form("ukraine", "terms")(ukraine_inputs(guarantee=guarantee))
    assert (np.diff(by_guarantee) > 0).all()
    # with war cost, situation and terms in balance it is the guarantee form
    balanced = ukraine_inputs(war_cost=0.3, situation=0.1, terms_cost=0.4)
    np.testing.assert_allclose(form("ukraine", "terms")(balanced), form("ukraine", "guarantee")(balanced))


def test_ukraines_guarantee_acceptance_ignores_terms_and_war():
    a = form("ukraine", "guarantee")(ukraine_inputs(war_cost=0.0, situation=0.0, terms_cost=0.0))
    b = form("ukraine", "guarantee")(ukraine_inputs(war_cost=3.0, situation=-1.0, terms_cost=5.0))
    np.testing.assert_array_equal(a, b)
    at_threshold = form("ukraine", "guarantee")(ukraine_inputs(guarantee=np.full(2, 0.6)))
    np.testing.assert_allclose(at_threshold, 0.5)


# --- impatience -----------------------------------------------------------------------------------


def test_estimated_impatience_is_detected_over_the_detection_probability():
    args = DOCUMENTED_ARGS["impatience"]
    np.testing.assert_allclose(form("impatience", "estimated")(**args),
                               args["detected_violations"] / args["detection_probability"])
    np.testing.assert_array_equal(form("impatience", "detected")(**args), args["detected_violations"])
    blind = form("impatience", "estimated")(np.array([0, 5]), np.array([0.0, 0.0]))
    assert blind.tolist() == [0.0, 0.0]  # a monitor that detects nothing estimates nothing, not 0/0


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
    """UK and France's commitment, with their troops weighted by the dose (ODD 25), equals guarantor_commitment."""
    from sim.engine.model import CeasefireModel
    from sim.spec.scenario import load_scenario

    model = CeasefireModel(load_scenario("baseline"), 400, rng=3)
    rng = np.random.default_rng(4)
    m = model.params
    for g in (model.uk, model.fr):
        g.troops = np.where(rng.random(400) < 0.3, 0.0, rng.uniform(0, 20_000, 400))
        g.support = rng.uniform(0, g.params.domestic_support, 400)
        g.resolve = rng.uniform(0, 1, 400)
        weight = g.troops / (g.troops + m.presence_half)  # the baseline's presence form is the dose
        expected = guarantor_commitment(g.resolve, g.support / g.params.domestic_support, weight,
                                        g.bases_in_ukraine(), False, m.presence_stake, m.bases_stake,
                                        m.neighbour_stake)
        np.testing.assert_allclose(g.commitment(), expected, rtol=1e-12)
