"""Many points in one batch (sim/engine/packing.py): the same bytes as one by one, whatever the pack size
and the number of workers; per-world parameters only where they are allowed."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from pathlib import Path

import numpy as np
import pytest

from sim.core.bundled import scenario_path, sweep_path
from sim.engine.model import FORM_ATTRIBUTES, CeasefireModel
from sim.engine.packing import flat_values, pack_signature, plan_packs, run_pack, run_packed
from sim.engine.world_params import PACKABLE
from sim.experiments.run import run_scenario
from sim.mechanisms import LEGACY_STRUCTURE, REGISTRY, MixedForm
from sim.spec.scenario import Scenario, load_scenario

BASE = load_scenario(scenario_path("baseline")).model_copy(update={"replications": 150, "horizon_days": 400})


def _point(troops: int, detection: float, hazard: float, variance: float, spoilers: float) -> Scenario:
    agents = BASE.agents
    return BASE.model_copy(update={
        "agents": agents.model_copy(update={
            "UK": agents.UK.model_copy(update={"troops": troops}),
            "FR": agents.FR.model_copy(update={"troops": troops}),
            "US": agents.US.model_copy(update={"detection_probability": detection}),
            "RU": agents.RU.model_copy(update={"base_offensive_hazard": hazard}),
        }),
        # incident rate and spiral: per-world arrays meet single-precision intermediates there
        "model": BASE.model.model_copy(update={"intent_variance": variance, "spoiler_rate": spoilers,
                                               "incident_rate": 400 + 3000 * hazard, "spiral_slope": 1 + variance,
                                               "spiral_hazard": 10 * hazard}),
    })


POINTS = [_point(t, d, h, v, s) for t in (0, 12_000) for d, h, v, s in ((0.3, 0.001, 1.0, 0.0),
                                                                        (0.9, 0.004, 3.0, 0.05))]


def _bytes(tables: list) -> list[bytes]:
    return [table.to_csv(index=False).encode() for table in tables]


def test_packed_points_give_the_bytes_of_points_run_one_by_one() -> None:
    streams = [()] * len(POINTS)
    assert plan_packs(POINTS) == [[0, 1, 2, 3]]  # one pack: every varied parameter may be per world
    packed = run_packed(POINTS, streams)
    alone = [run_pack([point], [()])[0] for point in POINTS]
    tiny = run_packed(POINTS, streams, pack_worlds=70)  # every point cut into slices of other packs' sizes
    assert _bytes(packed) == _bytes(alone) == _bytes(tiny)
    assert len({table["agreed"].sum() for table in packed}) > 1  # the points do differ


def test_a_packed_point_is_the_run_of_its_scenario() -> None:
    point = POINTS[3]
    [packed] = run_packed([POINTS[0], point], [(), ()])[1:]
    assert _bytes([packed]) == _bytes([run_scenario(point, record_trajectories=False).runs])


def test_independent_streams_give_other_worlds() -> None:
    same, other = run_packed([POINTS[1], POINTS[1]], [(), (1,)])
    assert not same.equals(other)


def test_points_that_differ_in_what_cannot_be_per_world_go_to_separate_packs() -> None:
    shorter = BASE.model_copy(update={"horizon_days": 300})
    russians = BASE.model_copy(update={"agents": BASE.agents.model_copy(update={
        "RU": BASE.agents.RU.model_copy(update={"troops": 600_000})})})
    for other in (shorter, russians):
        assert pack_signature(other) != pack_signature(BASE)
        assert plan_packs([BASE, other, BASE]) == [[0, 2], [1]]
        with pytest.raises(ValueError, match="cannot be per world"):
            run_pack([BASE, other], [(), ()])


def test_prior_draws_share_one_pack_and_give_the_bytes_of_their_runs_alone() -> None:
    """Two draws from the priors differ in every assumed parameter, those that steer control flow
    included (negotiation rounds, Germany's delay and bases, rearmament): packed side by side, each
    world must still give exactly its own run's numbers."""
    from sim.engine.mesa_model import with_overrides
    from sim.experiments.ensemble import prior_draws

    base = BASE.model_copy(update={"replications": 120, "horizon_days": 500})
    draws = prior_draws(base, 3, seed=11).values
    points = [with_overrides(base, draw, Path("priors")) for draw in draws]
    varied = {path for path in draws[0] if len({repr(draw[path]) for draw in draws}) > 1}
    assert {"agents.US.mediation_rounds", "agents.DE.deployment_delay_days", "agents.RU.rearmament_rate",
            "model.joint_calming"} <= varied
    assert plan_packs(points) == [[0, 1, 2]]
    packed = run_packed(points, [()] * len(points))
    alone = [run_pack([point], [()])[0] for point in points]
    assert _bytes(packed) == _bytes(alone)
    assert len({table["agreed"].sum() for table in packed}) > 1  # the draws do differ


def test_only_packable_parameters_may_be_per_world() -> None:
    with pytest.raises(ValueError, match="cannot differ"):
        CeasefireModel(BASE, 3, rng=1, world_values={"agents.RU.troops": np.ones(3)})
    with pytest.raises(ValueError, match="3 values for 4 worlds"):
        CeasefireModel(BASE, 4, rng=1, world_values={"model.deterrence_weight": np.ones(3)})


@pytest.mark.parametrize("crn", [True, False])
def test_a_sweep_gives_the_same_bytes_packed_or_not_and_with_any_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crn: bool) -> None:
    # imported here: the engine's tests above do not depend on the sweep's modules
    import sim.experiments.sweep.execute
    from sim.experiments.sweep.design import load_sweep
    from sim.experiments.sweep.execute import run_sweep
    from sim.outputs.artefacts import save

    sweep = load_sweep(sweep_path("troops_vs_monitoring"), {"replications": 60, "horizon_days": 366})
    sweep = type(sweep)(**{**sweep.__dict__, "points": sweep.points[::90], "common_random_numbers": crn})
    save(run_sweep(sweep, workers=1).artefacts(), tmp_path / "packed", plots=False)
    save(run_sweep(sweep, workers=2).artefacts(), tmp_path / "two", plots=False)
    monkeypatch.setattr(sim.experiments.sweep.execute, "PACK_WORLDS", 60)  # one point (60 worlds) per pack
    save(run_sweep(sweep, workers=1).artefacts(), tmp_path / "unpacked", plots=False)
    tables = [(tmp_path / name / "sweep.csv").read_bytes() for name in ("packed", "two", "unpacked")]
    assert tables[0] == tables[1] == tables[2]
    survival = [(tmp_path / name / "survival.csv").read_bytes() for name in ("packed", "two", "unpacked")]
    assert survival[0] == survival[1] == survival[2]


