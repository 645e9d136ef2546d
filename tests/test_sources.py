"""The article's commitments: every quote verbatim, every parameter with provenance, few values stated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.core.errors import InputError
from sim.spec.scenario import ROLE_OF, Agents, ModelParams
from sim.spec.sources import COMMITMENTS_FILE, article_text, evidence_text, load_commitments, missing_quotes

SHARED_ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "paris-talks-coalition-article.fr.txt"

STATED_BY_ARTICLE = {
    "UK.permanent_bases": (True, "bases militaires permanentes"),
    "FR.permanent_bases": (True, "bases militaires permanentes"),
    "US.troops": (0, "exclut toujours l’envoi de soldats américains"),
}
"""Every parameter whose value the article itself gives, with the words of its quote that give it.
A new ``stated`` claim must be reviewed and added here; anything else the article only inspires."""

QUOTE = "Londres et Paris s’engagent officiellement à envoyer des forces au sol pour garantir un accord de paix"
PRIOR = {"distribution": "uniform", "low": 0.0, "high": 2.0, "reason": "r"}


def test_every_stated_and_inspired_quote_occurs_verbatim_in_the_article():
    commitments = load_commitments()
    assert missing_quotes(commitments, article_text()) == []
    quoted = [p for _, _, p in commitments.items() if p.provenance in ("stated", "inspired")]
    assert len(quoted) > len(STATED_BY_ARTICLE)


@pytest.mark.parametrize("param", [("UK", "resolve"), ("US", "troops")], ids=["inspired", "stated"])
def test_quote_check_catches_a_paraphrase(param):
    owner, name = param
    altered = load_commitments().model_copy(deep=True)
    altered.agents[owner].params[name].quote = "Londres et Paris promettent des troupes"
    assert missing_quotes(altered, article_text()) == [f"{owner}.{name}"]


def test_only_the_reviewed_parameters_are_stated_and_their_quotes_give_the_value():
    stated = {f"{owner}.{name}": p for owner, name, p in load_commitments().items() if p.provenance == "stated"}
    assert set(stated) == set(STATED_BY_ARTICLE), "review the new stated claim, or mark it inspired"
    for key, (value, words) in STATED_BY_ARTICLE.items():
        assert stated[key].value == value and type(stated[key].value) is type(value), key
        assert words in stated[key].quote, key


def test_no_parameter_keeps_the_retired_article_provenance():
    kinds = {p.provenance for _, _, p in load_commitments().items()}
    assert kinds == {"stated", "inspired", "external", "assumption"}


def test_the_article_in_seeds_is_the_source_document():
    if not SHARED_ARTICLE.exists():
        pytest.skip("shared/ not beside this checkout")
    assert article_text() == SHARED_ARTICLE.read_text(encoding="utf-8")


def test_every_agent_and_model_parameter_has_a_commitment():
    commitments = load_commitments()
    assert set(commitments.agents) == set(ROLE_OF)
    for code, agent in commitments.agents.items():
        assert agent.role == ROLE_OF[code]
        expected = set(Agents.model_fields[code].annotation.model_fields)
        assert set(agent.params) == expected, code
    assert set(commitments.model) == set(ModelParams.model_fields)


def test_each_state_has_troops_and_resolve_and_us_has_no_troops():
    defaults = load_commitments().defaults()["agents"]
    for code, params in defaults.items():
        assert params["troops"] >= 0 and 0 <= params["resolve"] <= 1, code
    assert defaults["US"]["troops"] == 0
    assert 0 <= defaults["US"]["detection_probability"] <= 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"value": 1, "provenance": "stated"}, "needs a 'quote'"),
        ({"value": 1, "provenance": "inspired", "rationale": "x", "prior": PRIOR}, "needs a 'quote'"),
        ({"value": 1, "provenance": "inspired", "quote": QUOTE, "prior": PRIOR}, "needs a 'rationale'"),
        ({"value": 1, "provenance": "inspired", "quote": QUOTE, "rationale": "x"}, "needs a 'prior'"),
        ({"value": 1, "provenance": "external"}, "needs a 'citation'"),
        ({"value": 1, "provenance": "assumption", "prior": PRIOR}, "needs a 'rationale'"),
        ({"value": 1, "provenance": "assumption", "rationale": "x"}, "needs a 'prior'"),
        ({"value": 1, "provenance": "stated", "quote": QUOTE, "prior": PRIOR}, "takes no 'prior'"),
        ({"value": 1, "provenance": "external", "citation": "c", "prior": PRIOR}, "takes no 'prior'"),
        ({"value": 3, "provenance": "assumption", "rationale": "x", "prior": PRIOR}, "does not contain the value 3"),
        ({"value": 1, "provenance": "article", "quote": QUOTE}, "provenance"),
        ({"value": 1, "provenance": "rumour", "rationale": "x"}, "provenance"),
    ],
)
def test_a_parameter_without_evidence_or_prior_is_rejected_naming_it(tmp_path, entry, message):
    document = yaml.safe_load(COMMITMENTS_FILE.read_text(encoding="utf-8"))
    document["model"]["troop_scale"] = entry
    path = tmp_path / "commitments.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        load_commitments(path)
    assert str(caught.value).startswith(f"{path.resolve()}: model.troop_scale")
    assert "\n" not in str(caught.value)


def test_evidence_shows_the_quote_and_for_inspired_values_the_rationale():
    rows = {(r["owner"], r["parameter"]): r for r in load_commitments().provenance_rows()}
    inspired = evidence_text(rows[("UK", "resolve")])
    assert inspired.startswith(f"« {QUOTE} »") and "0.6 is assumed" in inspired
    stated = evidence_text(rows[("US", "troops")])
    assert stated.startswith("« Donald Trump exclut toujours") and "value:" not in stated
    assert not evidence_text(rows[("model", "troop_scale")]).startswith("«")


def test_the_odd_parameter_table_matches_the_schema_and_commitments():
    from sim.spec.paramtable import ODD_FILE, refreshed

    document = ODD_FILE.read_text(encoding="utf-8")
    assert refreshed(document) == document, "run `python -m sim.spec.paramtable --write` to refresh docs/ODD.md"
