"""Entity-level metrics on tiny hand-built docs with hand-computed scores."""
from __future__ import annotations

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.evaluation.metrics import (
    aggregate_counts,
    count_entities,
    prf,
    remap_entities,
    score_entities,
)

TEXT = "Aspirin for chest pain and severe headache in diabetes"


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def make_doc(nlp, text: str, ents: list[tuple[str, str]]) -> Doc:
    """Doc with entities given as (surface string, label), found left to right."""
    doc = nlp(text)
    spans, offset = [], 0
    for surface, label in ents:
        start = text.index(surface, offset)
        offset = start + len(surface)
        span = doc.char_span(start, offset, label=label)
        assert span is not None, surface
        spans.append(span)
    doc.ents = spans
    return doc


@pytest.fixture
def gold_pred(nlp):
    gold = make_doc(
        nlp,
        TEXT,
        [("Aspirin", "MED"), ("chest pain", "SYM"), ("severe headache", "SYM"), ("diabetes", "DIS")],
    )
    # tp: Aspirin/MED, chest pain/SYM; fp: "headache"/SYM (boundary), fp: "in"/DIS;
    # fn: "severe headache"/SYM, "diabetes"/DIS... plus wrong label below.
    pred = make_doc(
        nlp,
        TEXT,
        [("Aspirin", "MED"), ("chest pain", "SYM"), ("headache", "SYM"), ("diabetes", "MED")],
    )
    return gold, pred


def test_prf_hand_computed():
    s = prf(tp=2, fp=1, fn=1)
    assert s["p"] == pytest.approx(2 / 3)
    assert s["r"] == pytest.approx(2 / 3)
    assert s["f"] == pytest.approx(2 / 3)
    assert s["support"] == 3
    s = prf(tp=1, fp=0, fn=3)
    assert (s["p"], s["r"]) == (1.0, 0.25)
    assert s["f"] == pytest.approx(2 * 1.0 * 0.25 / 1.25)


def test_prf_zero_denominators_are_zero():
    assert prf(tp=0, fp=0, fn=0) == {
        "p": 0.0, "r": 0.0, "f": 0.0, "tp": 0, "fp": 0, "fn": 0, "support": 0
    }


def test_strict_scores(gold_pred):
    gold, pred = gold_pred
    m = score_entities([gold], [pred])
    # strict: tp = Aspirin, chest pain; fp = headache/SYM, diabetes/MED;
    # fn = severe headache/SYM, diabetes/DIS
    assert {k: m["micro"][k] for k in ("tp", "fp", "fn", "support")} == {
        "tp": 2, "fp": 2, "fn": 2, "support": 4
    }
    assert m["micro"]["p"] == pytest.approx(0.5)
    assert m["micro"]["r"] == pytest.approx(0.5)
    assert m["micro"]["f"] == pytest.approx(0.5)
    per = m["per_label"]
    assert sorted(per) == ["DIS", "MED", "SYM"]
    assert (per["MED"]["tp"], per["MED"]["fp"], per["MED"]["fn"]) == (1, 1, 0)
    assert per["MED"]["p"] == pytest.approx(0.5) and per["MED"]["r"] == 1.0
    assert per["MED"]["f"] == pytest.approx(2 / 3)
    assert (per["SYM"]["tp"], per["SYM"]["fp"], per["SYM"]["fn"]) == (1, 1, 1)
    assert per["SYM"]["f"] == pytest.approx(0.5)
    assert (per["DIS"]["tp"], per["DIS"]["fp"], per["DIS"]["fn"]) == (0, 0, 1)
    assert per["DIS"]["p"] == 0.0 and per["DIS"]["r"] == 0.0 and per["DIS"]["f"] == 0.0
    assert m["n_docs"] == 1


def test_lenient_counts_overlap_with_same_label(gold_pred):
    gold, pred = gold_pred
    m = score_entities([gold], [pred])
    lenient = m["lenient"]
    # "headache" overlaps "severe headache" (SYM) -> tp; diabetes has the wrong label.
    assert (lenient["micro"]["tp"], lenient["micro"]["fp"], lenient["micro"]["fn"]) == (3, 1, 1)
    assert lenient["micro"]["p"] == pytest.approx(0.75)
    assert lenient["micro"]["f"] == pytest.approx(0.75)
    assert lenient["per_label"]["SYM"]["f"] == 1.0
    assert m["micro"]["f"] < lenient["micro"]["f"]


def test_lenient_is_one_to_one():
    gold = {(0, 5, "A"), (6, 10, "A")}
    pred = {(0, 10, "A")}
    assert count_entities(gold, pred, mode="lenient") == {"A": {"tp": 1, "fp": 0, "fn": 1}}
    assert count_entities(pred, gold, mode="lenient") == {"A": {"tp": 1, "fp": 1, "fn": 0}}
    # Greedy-by-start would pair (2, 5) with (0, 3) and miss a match; the sweep finds 2.
    gold = {(0, 3, "A"), (4, 8, "A")}
    pred = {(2, 5, "A"), (6, 7, "A")}
    assert count_entities(gold, pred, mode="lenient")["A"]["tp"] == 2
    # Touching spans do not overlap.
    assert count_entities({(0, 3, "A")}, {(3, 5, "A")}, mode="lenient")["A"]["tp"] == 0