def test_per_world_values_replace_the_scenarios_value_world_by_world() -> None:
    low, high = POINTS[0], POINTS[1]  # differ in detection, hazard, intent variance, spoilers, incidents, spiral
    paths = {"agents.US.detection_probability": ("agents", "US", "detection_probability"),
             "agents.RU.base_offensive_hazard": ("agents", "RU", "base_offensive_hazard"),
             "model.intent_variance": ("model", "intent_variance"),
             "model.spoiler_rate": ("model", "spoiler_rate"),
             "model.incident_rate": ("model", "incident_rate"),
             "model.spiral_slope": ("model", "spiral_slope"),
             "model.spiral_hazard": ("model", "spiral_hazard")}

    def value(scenario: Scenario, where: tuple[str, ...]) -> float:
        node: object = scenario
        for name in where:
            node = getattr(node, name)
        return float(node)  # type: ignore[arg-type]

    n = low.replications
    mixed = {path: np.where(np.arange(n) % 2 == 0, value(low, where), value(high, where))
             for path, where in paths.items()}
    [runs] = run_packed([low], [()], world_values=[mixed])
    [runs_low, runs_high] = run_packed([low, high], [(), ()])
    even, odd = runs.iloc[::2].reset_index(drop=True), runs.iloc[1::2].reset_index(drop=True)
    assert even.equals(runs_low.iloc[::2].reset_index(drop=True))
    assert odd.equals(runs_high.iloc[1::2].reset_index(drop=True))
    with pytest.raises(ValueError, match="cannot differ"):
        run_packed([low], [()], world_values=[{"agents.RU.troops": np.ones(n)}])


