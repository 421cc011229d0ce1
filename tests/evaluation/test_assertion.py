"""Assertion scores: per class on gold entities, and end to end (span, label, assertion)."""
import pytest
from spacy.tokens import Span

from spacy_clinkd.corpora.spans import ASSERTIONS
from spacy_clinkd.evaluation.assertion import assertions_on_gold, score_assertions, score_end_to_end
from spacy_clinkd.pipeline.assertion import register_extensions
from spacy_clinkd.tokenizer import clinical_blank


def test_per_class_scores_are_one_vs_rest():
    pairs = [("absent", "absent"), ("absent", "present"), ("present", "absent"), ("present", "present"),
             ("present", "present"), ("possible", "present")]
    scores = score_assertions(pairs)
    absent = scores["per_class"]["absent"]
    assert (absent["tp"], absent["fp"], absent["fn"]) == (1, 1, 1)
    present = scores["per_class"]["present"]
    assert (present["tp"], present["fp"], present["fn"]) == (2, 2, 1)
    assert scores["per_class"]["possible"]["f"] == 0.0
    assert scores["accuracy"] == pytest.approx(3 / 6)
    assert scores["confusion"]["possible"]["present"] == 1


def gold_doc(nlp):
    doc = nlp.make_doc("No fever . Cough and pain .")
    doc.ents = [Span(doc, 1, 2, "SYMPTOM"), Span(doc, 3, 4, "SYMPTOM"), Span(doc, 5, 6, "SYMPTOM")]
    doc.user_data[ASSERTIONS] = [[3, 8, "absent"], [11, 16, "present"], [21, 25, "possible"]]
    return doc


def test_end_to_end_needs_the_assertion_right_too():
    register_extensions()
    nlp = clinical_blank()
    gold = gold_doc(nlp)
    pred = nlp.make_doc(gold.text)
    pred.ents = [Span(pred, 1, 2, "SYMPTOM"), Span(pred, 3, 4, "SYMPTOM"), Span(pred, 5, 6, "DISEASE")]
    for ent, value in zip(pred.ents, ["absent", "absent", "possible"]):
        ent._.assertion = value
    scores = score_end_to_end([gold], [pred])
    # fever right; cough has the right span but the wrong assertion; pain the wrong label
    assert (scores["micro"]["tp"], scores["micro"]["fp"], scores["micro"]["fn"]) == (1, 2, 2)
    assert scores["per_class"]["absent"]["tp"] == 1 and scores["per_class"]["absent"]["fp"] == 1


def test_on_gold_runs_the_assertion_on_the_gold_entities_not_the_ner():
    nlp = clinical_blank()
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "SYMPTOM", "pattern": "and"}])  # a wrong NER
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion")
    pairs = assertions_on_gold(nlp, [gold_doc(clinical_blank())])
    assert pairs == [("absent", "absent"), ("present", "present"), ("possible", "present")]


def test_contexts_are_scored_per_category_on_gold_entities():
    from spacy_clinkd.corpora.spans import CONTEXTS
    from spacy_clinkd.evaluation.assertion import score_contexts, statuses_on_gold

    nlp = clinical_blank()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion")
    text = "History of asthma. Her mother had diabetes. Cough today. Old stroke."
    gold = nlp.make_doc(text)
    gold.ents = [gold.char_span(text.index(w), text.index(w) + len(w), label="DISEASE")
                 for w in ("asthma", "diabetes", "Cough", "stroke")]
    # gold: asthma historical (found), diabetes historical (missed: the rules say family), stroke historical (missed)
    gold.user_data[CONTEXTS] = [[e.start_char, e.end_char, ctx] for e, ctx in zip(gold.ents, [["historical"], ["historical"], [], ["historical"]])]
    statuses = statuses_on_gold(nlp, [gold])
    assert [context for _, context in statuses] == [
        (frozenset({"historical"}), frozenset({"historical"})),
        (frozenset({"historical"}), frozenset({"family"})),
        (frozenset(), frozenset()),
        (frozenset({"historical"}), frozenset()),
    ]
    scores = score_contexts([[context for _, context in statuses]], bootstrap=20)
    hist, family = scores["per_class"]["historical"], scores["per_class"]["family"]
    assert (hist["tp"], hist["fp"], hist["fn"], hist["support"]) == (1, 0, 2, 3)
    assert (family["tp"], family["fp"], family["fn"]) == (0, 1, 0)
    assert scores["n"] == 4 and set(scores["bootstrap"]["per_class"]) == {"historical", "hypothetical", "family"}
    # a doc without gold contexts is not scored for them
    assert score_contexts([[(None, frozenset({"family"}))]])["per_class"]["family"]["fp"] == 0
