"""PubTator reader."""
import pytest

from spacy_clinkd.corpora.conversion_report import ConversionReport
from spacy_clinkd.corpora.labels import load_label_map
from spacy_clinkd.corpora.pubtator import iter_pubtator, parse_pubtator
from spacy_clinkd.errors import InputFileError
from tests.util import BC5CDR_LABELS, CORPORA_DATA, PUBTATOR_SAMPLE_ENTS, assert_malformed, read_corpus

SAMPLE = CORPORA_DATA / "pubtator" / "sample.txt"


def read(nlp, path=SAMPLE, **kwargs):
    return read_corpus(parse_pubtator, path, nlp, load_label_map(BC5CDR_LABELS), **kwargs)


def test_read(nlp):
    docs, report = read(nlp)
    assert [d.user_data["doc_id"] for d in docs] == ["111", "222"]
    assert docs[0].text == (
        "Aspirin induced fever and renal failure. Fever was treated with 5mg heparin/warfarin."
    )
    assert docs[1].text == "No findings. Nothing to report."
    assert [(e.text, e.label_) for e in docs[0].ents] == PUBTATOR_SAMPLE_ENTS
    assert list(docs[1].ents) == []
    assert report.to_dict() == {
        "source": "",
        "docs": {"test": 2},
        "kept": {"test": {"CHEMICAL": 2, "DISEASE": 3}},
        "dropped": {
            "overlap": {"Disease": 1},
            "surface_mismatch": {"Chemical": 1},
            "unmapped_label": {"Dosage": 1},
        },
        "adjusted": {"expanded_to_token_boundaries": {"Disease": 1}},
        "skipped": {"CID": 2},
        "notes": [],
    }


def test_composite_mention_has_seven_columns():
    docs = list(iter_pubtator(SAMPLE, report=ConversionReport()))
    assert [(m.start, m.end, m.corpus_type) for m in docs[0].mentions][2] == (26, 39, "Disease")


def test_limit(nlp):
    docs, report = read(nlp, limit=1)
    assert [d.user_data["doc_id"] for d in docs] == ["111"]
    assert report.docs == {"test": 1}
    assert report.skipped == {"CID": 1}


HEAD = "1|t|Fever.\n1|a|Mild.\n"


@pytest.mark.parametrize(
    "content,line,fragment",
    [
        (HEAD + "1\t0\t5\tFever\tDisease\tD1\n1\t7\t13\tMild.\tDisease\tD1\n", 4, "Span 7-13 is beyond the end"),
        (HEAD + "1\t0\tx\tFever\tDisease\tD1\n", 3, "non-integer end offset"),
        (HEAD + "1\t-1\t5\tFever\tDisease\tD1\n", 3, "non-integer start offset"),
        (HEAD + "1\t12a\t15\tFever\tDisease\tD1\n", 3, "non-integer start offset"),
        (HEAD + "1\t5\t0\tFever\tDisease\tD1\n", 3, "start 5 > end 0"),
        (HEAD + "1\t0\t5\tFever\n", 3, "mention with 4 columns"),
        (HEAD + "2\t0\t5\tFever\tDisease\tD1\n", 3, "annotation without a title line of the same PMID"),
        ("\n1|a|Mild.\n", 2, "abstract without a title line"),
        (HEAD + "1\t0\t5\tFever\tDisease\tD1\n1|a|again\n", 4, "second abstract"),
        (HEAD + "just text\n", 3, "neither a title/abstract line nor tab-separated"),
    ],
)
def test_malformed(tmp_path, nlp, content, line, fragment):
    assert_malformed(parse_pubtator, tmp_path / "bad.txt", content, line=line, fragment=fragment, nlp=nlp)


def test_non_utf8(tmp_path, nlp):
    path = tmp_path / "bad.txt"
    path.write_bytes(HEAD.encode("utf8") + b"1\t0\t5\tF\xc3ver\tDisease\tD1\n")
    with pytest.raises(InputFileError, match=r"bad\.txt:3: Not valid UTF-8 \(byte 0xc3 at column 8\)"):
        read(nlp, path)