def _state(model: CeasefireModel) -> dict[str, np.ndarray]:
    # agents by code: the UK and France are both Guarantors
    return {f"{getattr(owner, 'code', type(owner).__name__)}.{name}": np.asarray(getattr(owner, name)).copy()
            for owner in (model, *model.agents) for name in owner.world_state}


def test_every_packable_parameter_as_a_per_world_array_changes_no_bit() -> None:
    """A parameter held as an array of its own value must give exactly the numbers of the scalar, day by
    day: numpy's type promotion differs between numbers and arrays (a float32 intermediate stays float32
    with a number, not with an array), which would make packed and one-by-one runs drift apart."""
    agents = BASE.agents
    # Germany enters early, the US loses patience, forces rearm: the branches those parameters steer are taken
    scenario = BASE.model_copy(update={"replications": 400, "agents": agents.model_copy(update={
        "DE": agents.DE.model_copy(update={"deployment_delay_days": 20, "permanent_bases": True}),
        "US": agents.US.model_copy(update={"patience": 300.0, "violation_tolerance": 0.0}),
        "UA": agents.UA.model_copy(update={"rearmament_rate": 0.02})})})
    flat = flat_values(scenario)
    scalar = CeasefireModel(scenario, 400, rng=3, record_trajectories=False)
    arrays = CeasefireModel(scenario, 400, rng=3, record_trajectories=False,
                            world_values={path: np.full(400, float(flat[path])) for path in PACKABLE})
    assert (scalar.de.troops == 0).all()
    for _ in range(90):
        # quantities that meet a random draw: a last-bit difference there would rarely show in the state
        for quantity in ("incident_rate", "capability", "guarantee", "commitment", "presence"):
            np.testing.assert_array_equal(getattr(scalar, quantity)(), getattr(arrays, quantity)(),
                                          err_msg=f"{quantity} on day {scalar.day}")
        for part, (one, many) in enumerate(zip(scalar.drive(scalar.day), arrays.drive(arrays.day), strict=True)):
            np.testing.assert_array_equal(np.broadcast_to(one, (400,)), np.broadcast_to(many, (400,)),
                                          err_msg=f"drive part {part} on day {scalar.day}")
        scalar.step()
        arrays.step()
        a, b = _state(scalar), _state(arrays)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=f"{name} on day {scalar.day}")
    assert (scalar.de.troops > 0).any() and scalar.us.scaled_down.any() and not scalar.holding.all()


def test_parameters_that_steer_control_flow_follow_each_worlds_own_value() -> None:
    """Worlds of two points packed in one model, alternating: every state array of each world equals, day by
    day, that of its own point run alone, for parameters that decide which branch a world takes."""
    from sim.engine.mesa_model import with_overrides
    from sim.engine.streams import world_keys

    contrasts = {"agents.DE.deployment_delay_days": (10, 250), "agents.US.mediation_rounds": (1, 4),
                 "agents.DE.permanent_bases": (False, True), "agents.RU.rearmament_rate": (0.0, 0.1),
                 "agents.UA.rearmament_rate": (0.05, 0.0), "model.joint_calming": (0.0, 2.0)}
    low, high = (with_overrides(BASE, {path: pair[side] for path, pair in contrasts.items()}, Path("contrast"))
                 for side in (0, 1))
    n = 300
    keys = world_keys(3, (), np.arange(n))
    odd = np.arange(n) % 2 == 1
    mixed = {path: np.where(odd, float(b), float(a)) for path, (a, b) in contrasts.items()}
    packed = CeasefireModel(low, n, keys=keys, record_trajectories=False, world_values=mixed)
    alone = [CeasefireModel(point, n, keys=keys, record_trajectories=False) for point in (low, high)]
    assert not np.array_equal(alone[0].agreed, alone[1].agreed)  # one round of mediation against four
    for _ in range(300):
        for model in (packed, *alone):
            model.step()
        state, low_state, high_state = _state(packed), _state(alone[0]), _state(alone[1])
        for name in low_state:
            np.testing.assert_array_equal(state[name][~odd], low_state[name][~odd], err_msg=f"{name} day {packed.day}")
            np.testing.assert_array_equal(state[name][odd], high_state[name][odd], err_msg=f"{name} day {packed.day}")
        if packed.day == 100:  # Germany has entered where its delay was 10 days, nowhere where it is 250
            assert (packed.de.troops[~odd] > 0).any() and (packed.de.troops[odd] == 0).all()


