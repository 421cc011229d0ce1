"""annotate's records: one entity dict per `doc.ents`, assertion and ConText categories included."""
import spacy

from spacy_clinkd.annotate.records import doc_record
from spacy_clinkd.pipeline.assertion import add_assertion


def ruler_pipeline():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="clinkd_ner")
    ruler.add_patterns([{"label": "DISEASE", "pattern": w} for w in ("asthma", "diabetes", "fever", "bleeding")])
    return add_assertion(nlp)


def test_records_carry_the_assertion_and_context_of_each_entity():
    nlp = ruler_pipeline()
    text = "History of asthma. Her mother had diabetes. Denies fever. Return if bleeding."
    record = doc_record("n1", nlp(text))
    assert [(e["text"], e["assertion"], e["context"]) for e in record["entities"]] == [
        ("asthma", "present", ["historical"]),
        ("diabetes", "present", ["family"]),
        ("fever", "absent", []),
        ("bleeding", "present", ["hypothetical"]),
    ]
    assert all(text[e["start"] : e["end"]] == e["text"] for e in record["entities"])


def test_without_an_assertion_component_both_are_none():
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler", name="clinkd_ner").add_patterns([{"label": "DISEASE", "pattern": "asthma"}])
    [entity] = doc_record("n1", nlp("asthma"))["entities"]
    # the extensions are registered process-wide once any clinkd_assertion exists: the
    # record reads None because no component set them on this doc
    assert (entity["assertion"], entity["context"]) == (None, None)
