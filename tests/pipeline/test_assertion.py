"""clinkd_assertion: negation and uncertainty cues, scope, serialization, pickling."""
import pickle

import pytest
import spacy
from spacy.tokens import Span

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.pipeline.assertion import add_assertion
from spacy_clinkd.tokenizer import clinical_blank


@pytest.fixture(scope="module")
def nlp():
    nlp = clinical_blank()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion")
    return nlp


def annotate(nlp, text, words):
    """Mark each of `words` (first occurrence) as an entity, run the pipeline,
    return word → assertion."""
    doc = nlp.make_doc(text)
    ents = []
    for word in words:
        start = text.index(word)
        ents.append(doc.char_span(start, start + len(word), label="X"))
    doc.ents = ents
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    return {e.text: e._.assertion for e in doc.ents}


def test_the_issue_example_is_negated(nlp):
    text = "She denies chest pain or fever. No history of diabetes."
    assert annotate(nlp, text, ["pain", "fever", "diabetes"]) == {
        "pain": "absent", "fever": "absent", "diabetes": "absent"
    }


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Fever and cough.", {"Fever": "present", "cough": "present"}),
        ("No fever, but cough.", {"fever": "absent", "cough": "present"}),  # termination
        ("No fever. Cough persists.", {"fever": "absent", "Cough": "present"}),  # sentence
        ("No fever\ncough since Monday", {"fever": "absent", "cough": "present"}),  # line break
        ("Pneumonia was ruled out; cough.", {"Pneumonia": "absent", "cough": "present"}),  # following
        ("Possible pneumonia and cough.", {"pneumonia": "possible", "cough": "possible"}),
        ("Suspected pneumonia", {"pneumonia": "possible"}),
        ("Pneumonia was suspected.", {"Pneumonia": "possible"}),
        ("No change in pain.", {"pain": "present"}),  # pseudo-negation
        ("Cannot rule out pneumonia.", {"pneumonia": "possible"}),  # hedged negation
        # MACCROBAT train's second pass: "non-" is no negation cue
        ("Discharged on non-selective beta blockade.", {"beta blockade": "present"}),
        ("CT excluded pulmonary embolism.", {"pulmonary embolism": "absent"}),
        ("Sepsis had to be excluded.", {"Sepsis": "absent"}),
        ("Normal troponin, ruling out acute coronary syndrome.", {"acute coronary syndrome": "absent"}),
        ("Chest radiography showed resolution of pulmonary oedema.", {"pulmonary oedema": "absent"}),
        ("The bedtime dose of levodopa was held.", {"levodopa": "absent"}),
    ],
)
def test_cues_and_scopes(nlp, text, expected):
    assert annotate(nlp, text, list(expected)) == expected


def test_negated_follows_the_assertion(nlp):
    doc = nlp.make_doc("no fever but cough")
    doc.ents = [Span(doc, 1, 2, "X"), Span(doc, 3, 4, "X")]
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    assert [e._.negated for e in doc.ents] == [True, False]
    assert nlp("no fever").ents == ()  # empty: no entities, no error
    assert nlp("").ents == ()


def test_terms_round_trip_with_the_pipeline(tmp_path):
    nlp = clinical_blank()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion", config={"extra_terms": {"negation_preceding": ["nope"]}})
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert annotate(loaded, "nope fever", ["fever"]) == {"fever": "absent"}
    assert annotate(nlp, "nope fever", ["fever"]) == {"fever": "absent"}
    component = loaded.get_pipe("clinkd_assertion")
    assert "nope" in component.terms["negation_preceding"]
    copy = pickle.loads(pickle.dumps(component))  # spaCy's worker processes pickle it
    assert copy.terms == component.terms
    fresh = clinical_blank().add_pipe("clinkd_assertion")
    fresh.from_bytes(component.to_bytes())
    assert "nope" in fresh.terms["negation_preceding"]


def test_bad_terms_are_refused():
    with pytest.raises(ClinkdError, match="Unknown assertion cue category"):
        clinical_blank().add_pipe("clinkd_assertion", config={"extra_terms": {"negations": ["no"]}})
    with pytest.raises(ClinkdError, match="non-empty strings"):
        clinical_blank().add_pipe("clinkd_assertion", config={"extra_terms": {"pseudo": [""]}})


def test_add_assertion_places_sentences_and_assertion_after_the_ner():
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler", name="clinkd_ner").add_patterns([{"label": "S", "pattern": "fever"}])
    add_assertion(nlp)
    assert nlp.pipe_names == ["clinkd_ner", "sentencizer", "clinkd_assertion"]
    assert [(e.text, e._.assertion) for e in nlp("Denies fever. Has fever.").ents] == [
        ("fever", "absent"), ("fever", "present")
    ]
    with pytest.raises(ClinkdError, match="no component 'ner'"):
        add_assertion(spacy.blank("en"), after="ner")


