"""The conversion body shared by brat, CoNLL and PubTator: parsed documents →
Docs → one DocBin per split."""
import json

import pytest
from spacy.tokens import DocBin

from spacy_clinkd.corpora.conversion_report import ConversionReport
from spacy_clinkd.corpora.convert import ParsedDoc, convert, make_docs
from spacy_clinkd.corpora.spans import CharSpan
from spacy_clinkd.errors import InputFileError

LABELS = {"Dosage": "DOSAGE", "Sign_symptom": "SYMPTOM"}


def test_given_words_are_not_retokenized(nlp):
    # The clinical tokenizer splits "5mg"; a pre-tokenized corpus keeps its words.
    dose = [CharSpan(0, 3, "Dosage", 0)]
    words = ParsedDoc("w", dose, words=["5mg", "daily", "."], sent_starts=[True, False, True])
    text = ParsedDoc("t", dose, text="5mg daily .")
    report = ConversionReport()
    by_words, by_text = make_docs([words, text], nlp=nlp, label_map=LABELS, report=report, split="s")
    assert [t.text for t in by_words] == ["5mg", "daily", "."]
    assert [s.text for s in by_words.sents] == ["5mg daily", "."]
    assert [(e.text, e.label_) for e in by_words.ents] == [("5mg", "DOSAGE")]
    assert [t.text for t in by_text][:2] == ["5", "mg"]
    assert [(e.text, e.label_) for e in by_text.ents] == [("5mg", "DOSAGE")]
    assert [d.user_data["doc_id"] for d in (by_words, by_text)] == ["w", "t"]
    assert report.docs == {"s": 2} and report.kept == {"s": {"DOSAGE": 2}}


def test_documents_past_the_limit_are_not_parsed(nlp):
    def documents():
        yield ParsedDoc("a", [], text="one")
        yield ParsedDoc("b", [], text="two")
        raise AssertionError("parsed past the limit")

    report = ConversionReport()
    docs = list(make_docs(documents(), nlp=nlp, label_map=LABELS, report=report, split="s", limit=2))
    assert [d.user_data["doc_id"] for d in docs] == ["a", "b"]
    assert report.docs == {"s": 2}


def test_each_split_to_its_file_and_the_report(tmp_path, nlp):
    fever = ParsedDoc("d1", [CharSpan(0, 5, "Sign_symptom", 0)], text="fever today")
    splits = [("train", [fever, ParsedDoc("d2", [], text="none")]), ("dev", []), ("test", [fever])]
    outputs = {name: tmp_path / f"{name}.spacy" for name, _ in splits}
    report = ConversionReport(source="x")
    convert(splits, outputs, report=report, label_map=LABELS, report_path=tmp_path / "r.json")
    written = {}
    for name, path in outputs.items():
        docs = DocBin().from_disk(path).get_docs(nlp.vocab)
        written[name] = [(d.user_data["doc_id"], [e.label_ for e in d.ents]) for d in docs]
    assert written == {"train": [("d1", ["SYMPTOM"]), ("d2", [])], "dev": [], "test": [("d1", ["SYMPTOM"])]}
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf8"))
    assert data["docs"] == {"train": 2, "dev": 0, "test": 1}
    assert data["kept"] == {"train": {"SYMPTOM": 1}, "dev": {}, "test": {"SYMPTOM": 1}}


def test_nothing_is_written_when_a_later_split_fails(tmp_path):
    def malformed():
        raise InputFileError("malformed", path=tmp_path / "dev.ann", line=1)
        yield

    splits = [("train", [ParsedDoc("d1", [], text="fever")]), ("dev", malformed())]
    outputs = {"train": tmp_path / "train.spacy", "dev": tmp_path / "dev.spacy"}
    with pytest.raises(InputFileError, match="dev.ann:1: malformed"):
        convert(splits, outputs, report=ConversionReport(), label_map=LABELS, report_path=tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []
