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
