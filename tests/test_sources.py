"""The article's commitments: every quote verbatim, every parameter with provenance."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sim.errors import InputError
from sim.scenario import ROLE_OF, Agents, ModelParams
from sim.sources import COMMITMENTS_FILE, article_text, load_commitments, missing_quotes

SHARED_ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "paris-talks-coalition-article.fr.txt"


def test_every_article_quote_occurs_verbatim_in_the_article():
    commitments = load_commitments()
    assert missing_quotes(commitments, article_text()) == []


def test_quote_check_catches_a_paraphrase():
    commitments = load_commitments()
    altered = commitments.model_copy(deep=True)
    altered.agents["UK"].params["resolve"].quote = "Londres et Paris promettent des troupes"
    assert missing_quotes(altered, article_text()) == ["UK.resolve"]


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
        ({"value": 1, "provenance": "article"}, "needs a 'quote'"),
        ({"value": 1, "provenance": "external"}, "needs a 'citation'"),
        ({"value": 1, "provenance": "assumption"}, "needs a 'rationale'"),
        ({"value": 1, "provenance": "rumour", "rationale": "x"}, "provenance"),
    ],
)
def test_a_parameter_without_evidence_is_rejected(tmp_path, entry, message):
    document = yaml.safe_load(COMMITMENTS_FILE.read_text(encoding="utf-8"))
    document["model"]["troop_scale"] = entry
    path = tmp_path / "commitments.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_commitments(path)


def test_the_odd_parameter_table_matches_the_schema_and_commitments():
    from sim.paramtable import ODD_FILE, refreshed

    document = ODD_FILE.read_text(encoding="utf-8")
    assert refreshed(document) == document, "run `python -m sim.paramtable --write` to refresh docs/ODD.md"