def _disjoint_spans(cuts: list[int]) -> set[tuple[int, int, str]]:
    """Pair sorted distinct cut points into disjoint spans, like doc.ents."""
    cuts = sorted(set(cuts))
    return {(cuts[i], cuts[i + 1], "A") for i in range(0, len(cuts) - 1, 2)}


def _max_matching(gold, pred) -> int:
    """Brute-force maximum bipartite matching of overlapping spans (augmenting paths)."""
    gold, pred = sorted(gold), sorted(pred)
    match: dict[int, int] = {}

    def augment(g: int, seen: set[int]) -> bool:
        for p, (ps, pe, _) in enumerate(pred):
            if p not in seen and gold[g][0] < pe and ps < gold[g][1]:
                seen.add(p)
                if p not in match or augment(match[p], seen):
                    match[p] = g
                    return True
        return False

    return sum(augment(g, set()) for g in range(len(gold)))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 30), max_size=12),
    st.lists(st.integers(0, 30), max_size=12),
)
def test_lenient_matching_is_maximal(gold_cuts, pred_cuts):
    gold, pred = _disjoint_spans(gold_cuts), _disjoint_spans(pred_cuts)
    counts = count_entities(gold, pred, mode="lenient").get("A", {"tp": 0})
    assert counts["tp"] == _max_matching(gold, pred)
    strict = count_entities(gold, pred, mode="strict").get("A", {"tp": 0})
    assert strict["tp"] <= counts["tp"]


def test_label_filter(gold_pred):
    gold, pred = gold_pred
    m = score_entities([gold], [pred], labels=["SYM", "PROC"])
    assert list(m["per_label"]) == ["SYM", "PROC"]
    assert (m["micro"]["tp"], m["micro"]["fp"], m["micro"]["fn"]) == (1, 1, 1)
    assert m["per_label"]["PROC"] == prf(tp=0, fp=0, fn=0)
    assert list(m["lenient"]["per_label"]) == ["SYM", "PROC"]
    assert m["lenient"]["micro"]["tp"] == 2


def test_tokenization_independent(nlp):
    text = "pain in left-knee, hypertension."
    gold = make_doc(nlp, text, [("left-knee", "SYM"), ("hypertension", "DIS")])
    # Same text, but "hypertension" is two tokens here, so token offsets differ.
    words = ["pain", "in", "left", "-", "knee", ",", "hyper", "tension", "."]
    spaces = [True, True, False, False, False, True, False, False, False]
    pred = Doc(nlp.vocab, words=words, spaces=spaces)
    assert pred.text == text and len(pred) != len(gold)
    pred.ents = [
        pred.char_span(8, 17, label="SYM"),
        pred.char_span(19, 31, label="DIS"),
    ]
    m = score_entities([gold], [pred])
    assert (m["micro"]["tp"], m["micro"]["fp"], m["micro"]["fn"]) == (2, 0, 0)
    assert m["micro"]["f"] == 1.0


def test_multiple_docs_and_doc_counts(nlp, gold_pred):
    gold, pred = gold_pred
    empty_gold = nlp("nothing here")
    extra = make_doc(nlp, "nothing here", [("here", "MED")])
    m = score_entities([gold, empty_gold], [pred, extra])
    assert m["n_docs"] == 2
    assert m["per_label"]["MED"]["fp"] == 2
    assert len(m["doc_counts"]) == 2
    assert m["doc_counts"][1]["strict"] == {"MED": {"tp": 0, "fp": 1, "fn": 0}}
    # Aggregating the per-doc counts reproduces the totals.
    again = aggregate_counts(c["strict"] for c in m["doc_counts"])
    assert again["micro"] == m["micro"]
    assert again["per_label"] == m["per_label"]


def test_text_mismatch_names_doc_index(nlp):
    gold = [nlp("same text"), nlp("gold text")]
    pred = [nlp("same text"), nlp("other text")]
    with pytest.raises(ClinkdError, match="index 1"):
        score_entities(gold, pred)


def test_length_mismatch(nlp):
    with pytest.raises(ClinkdError, match="1 gold docs but 2 predicted"):
        score_entities([nlp("a")], [nlp("a"), nlp("b")])


def test_empty_input():
    m = score_entities([], [])
    assert m["n_docs"] == 0
    assert m["micro"]["f"] == 0.0 and m["per_label"] == {}


def test_remap_entities(gold_pred):
    _, pred = gold_pred
    remap_entities(pred, {"SYM": "SYMPTOM", "MED": "MEDICATION"})
    assert [(e.text, e.label_) for e in pred.ents] == [
        ("Aspirin", "MEDICATION"),
        ("chest pain", "SYMPTOM"),
        ("headache", "SYMPTOM"),
        ("diabetes", "MEDICATION"),
    ]
    remap_entities(pred, {"SYMPTOM": "SYMPTOM"})
    assert [e.text for e in pred.ents] == ["chest pain", "headache"]
