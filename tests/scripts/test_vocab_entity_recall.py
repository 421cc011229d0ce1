"""scripts/vocab_entity_recall.py on two tiny docs: which entities the extended
vocabulary changes, and strict recall / precision per group."""
import importlib.util

import pytest

from spacy_clinkd.tokenizer import clinical_blank
from tests.util import ROOT

SCRIPT = ROOT / "scripts" / "vocab_entity_recall.py"
_spec = importlib.util.spec_from_file_location("vocab_entity_recall", SCRIPT)
recall = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recall)


def _doc(nlp, text, ents):
    doc = nlp.make_doc(text)
    spans = []
    for surface, label in ents:
        start = text.index(surface)
        spans.append(doc.char_span(start, start + len(surface), label=label))
    doc.ents = spans
    return doc


def test_changed_by_compares_pieces_word_by_word():
    base = {"hepatomegaly": ("he", "##pato", "##me", "##galy"), "mild": ("mild",)}
    extended = {"hepatomegaly": ("hepato", "##megaly"), "mild": ("mild",)}
    is_changed = recall.changed_by(str.split, base.__getitem__, extended.__getitem__)
    assert is_changed("mild hepatomegaly")
    assert not is_changed("mild")


def test_group_scores_counts_strict_matches_per_group():
    nlp = clinical_blank()
    text = "Hepatomegaly and fever. Metformin was started."
    gold = [_doc(nlp, text, [("Hepatomegaly", "DISEASE"), ("fever", "SYMPTOM"), ("Metformin", "MEDICATION")])]
    # hepatomegaly found; fever missed; Metformin found with the wrong label; "started" is spurious
    pred = [_doc(nlp, text, [("Hepatomegaly", "DISEASE"), ("Metformin", "DISEASE"), ("started", "SYMPTOM")])]
    scores = recall.group_scores(gold, pred, lambda t: t in {"Hepatomegaly", "Metformin"}, ["DISEASE", "MEDICATION", "SYMPTOM"])
    assert scores["changed"] == {"gold": 2, "found": 1, "predicted": 2, "correct": 1, "recall": 0.5, "precision": 0.5}
    assert scores["same"] == {"gold": 1, "found": 0, "predicted": 1, "correct": 0, "recall": 0.0, "precision": 0.0}


def test_group_scores_ignores_other_labels_and_refuses_mismatched_docs():
    nlp = clinical_blank()
    gold = [_doc(nlp, "Age 54. Fever.", [("54", "AGE"), ("Fever", "SYMPTOM")])]
    pred = [_doc(nlp, "Age 54. Fever.", [("Fever", "SYMPTOM")])]
    scores = recall.group_scores(gold, pred, lambda t: False, ["SYMPTOM"])
    assert scores["same"]["gold"] == 1 and scores["same"]["recall"] == 1.0
    assert scores["changed"]["recall"] is None and scores["changed"]["precision"] is None
    with pytest.raises(ValueError, match="differ in text"):
        recall.group_scores(gold, [nlp.make_doc("Other text.")], lambda t: False, ["SYMPTOM"])
    with pytest.raises(ValueError, match="1 gold docs against 0"):
        recall.group_scores(gold, [], lambda t: False, ["SYMPTOM"])
