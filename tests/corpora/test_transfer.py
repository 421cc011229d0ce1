"""Transfer texts: unlabelled notes read as chunked spaCy Examples."""
import json

import pytest

from spacy_clinkd.corpora.transfer import create_transfer_corpus, read_jsonl, read_texts
from spacy_clinkd.errors import ClinkdError, InputFileError
from spacy_clinkd.tokenizer import clinical_blank
from tests.util import DISTILLATION_DATA as DATA


@pytest.fixture
def nlp():
    return clinical_blank()


def test_read_texts_formats():
    assert len(list(read_texts(DATA / "transfer", pattern="*.txt"))) == 2
    csv_texts = list(read_texts(DATA / "notes.csv", column="note"))
    assert csv_texts == ["the patient has fever.\nno cough.", "took insulin, has diabetes."]
    assert list(read_texts(DATA / "notes.jsonl")) == ["chest pain with fever.", "denies cough."]
    folder = list(read_texts(DATA, pattern="notes*.csv", exclude="*_metadata.csv"))
    assert folder == csv_texts
    with pytest.raises(ClinkdError, match="no column 'text'"):
        list(read_texts(DATA / "notes.csv", column="text"))
    with pytest.raises(ClinkdError, match="no such file"):
        list(read_texts(DATA / "missing"))


def test_transfer_corpus_limits_and_chunks(nlp, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("the patient has fever and cough.\n" * 40, encoding="utf8")
    (folder / "b.txt").write_text("no chest pain.\n", encoding="utf8")
    examples = list(create_transfer_corpus(str(folder), pattern="*.txt", max_tokens=20)(nlp))
    # 40 lines of 8 tokens (the newline is one): two whole lines per chunk of
    # at most 20 tokens, so 20 chunks of a.txt, and b.txt whole.
    assert len(examples) == 21
    assert "".join(eg.predicted.text for eg in examples[:20]) == "the patient has fever and cough.\n" * 40
    assert all(0 < len(eg.predicted) <= 20 for eg in examples)
    assert all(set(eg.get_aligned_ner()) == {None} for eg in examples)  # no gold
    assert len(list(create_transfer_corpus(str(folder), max_docs=1, max_tokens=1000)(nlp))) == 1
    assert list(create_transfer_corpus(None)(nlp)) == []


@pytest.mark.hostile
def test_chunk_cut_inside_a_line_retokenizes_alike(nlp, tmp_path):
    # One long line: the cut falls inside it. In context "15/15" is three
    # tokens, but "/15 ..." alone tokenizes "/15" as one: a chunk must hold
    # the tokens its own text gives (a teacher re-tokenizes the text).
    line = " ".join(["GCS 15/15 with normal pupils"] * 30)
    path = tmp_path / "notes.jsonl"
    path.write_text(json.dumps({"text": line}) + "\n", encoding="utf8")
    whole = nlp.make_doc(line)
    for max_tokens in range(5, 14):
        examples = list(create_transfer_corpus(str(path), max_tokens=max_tokens)(nlp))
        assert "".join(eg.predicted.text for eg in examples) == line
        for eg in examples:
            doc = eg.predicted
            assert [t.text for t in doc] == [t.text for t in nlp.make_doc(doc.text)]
    assert len(whole) > 13


def test_jsonl_records_keep_unicode_line_separators(tmp_path):
    # U+2028 is valid inside a JSON string; str.splitlines would cut the record.
    path = tmp_path / "notes.jsonl"
    path.write_bytes('{"text": "fever\u2028cough"}\r\n\r\n{"text": "pain"}\r'.encode("utf8"))
    assert [r["text"] for r in read_jsonl(path)] == ["fever\u2028cough", "pain"]
    path.write_bytes(b'{"text": "ok"}\n{"text": "\xff"}\n')
    with pytest.raises(InputFileError, match=r"notes\.jsonl:2: Not valid UTF-8"):
        list(read_jsonl(path))
