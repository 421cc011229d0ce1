"""Text specs (wordpiece/text_specs.py): parsing, formats, exclusion globs, weights, de-duplication."""
from collections import Counter

import pytest

from spacy_clinkd.errors import ClinkdError, InputFileError
from spacy_clinkd.wordpiece.counting import count_words
from spacy_clinkd.wordpiece.text_specs import (
    CorpusSpec,
    iter_texts,
    parse_spec,
    parse_specs,
    read_spec,
    undo_wikitext,
)
from tests.util import WORDPIECE_DATA as DATA
from tests.util import write_gold_docs

CLIN = DATA / "clinical"
GEN = DATA / "general"


def test_parse_spec():
    assert parse_spec("txt:a/*.txt") == CorpusSpec("txt", "a/*.txt")
    assert parse_spec("csv:5:a.csv") == CorpusSpec("csv", "a.csv", "5")
    assert parse_spec("csv:note:a/*.csv!*_metadata.csv") == CorpusSpec("csv", "a/*.csv!*_metadata.csv", "note")
    assert parse_spec("spacy*3:train.spacy") == CorpusSpec("spacy", "train.spacy", weight=3)
    assert str(parse_spec("tsv*2:3:x.tsv")) == "tsv*2:3:x.tsv"


@pytest.mark.parametrize("bad", ["a/*.txt", "pdf:a.pdf", "csv:a.csv", "csv:0:a.csv", "txt*0:a.txt", "txt*x:a", "txt:"])
def test_parse_spec_errors(bad):
    with pytest.raises(ClinkdError):
        parse_spec(bad)


def test_glob_matching_nothing_fails(tmp_path):
    with pytest.raises(ClinkdError, match="matches no file"):
        list(iter_texts(parse_specs([f"txt:{tmp_path}/*.txt"])))


def test_txt_and_dedupe():
    spec = parse_spec(f"txt:{CLIN}/note_*.txt")
    assert len(list(read_spec(spec))) == 3
    texts = list(iter_texts([spec]))
    assert len(texts) == 2  # note_a_copy.txt is a byte copy of note_a.txt
    assert all(weight == 1 for _, weight in texts)
    assert len(list(iter_texts([spec], dedupe=False))) == 3


def test_csv_without_header_1_based_column():
    texts = list(read_spec(parse_spec(f"csv:3:{CLIN}/rows.csv")))
    assert len(texts) == 2
    assert texts[0].startswith("Synthetic row. Dyspnea")


def test_csv_header_column_and_exclusion():
    spec = parse_spec(f"csv:note:{CLIN}/with_header*.csv!*_metadata.csv")
    assert [p.name for p in spec.paths()] == ["with_header.csv"]
    assert list(read_spec(spec)) == ["Synthetic header row note: dyspnea and hypertension."]
    with pytest.raises(ClinkdError, match="no column"):
        list(read_spec(parse_spec(f"csv:note:{CLIN}/with_header_metadata.csv")))


def test_tsv_column():
    texts = list(read_spec(parse_spec(f"tsv:3:{GEN}/sentences.tsv")))
    assert texts[0] == "The jury said the election was fair and the city was calm ."
    assert len(texts) == 3


def test_wikitext():
    texts = list(read_spec(parse_spec(f"wikitext:{GEN}/wiki.raw")))
    assert len(texts) == 3
    assert not any("\r" in t for t in texts)
    assert "old-fashioned" in texts[1] and "1,200" in texts[1] and "3.5" in texts[1]
    assert undo_wikitext("a @-@ b @,@ c @.@ d") == "a-b,c.d"


def test_spacy_docbin(tmp_path):
    path = write_gold_docs(tmp_path / "gold.spacy")
    texts = list(read_spec(parse_spec(f"spacy:{path}")))
    assert texts[0] == "The patient has dyspnea and tachycardia ."


