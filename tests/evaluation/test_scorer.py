"""The training-time scorer agrees with the metrics module and spaCy's ner scorer."""
from __future__ import annotations

import pytest
import spacy
from spacy.scorer import get_ner_prf
from spacy.training import Example

from spacy_clinkd.evaluation.metrics import score_entities
from spacy_clinkd.evaluation.scorer import make_ner_scorer

TEXT = "Aspirin for chest pain and severe headache"


def _example(nlp, gold_ents, pred_ents):
    predicted = nlp(TEXT)
    predicted.ents = [predicted.char_span(s, e, label=lab) for s, e, lab in pred_ents]
    reference = nlp(TEXT)
    reference.ents = [reference.char_span(s, e, label=lab) for s, e, lab in gold_ents]
    return Example(predicted, reference)


@pytest.fixture
def examples():
    nlp = spacy.blank("en")
    return [
        _example(
            nlp,
            [(0, 7, "MED"), (12, 22, "SYM"), (27, 42, "SYM")],
            [(0, 7, "MED"), (12, 22, "SYM"), (34, 42, "SYM")],
        ),
        _example(nlp, [(0, 7, "MED")], [(0, 7, "SYM")]),
    ]


def test_scorer_is_registered():
    assert spacy.registry.scorers.get("clinkd.ner_scorer.v1") is make_ner_scorer


def test_scorer_keys_and_values(examples):
    scores = make_ner_scorer()(examples)
    for key in ("ents_p", "ents_r", "ents_f", "ents_per_type"):
        assert key in scores
    # strict: tp 2, fp 2 (headache, Aspirin/SYM), fn 2 (severe headache, Aspirin/MED)
    assert scores["ents_p"] == pytest.approx(0.5)
    assert scores["ents_r"] == pytest.approx(0.5)
    assert scores["ents_f"] == pytest.approx(0.5)
    assert scores["ents_per_type"]["MED"]["r"] == pytest.approx(0.5)
    # lenient: headache overlaps severe headache -> tp 3, fp 1, fn 1
    assert scores["ents_lenient_f"] == pytest.approx(0.75)


def test_scorer_consistent_with_metrics(examples):
    scores = make_ner_scorer()(examples)
    metrics = score_entities([eg.reference for eg in examples], [eg.predicted for eg in examples])
    assert scores["ents_f"] == pytest.approx(metrics["micro"]["f"])
    assert scores["ents_p"] == pytest.approx(metrics["micro"]["p"])
    assert scores["ents_r"] == pytest.approx(metrics["micro"]["r"])
    assert scores["ents_lenient_f"] == pytest.approx(metrics["lenient"]["micro"]["f"])
    for label, label_scores in metrics["per_label"].items():
        assert scores["ents_per_type"][label]["f"] == pytest.approx(label_scores["f"])
    reference = get_ner_prf(examples)
    assert scores["ents_per_type"] == reference["ents_per_type"]


def test_scorer_nothing_to_score():
    nlp = spacy.blank("en")
    scores = make_ner_scorer()([Example(nlp("no ents"), nlp("no ents"))])
    assert scores["ents_f"] is None and scores["ents_lenient_f"] is None


def test_scorer_used_by_component():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "MED", "pattern": "Aspirin"}])
    ruler.scorer = make_ner_scorer()
    reference = nlp.make_doc(TEXT)
    reference.ents = [reference.char_span(0, 7, label="MED"), reference.char_span(12, 22, label="SYM")]
    scores = nlp.evaluate([Example(nlp.make_doc(TEXT), reference)])
    assert scores["ents_p"] == pytest.approx(1.0)
    assert scores["ents_r"] == pytest.approx(0.5)
    assert scores["ents_lenient_r"] == pytest.approx(0.5)
