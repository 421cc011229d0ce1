"""Hostile CoNLL and PubTator input: BOMs, whitespace in tokens and tags, lone
"\\r" line ends, offsets that are not ASCII digits, duplicate PMIDs, surface
mismatches, streaming in bounded memory."""
import zlib

import pytest
from spacy.tokens import DocBin

from spacy_clinkd.corpora.conll import parse_conll
from spacy_clinkd.corpora.conversion_report import ConversionReport
from spacy_clinkd.corpora.convert import convert_file, make_docs
from spacy_clinkd.corpora.pubtator import parse_pubtator
from spacy_clinkd.corpora.textio import stream_docbin
from spacy_clinkd.errors import InputFileError
from tests.util import DATA_DIR, read_corpus

pytestmark = pytest.mark.hostile

LABELS = {"Chemical": "CHEMICAL", "Disease": "DISEASE"}


def conll(nlp, tmp_path, content: str, **kwargs):
    path = tmp_path / "x.bio"
    path.write_bytes(content.encode("utf8"))
    return read_corpus(parse_conll, path, nlp, LABELS, **kwargs)


def test_bom_before_docstart_keeps_the_document_boundary(nlp, tmp_path):
    docs, _ = conll(nlp, tmp_path, "\ufeff-DOCSTART-\tO\n\nAspirin\tB-Chemical\n", n_sents=5)
    assert [d.text for d in docs] == ["Aspirin"]
    assert [e.text for e in docs[0].ents] == ["Aspirin"]


def test_bom_before_the_first_token_is_not_part_of_it(nlp, tmp_path):
    docs, _ = conll(nlp, tmp_path, "\ufeffAspirin\tB-Chemical\ncaused\tO\n")
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Aspirin", "CHEMICAL")]


@pytest.mark.parametrize(
    "line,fragment",
    [
        ("fever \tB-Disease", "The token 'fever ' holds whitespace"),
        ("\u00a0\tB-Disease", "The token '\\xa0' holds whitespace"),
        ("\u200b\tB-Disease", "The token '\\u200b' holds whitespace"),
        ("fever\tB-Disease ", "The tag 'B-Disease ' holds whitespace"),
        ("fever\tB-Dis\u00a0ease", "The tag 'B-Dis\\xa0ease' holds whitespace"),
    ],
    ids=["trailing-space", "nbsp-only", "zero-width-only", "tag-trailing-space", "tag-nbsp"],
)
def test_whitespace_in_tokens_and_tags_is_an_error(nlp, tmp_path, line, fragment):
    with pytest.raises(InputFileError) as exc:
        conll(nlp, tmp_path, f"No\tO\n{line}\n")
    assert exc.value.line == 2
    assert fragment in str(exc.value)


def test_cr_only_conll_file(nlp, tmp_path):
    docs, report = conll(nlp, tmp_path, "Aspirin\tB-Chemical\rcaused\tO\r\rNo\tO\rfever\tB-Disease\r")
    assert [d.text for d in docs] == ["Aspirin caused", "No fever"]
    assert report.kept == {"test": {"CHEMICAL": 1, "DISEASE": 1}}
    assert report.notes == []


def test_mixed_line_ends_in_conll_are_noted(nlp, tmp_path):
    docs, report = conll(nlp, tmp_path, "Aspirin\tB-Chemical\r\ncaused\tO\n\nNo\tO\r")
    assert [d.text for d in docs] == ["Aspirin caused", "No"]
    assert len(report.notes) == 1 and "mixed line ends (\\n 2, \\r 1, \\r\\n 1)" in report.notes[0]


def test_conll_is_read_one_doc_at_a_time(nlp, tmp_path):
    # A streaming reader hands out the first Doc before it reaches the bad
    # line at the end; a reader that holds the whole file fails first.
    path = tmp_path / "x.bio"
    path.write_text("Aspirin\tB-Chemical\n\n" + "No\tO\n\n" * 1000 + "bad line\n", encoding="utf8")
    report = ConversionReport()
    docs = make_docs(parse_conll(path, report), nlp=nlp, label_map=LABELS, report=report, split="test")
    assert next(docs).text == "Aspirin"
    with pytest.raises(InputFileError, match=r"x\.bio:2003: Expected 2 tab-separated columns"):
        list(docs)


