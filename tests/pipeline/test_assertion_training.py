"""Training the assertion classifier on gold entities, and the learned backend in a pipeline."""
import pytest
import spacy
from spacy.tokens import Span

from spacy_clinkd.corpora.spans import ASSERTIONS
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.pipeline.assertion import load_classifier
from spacy_clinkd.pipeline.assertion_training import (
    LinearSettings,
    TrainSettings,
    classify,
    entity_examples,
    train_classifier,
    train_linear,
)
from spacy_clinkd.tokenizer import clinical_blank

# "nix" is no cue of the rules: only a learned model can find these absent
TEXTS = [
    ("nix fever . she has cough .", [(1, 2, "absent"), (5, 6, "present")]),
    ("he has pain . nix rash .", [(2, 3, "present"), (5, 6, "absent")]),
    ("nix cough . he has fever .", [(1, 2, "absent"), (5, 6, "present")]),
    ("she has rash . nix pain .", [(2, 3, "present"), (5, 6, "absent")]),
]


def rules_pipeline(backend="rules"):
    nlp = clinical_blank()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion", config={"backend": backend})
    return nlp


def gold_docs(nlp):
    docs = []
    for text, ents in TEXTS:
        doc = nlp.make_doc(text)
        doc.ents = [Span(doc, s, e, label="SYMPTOM") for s, e, _ in ents]
        doc.user_data[ASSERTIONS] = [[doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), a] for s, e, a in ents]
        docs.append(doc)
    return docs


@pytest.fixture(scope="module")
def trained(tiny_bert):
    nlp = rules_pipeline()
    examples = [e for doc in entity_examples(nlp, gold_docs(nlp), window=4) for e in doc]
    settings = TrainSettings(epochs=40, learn_rate=1e-3, head_lr_factor=5.0, batch_size=4, warmup_steps=1, window=4)
    return train_classifier(str(tiny_bert), examples * 2, settings), examples


def test_examples_are_the_gold_entities_as_the_pipeline_sees_them():
    nlp = rules_pipeline()
    by_doc = entity_examples(nlp, gold_docs(nlp), window=4)
    assert [[e.gold for e in doc] for doc in by_doc] == [[a for _, _, a in ents] for _, ents in TEXTS]
    assert by_doc[0][0].rule == "present"  # the rules do not know "nix"
    # the sentencizer ran first: the context stops at the sentence
    assert by_doc[0][0].text == "present symptom : nix [E] fever [/E] ."


def test_the_classifier_learns_what_the_rules_miss(trained):
    model, examples = trained
    assert classify(model, examples) == [e.gold for e in examples]


def run_pipeline(pipeline, docs, batch_size=8):
    out = []
    for doc in docs:
        fresh = pipeline.make_doc(doc.text)
        fresh.ents = [fresh.char_span(e.start_char, e.end_char, label=e.label_) for e in doc.ents]
        out.append(fresh)
    with pipeline.select_pipes(enable=["sentencizer", "clinkd_assertion"]):
        return [[e._.assertion for e in d.ents] for d in pipeline.pipe(out, batch_size=batch_size)]


def check_saved_learned_pipeline(model, tmp_path):
    """A pipeline with `model` as its classifier: saved, loaded, batched, back to the rules, bytes."""
    nlp = rules_pipeline("learned")
    nlp.get_pipe("clinkd_assertion").classifier = model
    docs = gold_docs(nlp)
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert type(loaded.get_pipe("clinkd_assertion").classifier) is type(model)
    gold = [[a for _, _, a in ents] for _, ents in TEXTS]
    assert run_pipeline(loaded, docs) == gold
    assert run_pipeline(loaded, docs, batch_size=1) == gold  # batched as one, or doc by doc: the same
    # the rules stay one setting away
    rules = spacy.load(tmp_path / "p", config={"components": {"clinkd_assertion": {"backend": "rules"}}})
    assert run_pipeline(rules, docs) == [["present"] * 2] * 4
    # bytes round trip keeps the classifier
    copy = rules_pipeline("learned")
    copy.get_pipe("clinkd_assertion").from_bytes(loaded.get_pipe("clinkd_assertion").to_bytes())
    assert run_pipeline(copy, docs) == gold


def test_learned_backend_in_a_saved_pipeline(trained, tmp_path):
    model, _ = trained
    check_saved_learned_pipeline(model, tmp_path)


def test_linear_classifier_learns_what_the_rules_miss_and_ships_in_a_pipeline(tmp_path):
    nlp = rules_pipeline()
    examples = [e for doc in entity_examples(nlp, gold_docs(nlp), window=4, feature_window=2) for e in doc]
    assert "L:nix" in examples[0].features and "rule=present" in examples[0].features
    model = train_linear(examples, LinearSettings(window=2, l2=1e-3))
    assert classify(model, examples) == [e.gold for e in examples]
    model.save(tmp_path / "linear")
    assert type(load_classifier(tmp_path / "linear")) is type(model)
    check_saved_learned_pipeline(model, tmp_path)


def test_learned_backend_without_a_classifier_says_what_to_do():
    nlp = clinical_blank()
    nlp.add_pipe("clinkd_assertion", config={"backend": "learned"})
    doc = nlp.make_doc("no fever")
    doc.ents = [Span(doc, 1, 2, label="SYMPTOM")]
    with pytest.raises(ClinkdError, match="train-assertion"):
        nlp.get_pipe("clinkd_assertion")(doc)
    with pytest.raises(ClinkdError, match="Unknown assertion backend 'neural'"):
        clinical_blank().add_pipe("clinkd_assertion", config={"backend": "neural"})


def test_extra_terms_given_at_load_are_used(tmp_path):
    nlp = rules_pipeline()
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p", config={"components": {"clinkd_assertion": {"extra_terms": {"negation_preceding": ["nix"]}}}})
    doc = loaded.make_doc("nix fever .")
    doc.ents = [Span(doc, 1, 2, label="SYMPTOM")]
    with loaded.select_pipes(enable=["sentencizer", "clinkd_assertion"]):
        doc = loaded(doc)
    assert doc.ents[0]._.assertion == "absent"


def test_a_classifier_that_keeps_the_rules_hedges_in_a_batch_with_an_entityless_doc(tmp_path):
    """keep_rules ("possible",): the rules' hedge stands where the model learnt
    otherwise; a doc without entities in the batch does not shift the verdicts;
    the setting survives to_disk and to_bytes."""
    nlp = rules_pipeline()
    hedged = nlp.make_doc("possible fever . nix cough .")
    hedged.ents = [Span(hedged, 1, 2, label="SYMPTOM"), Span(hedged, 4, 5, label="SYMPTOM")]
    # gold says present: a model free to choose learns not to say "possible" after this cue
    hedged.user_data[ASSERTIONS] = [[9, 14, "present"], [21, 26, "absent"]]
    examples = [e for doc in entity_examples(nlp, [*gold_docs(nlp), hedged] * 3, window=4, feature_window=2) for e in doc]
    free = train_linear(examples, LinearSettings(window=2, l2=1e-3))
    kept = train_linear(examples, LinearSettings(window=2, l2=1e-3, keep_rules=("possible",)))
    hedged_example = examples[len(TEXTS) * 2]
    assert hedged_example.rule == "possible"
    assert classify(free, [hedged_example]) == ["present"] and classify(kept, [hedged_example]) == ["possible"]
    pipeline = rules_pipeline("learned")
    pipeline.get_pipe("clinkd_assertion").classifier = kept
    pipeline.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.get_pipe("clinkd_assertion").classifier.keep_rules == ("possible",)
    empty = nlp.make_doc("nothing here .")
    docs = [gold_docs(nlp)[0], empty, hedged, gold_docs(nlp)[1]]
    expected = [["absent", "present"], [], ["possible", "absent"], ["present", "absent"]]
    assert run_pipeline(loaded, docs) == expected and run_pipeline(loaded, docs, batch_size=1) == expected
    copy = rules_pipeline("learned")
    copy.get_pipe("clinkd_assertion").from_bytes(loaded.get_pipe("clinkd_assertion").to_bytes())
    assert copy.get_pipe("clinkd_assertion").classifier.keep_rules == ("possible",)
    assert run_pipeline(copy, docs) == expected
