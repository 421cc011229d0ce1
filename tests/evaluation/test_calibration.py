"""Calibration of the entity scores: tiny synthetic docs whose scores are set
by hand, so every bin, threshold and error is known."""
import pytest
import spacy
from spacy.tokens import Span, SpanGroup

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.evaluation.calibration import (
    calibration,
    entity_scores,
    score_calibration,
    scored_entities,
    wilson_interval,
)
from spacy_clinkd.evaluation.metrics import remap_entities

NLP = spacy.blank("en")
TEXT = "fever cough rash pain aspirin insulin"
# token i is word i; gold: fever, cough, rash (SYMPTOM), aspirin (MEDICATION)
GOLD = [(0, "SYMPTOM"), (1, "SYMPTOM"), (2, "SYMPTOM"), (4, "MEDICATION")]


def doc_with(ents, scores=None):
    """A doc of TEXT with one-token entities (token, label); with `scores`, also
    the span group clinkd_ner writes (`doc.spans["clinkd_ner"]`, attrs scores)."""
    doc = NLP(TEXT)
    doc.ents = [Span(doc, i, i + 1, label=label) for i, label in ents]
    if scores is not None:
        doc.spans["clinkd_ner"] = SpanGroup(doc, name="clinkd_ner", spans=list(doc.ents), attrs={"scores": scores})
    return doc


def gold_doc():
    return doc_with(GOLD)


def test_pairs_hold_each_score_and_whether_it_is_strictly_right():
    # fever right (0.95), cough right (0.75), pain wrong (0.72), aspirin with the wrong label (0.55)
    pred = doc_with([(0, "SYMPTOM"), (1, "SYMPTOM"), (3, "SYMPTOM"), (4, "DISEASE")], [0.95, 0.75, 0.72, 0.55])
    pairs, n_gold, unscored = scored_entities([gold_doc()], [pred])
    assert sorted(pairs) == [(0.55, False), (0.72, False), (0.75, True), (0.95, True)]
    assert (n_gold, unscored) == (4, 0)
    # only SYMPTOM: aspirin leaves both sides
    pairs, n_gold, _ = scored_entities([gold_doc()], [pred], labels=["SYMPTOM"])
    assert sorted(pairs) == [(0.72, False), (0.75, True), (0.95, True)] and n_gold == 3


def test_scores_follow_the_offsets_when_labels_are_remapped():
    pred = doc_with([(0, "Sign_symptom"), (4, "Drug")], [0.9, 0.6])
    remap_entities(pred, {"Sign_symptom": "SYMPTOM", "Drug": "MEDICATION"})
    assert entity_scores(pred) == {(0, 5): 0.9, (22, 29): 0.6}
    pairs, _, _ = scored_entities([gold_doc()], [pred])
    assert sorted(pairs) == [(0.6, True), (0.9, True)]


def test_entities_without_scores_are_counted_apart():
    pred = doc_with([(0, "SYMPTOM"), (1, "SYMPTOM")])  # no span group: e.g. spaCy's own ner
    pairs, _, unscored = scored_entities([gold_doc()], [pred])
    assert pairs == [] and unscored == 2
    assert score_calibration([gold_doc()], [pred]) is None


def test_texts_must_match():
    other = NLP("something else entirely")
    with pytest.raises(ClinkdError, match="differ in text"):
        scored_entities([gold_doc()], [other])


def test_bins_thresholds_and_error_by_hand():
    pairs = [(0.95, True)] * 3 + [(0.95, False)] + [(0.75, True)] * 2 + [(0.75, False)] * 2 + [(0.55, True), (0.55, False)]
    result = calibration(pairs, n_gold=12, unscored=1)
    filled = {round(b["lo"], 1): b for b in result["bins"] if b["n"]}
    assert sorted(filled) == [0.5, 0.7, 0.9]
    assert [(filled[k]["n"], filled[k]["right"]) for k in (0.5, 0.7, 0.9)] == [(2, 1), (4, 2), (4, 3)]
    assert [filled[k]["accuracy"] for k in (0.5, 0.7, 0.9)] == pytest.approx([0.5, 0.5, 0.75])
    assert [filled[k]["mean_score"] for k in (0.5, 0.7, 0.9)] == pytest.approx([0.55, 0.75, 0.95])
    assert len(result["bins"]) == 10 and sum(b["n"] for b in result["bins"]) == 10
    empty = result["bins"][0]
    assert (empty["n"], empty["accuracy"], empty["interval"], empty["mean_score"]) == (0, None, None, None)
    # ECE = .2 * |.5 - .55| + .4 * |.5 - .75| + .4 * |.75 - .95|
    assert result["ece"] == pytest.approx(0.01 + 0.1 + 0.08)
    assert (result["mean_score"], result["accuracy"]) == pytest.approx((0.79, 0.6))
    rows = {row["threshold"]: row for row in result["thresholds"]}
    assert sorted(rows) == [0.5, 0.7, 0.9]
    # >= .7 keeps 8 of 10 (5 right): P 5/8, R 5/12
    assert (rows[0.7]["kept"], rows[0.7]["tp"], rows[0.7]["fp"], rows[0.7]["fn"]) == (8, 5, 3, 7)
    assert (rows[0.7]["p"], rows[0.7]["r"], rows[0.7]["share_kept"]) == pytest.approx((5 / 8, 5 / 12, 0.8))
    assert (rows[0.9]["p"], rows[0.9]["r"], rows[0.9]["share_kept"]) == pytest.approx((0.75, 0.25, 0.4))
    assert (rows[0.5]["p"], rows[0.5]["r"]) == pytest.approx((0.6, 0.5))
    assert (result["n"], result["n_gold"], result["unscored"]) == (10, 12, 1)


def test_bin_edges_and_threshold_include_their_lower_bound():
    result = calibration([(0.7, True), (1.0, False), (0.0999, True)], n_gold=3, thresholds=(0.7,))
    by_lo = {round(b["lo"], 1): b["n"] for b in result["bins"] if b["n"]}
    assert by_lo == {0.0: 1, 0.7: 1, 0.9: 1}  # 1.0 is in the last bin
    assert result["thresholds"][0]["kept"] == 2


def test_wilson_interval():
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    lo, hi = wilson_interval(4, 4)
    assert hi == 1.0 and lo == pytest.approx(0.5101, abs=1e-4)  # never the [1, 1] of the plain interval
    assert wilson_interval(0, 0) is None


def test_no_entities_no_calibration():
    assert calibration([], n_gold=3)["ece"] is None
    assert score_calibration([gold_doc()], [doc_with([], [])]) is None