def _form_args(function, n: int, rng: np.random.Generator) -> list:
    """Arguments for one form: its first two per world and the others scalars, or, for a form that reads one
    dataclass of inputs (offensive, ukraine), every field of it per world."""
    parameters = list(inspect.signature(function).parameters)
    if len(parameters) == 1:
        inputs = typing.get_type_hints(function)[parameters[0]]
        return [inputs(**{field.name: rng.uniform(0.1, 3.0, n) for field in dataclasses.fields(inputs)})]
    return [rng.uniform(0.0, 3.0, n), rng.uniform(0.0, 3.0, n), *rng.uniform(0.1, 2.0, len(parameters) - 2)]


LEGACY_FORMS = BASE.structure.model_copy(update=LEGACY_STRUCTURE)
LEGACY = BASE.model_copy(update={"structure": LEGACY_FORMS})


def test_every_mechanism_has_its_model_attribute_and_every_form_returns_float64() -> None:
    """A mask puts each form's values into one float64 array, which would widen a float32 form silently and so
    change the numbers downstream of it; every form must already return float64."""
    assert set(FORM_ATTRIBUTES) == set(REGISTRY)
    model = CeasefireModel(LEGACY, 2, rng=1, record_trajectories=False)
    for mechanism, attribute in FORM_ATTRIBUTES.items():
        assert getattr(model, attribute) is REGISTRY[mechanism][getattr(LEGACY_FORMS, mechanism)], mechanism
    rng = np.random.default_rng(2)
    for mechanism, forms in REGISTRY.items():
        args = _form_args(next(iter(forms.values())), 7, rng)  # the forms of a mechanism share one signature
        for name, form in forms.items():
            value = np.asarray(form(*args))
            assert value.dtype == np.float64 and value.shape == (7,), f"{mechanism}.{name}: {value.dtype}"


def test_a_mixed_form_gives_each_world_the_value_of_its_own_form() -> None:
    """Every form of each mechanism present at once, worlds assigned at random, arguments per world or
    scalar: each world's value is bit for bit its own form's, after the owner's index changes too."""
    rng = np.random.default_rng(11)
    n = 1_000

    form_index: dict[str, np.ndarray] = {}
    for mechanism, forms in REGISTRY.items():
        functions = list(forms.values())
        args = _form_args(functions[0], n, rng)
        mixed = MixedForm(functions, form_index, mechanism)
        for _ in range(2):  # a second index, as after the model compacts its worlds
            index = form_index[mechanism] = rng.integers(0, len(functions), n)
            expected = np.select([index == k for k in range(len(functions))],
                                 [np.broadcast_to(f(*args), n) for f in functions])
            np.testing.assert_array_equal(mixed(*args), expected, err_msg=mechanism)
            assert set(np.unique(index)) == set(range(len(functions)))


