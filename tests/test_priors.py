"""Priors of the assumed parameters: present, containing the value, inside the schema, well formed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.spec.paramtable import prior_problems
from sim.spec.scenario import get_path, load_scenario
from sim.spec.sources import Prior, load_commitments, priors

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"


def test_every_inspired_and_assumed_parameter_and_only_those_has_a_prior():
    commitments = load_commitments()
    assumed = {f"model.{n}" if o == "model" else f"agents.{o}.{n}"
               for o, n, p in commitments.items() if p.provenance in ("inspired", "assumption")}
    assert set(priors()) == assumed
    assert {"agents.RU.table_gain", "model.entry_cost", "agents.US.mediation_rounds"} <= assumed


def test_every_prior_contains_the_default_value_of_its_parameter():
    defaults = load_commitments().defaults()
    for path, prior in priors().items():
        value = get_path(defaults, path)
        assert prior.contains(value), f"{path}: {value} outside {prior.describe()}"


def test_every_prior_path_names_a_parameter_of_the_baseline_scenario():
    scenario = load_scenario(BASELINE).model_dump()
    missing = [path for path in priors() if get_path(scenario, path) is None]
    assert missing == []


def test_every_prior_lies_within_the_schema_limits_and_matches_the_parameter_type():
    assert prior_problems(load_commitments()) == []


@pytest.mark.parametrize(
    ("owner", "name", "prior", "problem"),
    [
        ("model", "spiral_hazard", Prior(distribution="loguniform", low=0.02, high=1.5, reason="r"),
         "model.spiral_hazard: prior loguniform [0.02, 1.5] reaches outside the valid range"),
        ("model", "troop_scale", Prior(distribution="uniform", low=0, high=30000, reason="r"),
         "model.troop_scale: prior uniform [0, 30000] reaches outside the valid range"),
        ("US", "mediation_rounds", Prior(distribution="integer_uniform", low=0, high=4, reason="r"),
         "US.mediation_rounds: prior integer_uniform {0..4} reaches outside the valid range"),
        ("US", "mediation_rounds", Prior(distribution="uniform", low=1, high=4, reason="r"),
         "US.mediation_rounds: prior uniform does not suit a whole-number parameter; use integer_uniform"),
        ("DE", "permanent_bases", Prior(distribution="uniform", low=0, high=1, reason="r"),
         "DE.permanent_bases: prior uniform does not suit a true/false parameter; use bernoulli"),
        ("RU", "rearmament_rate", Prior(distribution="integer_uniform", low=0, high=1, reason="r"),
         "RU.rearmament_rate: prior integer_uniform does not suit a real-valued parameter; use uniform or loguniform"),
    ],
)
def test_a_prior_outside_the_schema_range_or_of_the_wrong_type_is_caught(owner, name, prior, problem):
    altered = load_commitments().model_copy(deep=True)
    params = altered.model if owner == "model" else altered.agents[owner].params
    params[name].prior = prior
    assert prior_problems(altered) == [problem]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"distribution": "uniform", "low": 1, "high": 1}, "'low' < 'high'"),
        ({"distribution": "uniform", "low": 2, "high": 1}, "'low' < 'high'"),
        ({"distribution": "uniform", "low": 0}, "'low' < 'high'"),
        ({"distribution": "loguniform", "low": 0, "high": 1}, "'low' > 0"),
        ({"distribution": "integer_uniform", "low": 1, "high": 4.5}, "whole-number"),
        ({"distribution": "bernoulli", "low": 0, "high": 1}, "takes 'p'"),
        ({"distribution": "bernoulli", "p": 1.5}, "less than or equal to 1"),
        ({"distribution": "uniform", "low": 0, "high": 1, "p": 0.5}, "not 'p'"),
        ({"distribution": "normal", "low": 0, "high": 1}, "distribution"),
        ({"distribution": "uniform", "low": 0, "high": 1, "reason": ""}, "at least 1 character"),
    ],
)
def test_a_malformed_prior_is_rejected(fields, message):
    with pytest.raises(ValidationError, match=message):
        Prior.model_validate({"reason": "r", **fields})


def test_integer_and_bernoulli_priors_admit_only_values_of_their_kind():
    rounds = Prior(distribution="integer_uniform", low=1, high=4, reason="r")
    assert rounds.contains(2) and rounds.contains(4) and not rounds.contains(2.5) and not rounds.contains(5)
    bases = Prior(distribution="bernoulli", p=0.2, reason="r")
    assert (bases.low, bases.high) == (0.0, 1.0)
    assert bases.contains(False) and bases.contains(True) and not bases.contains(0.5)
    share = Prior(distribution="uniform", low=0, high=1, reason="r")
    assert share.contains(0) and share.contains(1.0) and not share.contains(True) and not share.contains(1.01)
