"""The error table: each gold entity in one class, plus spurious predictions."""
import spacy

from spacy_clinkd.evaluation.error_table import CLASSES, classify_doc, error_table

TEXT = "fever and chest pain in the left arm after aspirin with rash"


def doc(nlp, ents):
    d = nlp.make_doc(TEXT)
    d.ents = [d.char_span(TEXT.index(s), TEXT.index(s) + len(s), label=label) for s, label in ents]
    return d


def test_each_class():
    nlp = spacy.blank("en")
    gold = doc(nlp, [("fever", "SYMPTOM"), ("chest pain", "SYMPTOM"), ("left arm", "SYMPTOM"),
                     ("aspirin", "MEDICATION"), ("rash", "SYMPTOM")])
    pred = doc(nlp, [("fever", "SYMPTOM"), ("pain", "SYMPTOM"), ("left", "DISEASE"),
                     ("aspirin", "DISEASE"), ("after", "MEDICATION")])
    table = error_table([gold], [pred])
    assert table["per_label"]["SYMPTOM"] == {
        "correct": 1, "type": 0, "boundary": 1, "boundary_type": 1, "missed": 1, "spurious": 0
    }
    assert table["per_label"]["MEDICATION"]["type"] == 1
    assert table["per_label"]["MEDICATION"]["spurious"] == 1
    assert table["total"] == {"correct": 1, "type": 1, "boundary": 1, "boundary_type": 1, "missed": 1, "spurious": 1}
    # each gold entity once: the classes other than spurious sum to the gold count
    assert sum(table["total"][c] for c in CLASSES if c != "spurious") == len(gold.ents)


def test_labels_filter_and_perfect():
    gold = {(0, 5, "SYMPTOM"), (10, 15, "DISEASE")}
    assert classify_doc(gold, gold) == [("correct", "SYMPTOM"), ("correct", "DISEASE")]
    assert classify_doc(set(), {(0, 5, "X")}) == [("spurious", "X")]
