"""Hostile text through a loaded pipeline (a tiny random-weight clinkd_ner
whose head predicts entities everywhere): no crash, every entity at its
offsets, `nlp.pipe` equal to one call per text; and the checker itself
catches a misplaced entity."""
import json

import pytest
import spacy
from spacy.tokens import Doc, Span, SpanGroup

from spacy_clinkd.evaluation.robustness import HOSTILE_TEXTS, check_doc, check_pipeline
from tests.util import random_head_pipeline, run_cli

pytestmark = [pytest.mark.hostile, pytest.mark.slow]


@pytest.fixture(scope="module")
def nlp(tiny_bert):
    return random_head_pipeline(tiny_bert)


@pytest.fixture(scope="module")
def result(nlp):
    # One pass over the list (the 200,000-character text dominates), shared
    # by the per-text tests below.
    return check_pipeline(nlp, batch_size=3)


def test_the_list_covers_what_the_issue_names():
    assert len(HOSTILE_TEXTS["long_document_200k"]) == 200_000
    assert len(max(HOSTILE_TEXTS["one_5000_character_token"].split(), key=len)) >= 5000
    assert any("\ud800" <= c <= "\udfff" for c in HOSTILE_TEXTS["lone_surrogate"])
    assert "\r\n" in HOSTILE_TEXTS["crlf"] and "\u202e" in HOSTILE_TEXTS["right_to_left"]


@pytest.mark.parametrize("name", list(HOSTILE_TEXTS))
def test_hostile_text_gives_a_doc_with_entities_at_their_offsets(result, name):
    row = result["texts"][name]
    assert row["problems"] == []
    assert row["tokens"] >= (1 if HOSTILE_TEXTS[name] else 0)


def test_the_check_is_not_vacuous(result):
    # The random head tags many tokens: the offsets of real entities were checked.
    assert sum(row["entities"] for row in result["texts"].values()) > 1000
    assert result["texts"]["lone_surrogate"]["entities"] > 0


def test_pipe_equals_one_call_per_text(result):
    assert result["pipe_problems"] == []
    assert result["ok"] is True


def test_the_checker_catches_a_misplaced_entity_and_bad_confidences():
    nlp = spacy.blank("en")
    doc = nlp("fever and cough")
    doc.ents = [Span(doc, 0, 1, label="SYMPTOM")]
    doc.spans["clinkd_ner"] = SpanGroup(doc, name="clinkd_ner", spans=list(doc.ents), attrs={"scores": [1.5, 0.2]})
    problems = check_doc("fever and cough", doc)
    assert problems == ["2 confidences for 1 entities", "confidences outside [0, 1]: [1.5]"]
    # a Doc of another text: its entity is not the input's text at its offsets
    other = Doc(nlp.vocab, words=["cough", "and", "fever"], spaces=[True, True, False])
    other.ents = [Span(other, 0, 1, label="SYMPTOM")]
    assert check_doc("fever and cough", other) == [
        "doc.text differs from the input (first 40: 'cough and fever')",
        "entity 'cough' is not the text at 0-5",
    ]


def test_hostile_text_command_on_a_saved_pipeline(nlp, tmp_path, monkeypatch, capsys):
    # The long text was checked above; the command's own run skips it for time.
    monkeypatch.delitem(HOSTILE_TEXTS, "long_document_200k")
    nlp.to_disk(tmp_path / "model")
    out = tmp_path / "hostile.json"
    code, stdout, err = run_cli(monkeypatch, capsys, "hostile-text", tmp_path / "model", "--output", out)
    assert code == 0, err
    data = json.loads(out.read_text(encoding="utf8"))
    assert data["ok"] is True and set(data["texts"]) == set(HOSTILE_TEXTS)
    assert f"✔ {len(HOSTILE_TEXTS)} hostile texts" in stdout


def test_hostile_text_command_under_int8(tiny_bert, tmp_path, monkeypatch, capsys):
    """Under int8 too, nlp.pipe gives each text's confidences as one call does
    (activations are scaled per token, not per batch)."""
    pytest.importorskip("onnxruntime")
    monkeypatch.delitem(HOSTILE_TEXTS, "long_document_200k")
    nlp = random_head_pipeline(tiny_bert)
    nlp.get_pipe("clinkd_ner").quantize()
    nlp.to_disk(tmp_path / "model")
    out = tmp_path / "hostile_int8.json"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "hostile-text", tmp_path / "model", "--output", out, "--inference", "int8"
    )
    assert code == 0, err
    data = json.loads(out.read_text(encoding="utf8"))
    assert data["inference"] == "int8" and data["ok"] is True
    assert sum(row.get("entities", 0) for row in data["texts"].values()) > 0