def test_ents_one_text_per_doc_keeps_repeated_mentions(tmp_path):
    import spacy
    from spacy.tokens import DocBin, Span

    nlp = spacy.blank("en")
    docs = []
    for text, spans in [
        ("pain here and pain there", [(0, 1, "SYMPTOM"), (3, 4, "SYMPTOM")]),
        ("pain here and pain there", [(0, 1, "SYMPTOM"), (3, 4, "SYMPTOM")]),  # a copy
        ("nothing to see", []),
        ("chest pain", [(0, 2, "SYMPTOM")]),
        ("chest pain again", [(0, 2, "SYMPTOM")]),  # another doc, the same mention list
    ]:
        doc = nlp.make_doc(text)
        doc.ents = [Span(doc, s, e, label=label) for s, e, label in spans]
        docs.append(doc)
    DocBin(docs=docs).to_disk(tmp_path / "gold.spacy")
    spec = parse_spec(f"ents*2:{tmp_path}/gold.spacy")
    assert list(read_spec(spec)) == ["pain\npain", "pain\npain", "chest pain", "chest pain"]
    counts = count_words(iter_texts([spec]), str.split)
    # mention lists are never de-duplicated: every doc's mentions count, x2
    assert counts == Counter({"pain": 2 * 6, "chest": 2 * 2})


def test_unreadable_docbin_names_the_file(tmp_path):
    path = tmp_path / "broken.spacy"
    path.write_bytes(b"not a docbin")
    for fmt in ("spacy", "ents"):
        with pytest.raises(ClinkdError, match="broken.spacy: not a readable spaCy DocBin"):
            list(read_spec(parse_spec(f"{fmt}:{path}")))


def test_weights_multiply_counts():
    split = str.split
    one = count_words(iter_texts(parse_specs([f"csv:3:{CLIN}/rows.csv"])), split)
    three = count_words(iter_texts(parse_specs([f"csv*3:3:{CLIN}/rows.csv"])), split)
    assert three == Counter({w: 3 * c for w, c in one.items()})


def test_pubtator_title_and_abstract(tmp_path):
    path = tmp_path / "abstracts.txt"
    path.write_text(
        "1|t|Synthetic title on dyspnea.\n1|a|Synthetic abstract.\n1\t0\t9\tSynthetic\tDisease\tD1\n\n"
        "2|t|Second title only.\n\n",
        encoding="utf8",
    )
    texts = list(read_spec(parse_spec(f"pubtator:{path}")))
    assert texts == ["Synthetic title on dyspnea. Synthetic abstract.", "Second title only."]


def test_pubtator_malformed_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("1|t|Title.\n2|a|Abstract of another PMID.\n", encoding="utf8")
    with pytest.raises(ClinkdError, match=r"bad\.txt:2: Bad PubTator line"):
        list(read_spec(parse_spec(f"pubtator:{path}")))


@pytest.mark.hostile
@pytest.mark.parametrize("fmt", ["txt", "lines", "csv:1", "tsv:1"])
def test_a_bad_byte_names_the_corpus_file_and_line(tmp_path, fmt):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"fever\ncough \xe9 today\n")
    with pytest.raises(InputFileError) as exc:
        list(read_spec(parse_spec(f"{fmt}:{path}")))
    assert str(exc.value).startswith(f"{path}:2: Not valid UTF-8 (byte 0xe9 at column 7)")


@pytest.mark.hostile
def test_corpus_files_lose_their_bom_and_keep_lone_cr_lines(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes("\ufeffnote,id\r\nfever,1\r\n".encode("utf8"))
    assert list(read_spec(parse_spec(f"csv:note:{path}"))) == ["fever"]
    lines = tmp_path / "lines.txt"
    lines.write_bytes(b"fever\rcough\r")
    assert list(read_spec(parse_spec(f"lines:{lines}"))) == ["fever", "cough"]


def test_jsonl_field_and_bad_line(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text('{"text": "fever and cough", "id": 1}\n{"text": "  "}\n{"id": 3}\n{"text": "rash"}\n')
    assert list(read_spec(parse_spec(f"jsonl:text:{path}"))) == ["fever and cough", "rash"]
    path.write_text('{"text": "fever"}\nnot json\n')
    with pytest.raises(InputFileError, match=r"notes.jsonl:2"):
        list(read_spec(parse_spec(f"jsonl:text:{path}")))