def contexts(nlp, text, words):
    """Mark each of `words` as an entity, run the pipeline, return word →
    (assertion, the ConText attributes that are True)."""
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(text.index(w), text.index(w) + len(w), label="X") for w in words]
    for _, proc in nlp.pipeline:
        doc = proc(doc)
    attrs = ("is_historical", "is_hypothetical", "is_family")
    return {e.text: (e._.assertion, {a for a in attrs if e._.get(a)}) for e in doc.ents}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("History of asthma, now with cough.", {"asthma": ("present", {"is_historical"}), "cough": ("present", set())}),
        ("Asthma 5 years ago; fever today.", {"Asthma": ("present", {"is_historical"}), "fever": ("present", set())}),
        ("No history of asthma.", {"asthma": ("absent", set())}),  # the longer negation cue wins
        ("Her mother had breast cancer.", {"breast cancer": ("present", {"is_family"})}),
        ("Family history of diabetes.", {"diabetes": ("present", {"is_family"})}),
        ("Return if fever recurs.", {"fever": ("present", {"is_hypothetical"})}),
        ("Fever began prior to admission.", {"Fever": ("present", set())}),  # "prior to" is pseudo
        # a termination cue ends the scope: the cough is the patient's, now
        ("A history of asthma who presented with cough.", {"asthma": ("present", {"is_historical"}), "cough": ("present", set())}),
        # beyond context_window (8) tokens the cue no longer reaches
        ("History of one two three four five six seven eight nine asthma.", {"asthma": ("present", set())}),
    ],
)
def test_context_categories(nlp, text, expected):
    assert contexts(nlp, text, list(expected)) == expected


def test_context_attributes_are_medspacys_and_reuse_a_registered_one(nlp):
    from spacy_clinkd.pipeline.assertion import CONTEXT_ATTRS, register_extensions

    assert set(CONTEXT_ATTRS.values()) == {"is_historical", "is_hypothetical", "is_family"}
    assert {f"span._.{a}" for a in CONTEXT_ATTRS.values()} <= set(nlp.get_pipe_meta("clinkd_assertion").assigns)
    register_extensions()  # again, as after medspaCy registered them: no error, same extension
    doc = nlp.make_doc("cough")
    assert Span(doc, 0, 1)._.is_family is False


def save_as_before_contexts(path, old_pseudo=None):
    """Save a rules pipeline with the cfg.json of a pipeline saved before the ConText
    categories: no historical / hypothetical / family terms, no context_window, and
    `old_pseudo` as its pseudo cues (None: today's). RETURNS (Language): the pipeline saved."""
    import srsly

    nlp = clinical_blank()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("clinkd_assertion")
    nlp.to_disk(path)
    cfg_path = path / "clinkd_assertion" / "cfg.json"
    cfg = srsly.read_json(cfg_path)
    terms = {c: t for c, t in cfg["terms"].items() if c.split("_")[0] in ("negation", "possible", "pseudo", "termination")}
    if old_pseudo is not None:
        terms["pseudo"] = old_pseudo(terms["pseudo"])
    srsly.write_json(cfg_path, {"terms": terms, "window": cfg["window"], "possible_window": cfg["possible_window"]})
    return nlp


def test_a_pipeline_saved_before_the_context_categories_gets_their_defaults(tmp_path):
    save_as_before_contexts(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert loaded.get_pipe("clinkd_assertion").context_window == 8
    assert contexts(loaded, "Denies fever. History of asthma.", ["fever", "asthma"]) == {
        "fever": ("absent", set()), "asthma": ("present", {"is_historical"})
    }


def test_a_pipeline_saved_before_the_context_categories_gets_the_pseudo_cues_that_guard_them(tmp_path):
    # the lists as saved before the ConText categories: no "prior to", "3-week history of" pseudo cues
    nlp = save_as_before_contexts(
        tmp_path / "p",
        lambda pseudo: [t for t in pseudo if not t.startswith(("prior", "previous")) and "history of" not in t],
    )
    config = {"components": {"clinkd_assertion": {"extra_terms": {"family_preceding": ["stepmother"]}}}}
    loaded = spacy.load(tmp_path / "p", config=config)
    # the historical cues it gets come with the pseudo cues that keep the present out of the past
    for text, word in [("Prior to admission, she had fever.", "fever"), ("A 3-week history of cough.", "cough")]:
        assert contexts(loaded, text, [word]) == contexts(nlp, text, [word]) == {word: ("present", set())}
    assert contexts(loaded, "No change in pain.", ["pain"]) == {"pain": ("present", set())}  # its own pseudo cues stay
    assert contexts(loaded, "Her stepmother had asthma.", ["asthma"]) == {"asthma": ("present", {"is_family"})}