def test_streamed_docbin_is_what_docbin_writes(tmp_path):
    # stream_docbin packs DocBin's message piece by piece: byte for byte the
    # message DocBin.to_bytes packs, or DocBin.from_disk could not read it.
    docbin = DocBin(store_user_data=True).from_disk(_convert_sample(tmp_path))
    stream_docbin(docbin, tmp_path / "streamed.spacy")
    streamed = zlib.decompress((tmp_path / "streamed.spacy").read_bytes())
    assert streamed == zlib.decompress(docbin.to_bytes())
    empty = DocBin(store_user_data=True)
    stream_docbin(empty, tmp_path / "empty.spacy")
    assert zlib.decompress((tmp_path / "empty.spacy").read_bytes()) == zlib.decompress(empty.to_bytes())


def _convert_sample(tmp_path):
    out = tmp_path / "sample.spacy"
    sample = DATA_DIR / "corpora" / "conll" / "sample.tsv"
    convert_file(parse_conll, sample, out, labels_path=DATA_DIR / "corpora" / "brat_labels.json")
    return out


HEAD = "1|t|Fever.\n1|a|Mild cough.\n"


def pubtator(nlp, tmp_path, content: str | bytes, **kwargs):
    path = tmp_path / "x.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf8"))
    return read_corpus(parse_pubtator, path, nlp, LABELS, **kwargs)


def test_cr_only_pubtator_file(nlp, tmp_path):
    content = (HEAD + "1\t0\t5\tFever\tDisease\tD1\n1\t12\t17\tcough\tDisease\tD2\n\n").replace("\n", "\r")
    docs, report = pubtator(nlp, tmp_path, content)
    assert [(e.text, e.label_) for e in docs[0].ents] == [("Fever", "DISEASE"), ("cough", "DISEASE")]
    assert report.kept == {"test": {"DISEASE": 2}}


def test_bom_before_the_first_pmid(nlp, tmp_path):
    docs, _ = pubtator(nlp, tmp_path, "\ufeff" + HEAD + "1\t0\t5\tFever\tDisease\tD1\n")
    assert docs[0].user_data["doc_id"] == "1"
    assert [e.text for e in docs[0].ents] == ["Fever"]


@pytest.mark.parametrize("offset", ["²", "٥", "+5"])
def test_pubtator_offsets_are_ascii_digits_only(nlp, tmp_path, offset):
    with pytest.raises(InputFileError, match=r"x\.txt:3: Bad PubTator line \(non-integer end offset"):
        pubtator(nlp, tmp_path, HEAD + f"1\t0\t{offset}\tFever\tDisease\tD1\n")


def test_pubtator_surface_mismatch_is_dropped(nlp, tmp_path):
    # UTF-8 byte offsets: "fever" is at characters 6-11 but bytes 11-16.
    content = "1|t|ééééé fever today\n1\t11\t16\tfever\tDisease\tD1\n"
    docs, report = pubtator(nlp, tmp_path, content)
    assert list(docs[0].ents) == []
    assert report.dropped == {"surface_mismatch": {"Disease": 1}}
    with pytest.raises(InputFileError, match=r"x\.txt:2: The surface text 'fever' differs from the text at 11-16, ' toda'"):
        pubtator(nlp, tmp_path, content, strict=True)


def test_duplicate_pmids_are_reported(nlp, tmp_path):
    content = HEAD + "\n" + HEAD
    docs, report = pubtator(nlp, tmp_path, content)
    assert [d.user_data["doc_id"] for d in docs] == ["1", "1"]
    assert report.notes == [f"{tmp_path / 'x.txt'}:4: PMID '1' was already used by the document on line 1."]
    with pytest.raises(InputFileError, match=r"x\.txt:4: PMID '1' was already used"):
        pubtator(nlp, tmp_path, content, strict=True)
