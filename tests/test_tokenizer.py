import pytest

from spacy_clinkd.tokenizer import clinical_blank


@pytest.fixture(scope="module")
def nlp():
    return clinical_blank()


@pytest.mark.parametrize(
    "text,tokens",
    [
        ("5mg", ["5", "mg"]),
        ("10mg/kg", ["10", "mg", "/", "kg"]),
        ("aspirin/clopidogrel", ["aspirin", "/", "clopidogrel"]),
        ("BP 120/80", ["BP", "120", "/", "80"]),
        ("pt(3)", ["pt", "(", "3", ")"]),
        ("a\u200bb", ["a", "\u200b", "b"]),
        ("HbA1c", ["HbA1c"]),
        ("T2-weighted", ["T2", "-", "weighted"]),
    ],
)
def test_clinical_infixes(nlp, text, tokens):
    assert [t.text for t in nlp(text)] == tokens


def test_patterns_survive_serialization(nlp, tmp_path):
    import spacy

    nlp.to_disk(tmp_path / "blank")
    loaded = spacy.load(tmp_path / "blank")
    assert [t.text for t in loaded("5mg/day")] == ["5", "mg", "/", "day"]


@pytest.mark.hostile
@pytest.mark.parametrize(
    "text,tokens",
    [
        ("\u200bfever", ["\u200b", "fever"]),
        ("fever\u200b", ["fever", "\u200b"]),
        ("\ufeffFever today", ["\ufeff", "Fever", "today"]),
        ("fever\u2060.", ["fever", "\u2060", "."]),
        ("\u200b\u200bfever\u200b\u200b", ["\u200b", "\u200b", "fever", "\u200b", "\u200b"]),
        ("(\u200bfever)", ["(", "\u200b", "fever", ")"]),
    ],
)
def test_zero_width_characters_are_split_off_at_token_edges(nlp, text, tokens):
    assert [t.text for t in nlp(text)] == tokens


@pytest.mark.hostile
def test_v1_keeps_its_behaviour():
    # A published v1 never changes: pipelines trained with it tokenize alike.
    import spacy

    v1 = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}})
    assert [t.text for t in v1("\u200bfever a\u200bb")] == ["\u200bfever", "a", "\u200b", "b"]


@pytest.mark.hostile
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_lone_surrogates_become_replacement_characters(version):
    import pickle

    import spacy

    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": f"clinkd.clinical_tokenizer.{version}"}}})
    text = "fever \ud800 cough\udfff"
    doc = nlp(text)
    assert doc.text == "fever \ufffd cough\ufffd" and len(doc.text) == len(text)
    # U+FFFD is a symbol: a token of its own, as spaCy splits symbols off words
    assert [t.text for t in doc] == ["fever", "\ufffd", "cough", "\ufffd"]
    # the tokenizer that does this survives pickling (nlp.pipe(n_process=2))
    assert pickle.loads(pickle.dumps(nlp.tokenizer))("\ud800").text == "\ufffd"


@pytest.mark.hostile
def test_v2_patterns_survive_serialization(nlp, tmp_path):
    import spacy

    nlp.to_disk(tmp_path / "blank")
    loaded = spacy.load(tmp_path / "blank")
    assert [t.text for t in loaded("\u200bfever\u200b")] == ["\u200b", "fever", "\u200b"]
