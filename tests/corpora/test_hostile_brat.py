"""Hostile brat input: line ends, offsets counted another way, BOMs, duplicate
ids, documents no split names, split names and ids that are paths. Each case
failed silently (or with a traceback) before the input hardening of issue 10."""
import json
import shutil

import pytest

from spacy_clinkd.corpora.brat import convert_brat, load_split
from spacy_clinkd.corpora.conversion_report import ConversionReport
from spacy_clinkd.errors import ClinkdError, InputFileError
from tests.util import DATA_DIR, brat_doc, brat_split_docs, write_brat

pytestmark = pytest.mark.hostile

BRAT = DATA_DIR / "corpora" / "brat"
LABELS = {"Sign_symptom": "SYMPTOM", "Disease_disorder": "DISEASE"}


def read(nlp, tmp_path, text, ann, *, strict=False):
    txt, ann_path = write_brat(tmp_path, "d", text, ann)
    report = ConversionReport()
    doc = brat_doc(txt, ann_path, nlp=nlp, label_map=LABELS, report=report, split="train", strict=strict)
    return doc, report


def ents(doc):
    return [(e.start_char, e.end_char, e.text, e.label_) for e in doc.ents]


TEXT = "fever and cough"
T1 = "T1\tSign_symptom 0 5\tfever"
T2 = "T2\tSign_symptom 10 15\tcough"


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_end_reads_every_annotation(nlp, tmp_path, end):
    doc, report = read(nlp, tmp_path, TEXT, T1 + end + T2 + end)
    assert ents(doc) == [(0, 5, "fever", "SYMPTOM"), (10, 15, "cough", "SYMPTOM")]
    assert report.notes == []


def test_mixed_line_ends_are_read_and_noted(nlp, tmp_path):
    doc, report = read(nlp, tmp_path, TEXT, T1 + "\r" + T2 + "\n" + "#1\tAnnotatorNotes T1\tx\r\n")
    assert len(doc.ents) == 2 and report.skipped == {"#": 1}
    assert len(report.notes) == 1
    assert "d.ann: mixed line ends (\\n 1, \\r 1, \\r\\n 1)" in report.notes[0]


def test_annotations_run_together_are_dropped_and_counted(nlp, tmp_path):
    # A lost line break: T2 sits inside T1's surface column.
    doc, report = read(nlp, tmp_path, TEXT, T1 + T2 + "\n")
    assert ents(doc) == []
    assert report.dropped == {"surface_mismatch": {"Sign_symptom": 1}}
    with pytest.raises(InputFileError, match=r"d\.ann:1: The surface text 'feverT2"):
        read(nlp, tmp_path, TEXT, T1 + T2 + "\n", strict=True)


# "fever" at characters 6-11 of "ééééé fever today" (é: 2 UTF-8 bytes),
# at UTF-8 bytes 11-16 ("today" after trimming and expansion), at UTF-16
# units 10-15 after five astral emoji, at 6-11 of the LF text of a CRLF file
# with three lines before it ("c" after trimming).
@pytest.mark.parametrize(
    "text,start,end",
    [
        ("ééééé fever today", 11, 16),
        ("🤒🤒🤒🤒🤒 fever today", 10, 15),
        ("a\r\nb\r\nc\r\nfever today", 6, 11),
    ],
    ids=["utf8-bytes", "utf16-units", "lf-normalised-crlf"],
)
def test_offsets_counted_another_way_never_give_a_wrong_entity(nlp, tmp_path, text, start, end):
    doc, report = read(nlp, tmp_path, text, f"T1\tSign_symptom {start} {end}\tfever\n")
    assert ents(doc) == []
    assert report.n_dropped("surface_mismatch") == 1
    assert report.adjusted == {}
    with pytest.raises(InputFileError, match=r"d\.ann:1: The surface text 'fever' differs"):
        read(nlp, tmp_path, text, f"T1\tSign_symptom {start} {end}\tfever\n", strict=True)


def test_surface_differing_in_whitespace_only_is_kept(nlp, tmp_path):
    # MACCROBAT's 25661749.ann has a stray tab and space after a surface.
    doc, report = read(nlp, tmp_path, "fever\u2005today", "T1\tSign_symptom 0 11\tfever\u2005today\t\u2005\n")
    assert ents(doc) == [(0, 11, "fever\u2005today", "SYMPTOM")]
    assert report.adjusted == {"surface_whitespace": {"Sign_symptom": 1}}


