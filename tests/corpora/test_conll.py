"""CoNLL/BIO reader."""
import pytest

from spacy_clinkd.corpora.conll import parse_conll
from spacy_clinkd.corpora.labels import load_label_map
from spacy_clinkd.errors import InputFileError
from tests.util import BC5CDR_LABELS, CORPORA_DATA, assert_malformed, read_corpus


def read(nlp, path=CORPORA_DATA / "conll" / "sample.tsv", **kwargs):
    return read_corpus(parse_conll, path, nlp, load_label_map(BC5CDR_LABELS), **kwargs)


def test_one_doc_per_sentence(nlp):
    docs, report = read(nlp)
    assert [d.text for d in docs] == [
        "Aspirin caused severe renal failure .",
        "No fever .",
        "Heparin was stopped early .",
    ]
    assert [d.user_data["doc_id"] for d in docs] == ["sample.tsv:1", "sample.tsv:8", "sample.tsv:14"]
    assert [[(e.text, e.label_) for e in d.ents] for d in docs] == [
        [("Aspirin", "CHEMICAL"), ("renal failure", "DISEASE")],
        [("fever", "DISEASE")],
        [("Heparin", "CHEMICAL")],
    ]
    assert report.docs == {"test": 3}
    assert report.kept == {"test": {"CHEMICAL": 2, "DISEASE": 2}}
    assert report.dropped == {"unmapped_label": {"Other": 1}}


def test_group_sentences_not_across_docstart(nlp):
    docs, report = read(nlp, n_sents=5)
    assert [d.text for d in docs] == [
        "Aspirin caused severe renal failure . No fever .",
        "Heparin was stopped early .",
    ]
    assert [s.text for s in docs[0].sents] == ["Aspirin caused severe renal failure .", "No fever ."]
    assert [(e.text, e.start, e.end) for e in docs[0].ents] == [
        ("Aspirin", 0, 1),
        ("renal failure", 3, 5),
        ("fever", 7, 8),
    ]
    assert report.docs == {"test": 2}


def test_limit(nlp):
    docs, report = read(nlp, limit=2)
    assert [d.text for d in docs] == ["Aspirin caused severe renal failure .", "No fever ."]
    # the third sentence is not read at all: its entities are neither kept nor dropped
    assert report.docs == {"test": 2}
    assert report.kept == {"test": {"CHEMICAL": 1, "DISEASE": 2}}
    assert report.dropped == {}


@pytest.mark.parametrize(
    "content,line,fragment",
    [
        ("A\tO\nfever\tI-Disease\n", 2, "'I-Disease' does not continue a span of type 'Disease' (previous tag 'O')"),
        ("A\tB-Chemical\nfever\tI-Disease\n", 2, "previous tag 'B-Chemical'"),
        ("A\tB-Disease\n\nfever\tI-Disease\n", 3, "previous tag 'O'"),
        ("A\tO\nfever B-Disease\n", 2, "Expected 2 tab-separated columns (token, tag), found 1"),
        ("A\tO\n\nfever\tB-Disease\textra\n", 3, "found 3"),
        ("A\tO\nfever\tE-Disease\n", 2, "Unknown tag 'E-Disease'"),
        ("A\tO\n\tO\n", 2, "Empty token"),
    ],
)
def test_malformed(tmp_path, nlp, content, line, fragment):
    assert_malformed(parse_conll, tmp_path / "bad.tsv", content, line=line, fragment=fragment, nlp=nlp)


def test_non_utf8(tmp_path, nlp):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"A\tO\n\nB\tO\n\xe9\tO\n")
    with pytest.raises(InputFileError, match=r"bad\.tsv:4: Not valid UTF-8"):
        read(nlp, path)