def test_worlds_of_different_structures_in_one_model_follow_their_own_forms_day_by_day() -> None:
    """Worlds of the default and of the first version's structure (every mechanism in another form),
    alternating in one model: every state array of each world equals, day by day, that of its own
    structure run alone."""
    from sim.engine.streams import world_keys

    legacy = BASE.model_copy(update={"structure": LEGACY_FORMS})
    assert all(getattr(legacy.structure, m) != getattr(BASE.structure, m) for m in REGISTRY)
    n = 300
    keys = world_keys(5, (), np.arange(n))
    odd = np.arange(n) % 2 == 1
    forms = {m: np.where(odd, getattr(legacy.structure, m), getattr(BASE.structure, m)) for m in REGISTRY}
    packed = CeasefireModel(BASE, n, keys=keys, record_trajectories=False, world_forms=forms)
    alone = [CeasefireModel(point, n, keys=keys, record_trajectories=False) for point in (BASE, legacy)]
    assert isinstance(packed.spiral_form, MixedForm)
    assert not np.array_equal(alone[0].agreed, alone[1].agreed)  # the acceptance forms differ
    for _ in range(300):
        for model in (packed, *alone):
            model.step()
        state, default_state, legacy_state = _state(packed), _state(alone[0]), _state(alone[1])
        for name in default_state:
            np.testing.assert_array_equal(state[name][~odd], default_state[name][~odd],
                                          err_msg=f"{name} day {packed.day}")
            np.testing.assert_array_equal(state[name][odd], legacy_state[name][odd], err_msg=f"{name} day {packed.day}")
    assert not np.array_equal(alone[0].breakdown_day, alone[1].breakdown_day)


def test_points_of_different_structures_share_a_pack_and_give_their_bytes_alone() -> None:
    """Points that differ only in structure (one mechanism each, and all at once) are packed together and
    still give, byte for byte, the runs.csv of each point run alone.

    The US tolerates 1,200 violations a day here, between what it detects (about 1,000) and what it estimates
    (about 1,460): at the baseline's 2,000 the two impatience forms never differ."""
    agents = BASE.agents.model_copy(update={"US": BASE.agents.US.model_copy(update={"violation_tolerance": 1200.0})})
    base = BASE.model_copy(update={"agents": agents})
    points = [base, base.model_copy(update={"structure": LEGACY_FORMS})]
    for mechanism in REGISTRY:
        other = next(form for form in REGISTRY[mechanism] if form != getattr(base.structure, mechanism))
        points.append(base.model_copy(update={"structure": base.structure.model_copy(update={mechanism: other})}))
    assert plan_packs(points) == [list(range(len(points)))]
    packed = run_packed(points, [()] * len(points))
    alone = [run_pack([point], [()])[0] for point in points]
    assert _bytes(packed) == _bytes(alone)
    assert len({table.to_csv() for table in packed}) == len(points)  # every form changes some world


def test_world_forms_refuse_an_unknown_mechanism_or_form_and_a_wrong_length() -> None:
    n = 4
    with pytest.raises(ValueError, match="no mechanism named spiral"):
        CeasefireModel(BASE, n, world_forms={"spiral": np.array(["smooth"] * n)})
    with pytest.raises(ValueError, match="no form named cliff"):
        CeasefireModel(BASE, n, world_forms={"escalation": np.array(["smooth", "cliff"] * 2)})
    with pytest.raises(ValueError, match="3 forms for 4 worlds"):
        CeasefireModel(BASE, n, world_forms={"escalation": np.array(["smooth"] * 3)})


def test_a_pack_mixes_structures_only_where_one_structures_worlds_do_not_fill_it() -> None:
    legacy = BASE.model_copy(update={"structure": LEGACY_FORMS, "replications": 100})
    default = BASE.model_copy(update={"replications": 100})
    assert plan_packs([default, legacy, default, legacy], pack_worlds=200) == [[0, 2], [1, 3]]
    assert plan_packs([default, legacy, default, legacy, default], pack_worlds=200) == [[0, 2], [1, 3], [4]]
    assert plan_packs([default, legacy, default, legacy, default], pack_worlds=300) == [[0, 2, 4], [1, 3]]
    assert plan_packs([default, legacy, default, default], pack_worlds=200) == [[0, 2], [3, 1]]  # tails mix