@pytest.mark.parametrize("offset", ["٥", "²", "+5", "5.0", "5_0", "0x5"])
def test_offsets_are_ascii_digits_only(nlp, tmp_path, offset):
    with pytest.raises(InputFileError, match=r"d\.ann:1: Bad T line \(non-integer offset"):
        read(nlp, tmp_path, TEXT, f"T1\tSign_symptom 0 {offset}\tfever\n")


@pytest.mark.parametrize(
    "start,note", [(1, "count it (brat's convention)"), (0, "do not count it")], ids=["brat", "utf-8-sig"]
)
def test_bom_is_removed_and_offsets_follow_their_surfaces(nlp, tmp_path, start, note):
    doc, report = read(nlp, tmp_path, "\ufeffFever today", f"T1\tSign_symptom {start} {start + 5}\tFever\n")
    assert doc.text == "Fever today"
    assert ents(doc) == [(0, 5, "Fever", "SYMPTOM")]
    assert len(report.notes) == 1 and note in report.notes[0]


def test_duplicate_t_ids_are_reported(nlp, tmp_path):
    ann = "T1\tSign_symptom 0 5\tfever\nT1\tSign_symptom 10 15\tcough\n"
    doc, report = read(nlp, tmp_path, TEXT, ann)
    assert len(doc.ents) == 2
    assert report.adjusted == {"duplicate_id": {"Sign_symptom": 1}}
    assert report.notes == [f"{tmp_path / 'd.ann'}:2: T id 'T1' was already used on line 1; both annotations are read."]
    with pytest.raises(InputFileError, match=r"d\.ann:2: T id 'T1' was already used on line 1"):
        read(nlp, tmp_path, TEXT, ann, strict=True)


def test_documents_in_subfolders_and_upper_case_suffixes_are_listed(nlp, tmp_path):
    folder = tmp_path / "brat"
    shutil.copytree(BRAT, folder)
    write_brat(folder / "batch2", "extra", "Fever.", "")
    (folder / "UPPER.TXT").write_text("Cough.", encoding="utf8")
    (folder / "UPPER.ANN").write_text("", encoding="utf8")
    (folder / "doc1.TXT").write_text("a copy", encoding="utf8")
    report = ConversionReport()
    brat_split_docs(folder, load_split(DATA_DIR / "corpora" / "brat_split.json"), nlp=nlp, label_map=LABELS, report=report)
    assert report.skipped["documents not in split"] == 3
    assert report.notes == [
        f"3 document(s) in {folder} are in no split and were not converted: "
        "UPPER, batch2/extra, doc1 (doc1.TXT)"
    ]


def test_ids_below_the_folder_are_read_and_ids_outside_refused(nlp, tmp_path):
    folder = tmp_path / "brat"
    write_brat(folder / "batch2", "d", TEXT, T1 + "\n")
    docs = brat_split_docs(folder, {"train": ["batch2/d"]}, nlp=nlp, label_map=LABELS, report=ConversionReport())
    assert [d.user_data["doc_id"] for d in docs["train"]] == ["batch2/d"]
    write_brat(tmp_path, "secret", TEXT, T1 + "\n")
    with pytest.raises(ClinkdError, match=r"Document id '\.\./secret' \(split 'train'\) points outside"):
        brat_split_docs(folder, {"train": ["../secret"]}, nlp=nlp, label_map=LABELS, report=ConversionReport())


@pytest.mark.parametrize("name", ["../x", "a/b", "..", ".hidden", ""])
def test_split_names_that_are_paths_are_refused(tmp_path, name):
    split = tmp_path / "split.json"
    split.write_text(json.dumps({name: ["doc1"]}), encoding="utf8")
    out = tmp_path / "out"
    with pytest.raises(ClinkdError, match="is not a plain file name"):
        convert_brat(BRAT, out, split_path=split, labels_path=DATA_DIR / "corpora" / "brat_labels.json")
    assert not out.exists() and not (tmp_path / "x.spacy").exists()
