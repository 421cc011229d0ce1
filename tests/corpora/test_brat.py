"""brat reader: alignment, overlap, discontinuous, unmapped, malformed input."""
from pathlib import Path

import pytest

from spacy_clinkd.corpora.brat import load_split, parse_ann
from spacy_clinkd.corpora.conversion_report import ConversionReport
from spacy_clinkd.corpora.labels import load_label_map
from spacy_clinkd.corpora.spans import gold_assertions
from spacy_clinkd.errors import ClinkdError, InputFileError
from tests.util import brat_doc, brat_split_docs

DATA = Path(__file__).parent.parent / "data" / "corpora"
BRAT = DATA / "brat"




@pytest.fixture(scope="module")
def label_map():
    return load_label_map(DATA / "brat_labels.json")


def ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def read(nlp, label_map, name, split="train"):
    report = ConversionReport()
    doc = brat_doc(
        BRAT / f"{name}.txt", BRAT / f"{name}.ann", nlp=nlp, label_map=label_map, report=report, split=split
    )
    return doc, report


def test_units_slashes_overlap_and_expansion(nlp, label_map):
    doc, report = read(nlp, label_map, "doc1")
    assert doc.user_data["doc_id"] == "doc1"
    # "5" of "5mg" and the two drugs of "aspirin/clopidogrel" align strictly
    # thanks to the clinical tokenizer; "feve" expands to "fever".
    assert ents(doc) == [
        ("5", "DOSAGE"),
        ("aspirin", "MEDICATION"),
        ("clopidogrel", "MEDICATION"),
        ("chest pain", "SYMPTOM"),
        ("fever", "SYMPTOM"),
    ]
    assert report.dropped == {"overlap": {"Sign_symptom": 1}, "unmapped_label": {"Age": 1}}
    assert report.adjusted == {"expanded_to_token_boundaries": {"Sign_symptom": 1}}
    assert report.skipped == {"E": 1, "R": 1, "*": 1, "#": 1}
    assert report.kept == {"train": {"DOSAGE": 1, "MEDICATION": 2, "SYMPTOM": 2}}
    assert report.docs == {"train": 1}
    # A1 POLARITY E1 NEG, on the event whose trigger is T5 "chest pain"
    assert gold_assertions(doc) == {(13, 14): "present", (17, 24): "present", (25, 36): "present",
                                    (52, 62): "absent", (67, 72): "present"}
    assert report.polarity == {"NEG": 1}
    assert report.assertion == {"train": {"DOSAGE": {"present": 1}, "MEDICATION": {"present": 2},
                                          "SYMPTOM": {"absent": 1, "present": 1}}}


@pytest.mark.parametrize(
    "line,expected",
    [
        ("A1\tPOLARITY E1 UNCERTAIN", "possible"),
        ("A1\tPolarity T1 MAYBE_NEG", "possible"),
        ("A1\tPOLARITY E1 POS", "present"),
        ("A1\tNegation T1", "absent"),
        ("A1\tTREND E1 INC", "present"),  # not an assertion: skipped
    ],
)
def test_polarity_values_map_to_assertions(nlp, label_map, tmp_path, line, expected):
    (tmp_path / "d.txt").write_text("fever today", encoding="utf8")
    (tmp_path / "d.ann").write_text(f"T1\tSign_symptom 0 5\tfever\nE1\tSign_symptom:T1 \n{line}\n", encoding="utf8")
    doc = brat_doc(tmp_path / "d.txt", tmp_path / "d.ann", nlp=nlp, label_map=label_map,
                             report=ConversionReport(), split="train")
    assert gold_assertions(doc) == {(0, 5): expected}


@pytest.mark.parametrize("line", ["A1\tPOLARITY E9 NEG", "A1\tPOLARITY E1 SOMETIMES", "A1\tPOLARITY"])
def test_bad_polarity_lines_name_file_and_line(nlp, label_map, tmp_path, line):
    (tmp_path / "d.txt").write_text("fever today", encoding="utf8")
    (tmp_path / "d.ann").write_text(f"T1\tSign_symptom 0 5\tfever\nE1\tSign_symptom:T1 \n{line}\n", encoding="utf8")
    with pytest.raises(InputFileError) as info:
        brat_doc(tmp_path / "d.txt", tmp_path / "d.ann", nlp=nlp, label_map=label_map,
                           report=ConversionReport(), split="train")
    assert info.value.line == 3


def test_trim_discontinuous_ties_unalignable(nlp, label_map):
    doc, report = read(nlp, label_map, "doc2")
    # "renal failure" twice with the same extent: the first in the file wins;
    # "neck pain" vs "sore neck" (same length): the earlier start wins.
    assert ents(doc) == [("anemia", "DISEASE"), ("renal failure", "DISEASE"), ("sore neck", "SYMPTOM")]
    assert report.dropped == {"overlap": {"Sign_symptom": 2}, "unalignable": {"Sign_symptom": 1}}
    assert report.adjusted == {
        "trimmed_whitespace": {"Disease_disorder": 1},
        "discontinuous_joined": {"Disease_disorder": 1},
    }


def test_stray_tab_in_surface_is_ignored(nlp, label_map):
    doc, report = read(nlp, label_map, "doc3", split="dev")
    assert ents(doc) == [("fever", "SYMPTOM")]
    assert report.kept == {"dev": {"SYMPTOM": 1}}


def test_read_split(nlp, label_map):
    report = ConversionReport()
    split = load_split(DATA / "brat_split.json")
    docs = brat_split_docs(BRAT, split, nlp=nlp, label_map=label_map, report=report)
    assert {name: [d.user_data["doc_id"] for d in ds] for name, ds in docs.items()} == {
        "train": ["doc1", "doc2"],
        "dev": ["doc3"],
        "test": ["doc4"],
    }
    assert ents(docs["test"][0]) == [("10", "DOSAGE"), ("heparin", "MEDICATION"), ("thrombosis", "DISEASE")]
    assert report.docs == {"train": 2, "dev": 1, "test": 1}
    assert report.n_kept("train") == 8
    limited = brat_split_docs(BRAT, split, nlp=nlp, label_map=label_map, report=ConversionReport(), limit=1)
    # the first id of each split
    assert {name: [d.user_data["doc_id"] for d in ds] for name, ds in limited.items()} == {
        "train": ["doc1"],
        "dev": ["doc3"],
        "test": ["doc4"],
    }


def write_pair(tmp_path, text, ann, name="bad"):
    (tmp_path / f"{name}.txt").write_text(text, encoding="utf8")
    (tmp_path / f"{name}.ann").write_text(ann, encoding="utf8")
    return tmp_path / f"{name}.txt", tmp_path / f"{name}.ann"


@pytest.mark.parametrize(
    "ann,line,fragment",
    [
        ("T1\tSign_symptom 0 5\tfever\nT2\tSign_symptom 6 99\tx\n", 2, "beyond the end of the text (11"),
        ("T1\tSign_symptom 0 5\tfever\n\nT2\tSign_symptom 6 9\n", 3, "expected 3 tab-separated fields, found 2"),
        ("T1\tSign_symptom 0 five\tfever\n", 1, "non-integer offset"),
        ("T1\tSign_symptom 5 0\tfever\n", 1, "start 5 > end 0"),
        ("T1\tSign_symptom 0 5;7\tfever\n", 1, "is not 'START END'"),
        ("T1\tSign_symptom\tfever\n", 1, "expected 'TYPE START END'"),
        ("T1\tSign_symptom 0 5\tfever\nX1\tfoo\n", 2, "Unknown brat annotation line kind 'X'"),
    ],
)
def test_bad_ann_lines(tmp_path, nlp, label_map, ann, line, fragment):
    txt, ann_path = write_pair(tmp_path, "fever today", ann)
    with pytest.raises(InputFileError) as exc:
        brat_doc(txt, ann_path, nlp=nlp, label_map=label_map, report=ConversionReport(), split="x")
    assert exc.value.path == str(ann_path)
    assert exc.value.line == line
    assert f"bad.ann:{line}: " in str(exc.value)
    assert fragment in str(exc.value)


def test_missing_files(tmp_path, nlp, label_map):
    txt, ann = write_pair(tmp_path, "fever", "T1\tSign_symptom 0 5\tfever\n")
    txt.unlink()
    with pytest.raises(InputFileError, match=r"bad\.ann: .*bad\.txt is missing"):
        brat_split_docs(tmp_path, {"train": ["bad"]}, nlp=nlp, label_map=label_map, report=ConversionReport())
    txt.write_text("fever", encoding="utf8")
    ann.unlink()
    with pytest.raises(InputFileError, match=r"bad\.txt: .*bad\.ann is missing"):
        brat_split_docs(tmp_path, {"train": ["bad"]}, nlp=nlp, label_map=label_map, report=ConversionReport())
    with pytest.raises(ClinkdError, match="'nope' \\(split 'dev'\\) has neither"):
        brat_split_docs(tmp_path, {"dev": ["nope"]}, nlp=nlp, label_map=label_map, report=ConversionReport())


def test_non_utf8_text(tmp_path, nlp, label_map):
    txt, ann = write_pair(tmp_path, "", "")
    txt.write_bytes(b"line one\nline two\nfe\xffver\n")
    with pytest.raises(InputFileError) as exc:
        brat_doc(txt, ann, nlp=nlp, label_map=label_map, report=ConversionReport(), split="x")
    assert exc.value.line == 3
    assert str(exc.value).startswith(f"{txt}:3: Not valid UTF-8 (byte 0xff at column 3)")


def test_parse_ann_counts_discontinuous_for_all_types(tmp_path):
    # the surface of a discontinuous span is its fragments joined by a space
    _, ann = write_pair(tmp_path, "", "T1\tLab_value 0 2;6 8\tab ef\n")
    report = ConversionReport()
    spans = parse_ann(ann, "ab cd ef", report=report)
    assert [(s.start, s.end, s.corpus_type, s.order) for s in spans] == [(0, 8, "Lab_value", 0)]
    assert report.adjusted == {"discontinuous_joined": {"Lab_value": 1}}


def test_load_split_errors(tmp_path):
    path = tmp_path / "split.json"
    path.write_text('{"train": ["a"], "dev": ["a"]}', encoding="utf8")
    with pytest.raises(ClinkdError, match="'a' appears in more than one split"):
        load_split(path)
    path.write_text('{"train": "a"}', encoding="utf8")
    with pytest.raises(ClinkdError, match="split 'train' is not a list"):
        load_split(path)


def test_documents_not_in_split_are_counted(tmp_path, nlp, label_map):
    import shutil

    folder = tmp_path / "brat"
    shutil.copytree(BRAT, folder)
    (folder / "extra.txt").write_text("Fever.\n", encoding="utf8")
    (folder / "extra.ann").write_text("", encoding="utf8")
    (folder / "hi.txt").write_text("hi", encoding="utf8")
    report = ConversionReport()
    docs = brat_split_docs(folder, load_split(DATA / "brat_split.json"), nlp=nlp, label_map=label_map, report=report)
    assert sum(len(d) for d in docs.values()) == 4
    assert report.skipped["documents not in split"] == 2


AUX_MAP = {"Biological_structure": "Biological_structure", "Detailed_description": "Detailed_description"}


def test_auxiliary_types_never_change_the_main_entities(tmp_path, nlp, label_map):
    text = "severe chest pain in the left arm, took aspirin"
    ann = (
        "T1\tSign_symptom 7 17\tchest pain\n"
        "T2\tBiological_structure 7 12\tchest\n"  # inside a main entity: dropped
        "T3\tDetailed_description 0 17\tsevere chest pain\n"  # longer, overlaps it: dropped
        "T4\tBiological_structure 25 33\tleft arm\n"
        "T5\tDetailed_description 25 29\tleft\n"  # inside a longer auxiliary span
        "T6\tMedication 40 47\taspirin\n"
        "T7\tLab_value 0 6\tsevere\n"  # in neither map
    )
    txt, ann_path = write_pair(tmp_path, text, ann)
    plain_report, aux_report = ConversionReport(), ConversionReport()
    plain = brat_doc(txt, ann_path, nlp=nlp, label_map=label_map, report=plain_report, split="train")
    aux = brat_doc(
        txt, ann_path, nlp=nlp, label_map=label_map, report=aux_report, split="train", aux_map=AUX_MAP
    )
    assert ents(plain) == [("chest pain", "SYMPTOM"), ("aspirin", "MEDICATION")]
    assert ents(aux) == [("chest pain", "SYMPTOM"), ("left arm", "Biological_structure"), ("aspirin", "MEDICATION")]
    assert aux_report.dropped["overlap"] == {"Biological_structure": 1, "Detailed_description": 2}
    assert aux_report.dropped["unmapped_label"] == {"Lab_value": 1}
    assert aux_report.kept["train"] == {"Biological_structure": 1, "MEDICATION": 1, "SYMPTOM": 1}


def test_auxiliary_map_sharing_a_type_is_an_error(tmp_path):
    from spacy_clinkd.corpora.brat import convert_brat

    aux = tmp_path / "aux.json"
    aux.write_text('{"Sign_symptom": "Sign_symptom"}', encoding="utf8")
    split = tmp_path / "split.json"
    split.write_text('{"train": ["doc1"]}', encoding="utf8")
    with pytest.raises(ClinkdError, match="shares .*Sign_symptom"):
        convert_brat(
            BRAT, tmp_path / "out", split_path=split, labels_path=DATA / "brat_labels.json", aux_labels_path=aux
        )
    assert not (tmp_path / "out").exists()


CONTEXT_MAP = {"History": "historical", "Family_history": "family"}
CONTEXT_TEXT = "4 year history of Crohn's disease. Brother had hepatitis C too. Her father had a history of diabetes. Now fever and cough."
# (type, surface), offsets from the surface's first occurrence; the History
# line of the father comes before his Family_history line, so file order is
# not sorted order.
CONTEXT_ANN = [
    ("History", "4 year history of Crohn's disease"),
    ("Disease_disorder", "Crohn's disease"),
    ("Family_history", "Brother had hepatitis C"),
    ("Disease_disorder", "hepatitis C"),
    ("History", "history of diabetes"),
    ("Family_history", "father had a history of diabetes"),
    ("Disease_disorder", "diabetes"),
    ("Sign_symptom", "fever"),
    ("History", "and cou"),  # overlaps "cough" without containing it
    ("Sign_symptom", "cough"),
]


def write_brat(folder: Path, name: str, text: str, rows: list[tuple[str, str]]) -> tuple[Path, Path]:
    """Write NAME.txt and NAME.ann, one T line per (type, surface) at the surface's first occurrence."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (corpus_type, surface) in enumerate(rows, 1):
        start = text.index(surface)
        lines.append(f"T{i}\t{corpus_type} {start} {start + len(surface)}\t{surface}\n")
    return write_pair(folder, text, "".join(lines), name=name)


def offsets(surface: str) -> tuple[int, int]:
    start = CONTEXT_TEXT.index(surface)
    return start, start + len(surface)


def test_context_regions_give_entities_their_context(tmp_path, nlp, label_map):
    from spacy_clinkd.corpora.spans import CONTEXTS, gold_contexts

    txt, ann = write_brat(tmp_path, "ctx", CONTEXT_TEXT, CONTEXT_ANN)
    report = ConversionReport()
    doc = brat_doc(txt, ann, nlp=nlp, label_map=label_map, report=report, split="train", context_map=CONTEXT_MAP)
    assert gold_contexts(doc) == {
        offsets("Crohn's disease"): frozenset({"historical"}),
        offsets("hepatitis C"): frozenset({"family"}),
        offsets("diabetes"): frozenset({"family", "historical"}),
        offsets("fever"): frozenset(),
        offsets("cough"): frozenset(),
    }
    # one triple per entity, in entity order, values sorted (not file order)
    assert doc.user_data[CONTEXTS][2] == [*offsets("diabetes"), ["family", "historical"]]
    assert [t[:2] for t in doc.user_data[CONTEXTS]] == [[e.start_char, e.end_char] for e in doc.ents]
    assert report.context == {"train": {"DISEASE": {"family": 2, "historical": 2}}}


def test_context_map_changes_no_entity_and_is_stored_only_when_given(tmp_path, nlp, label_map):
    from spacy_clinkd.corpora.spans import CONTEXTS, gold_contexts

    txt, ann = write_brat(tmp_path, "ctx", CONTEXT_TEXT, CONTEXT_ANN)
    plain_report, context_report = ConversionReport(), ConversionReport()
    plain = brat_doc(txt, ann, nlp=nlp, label_map=label_map, report=plain_report, split="train")
    context = brat_doc(
        txt, ann, nlp=nlp, label_map=label_map, report=context_report, split="train", context_map=CONTEXT_MAP
    )
    assert ents(plain) == ents(context) == [
        ("Crohn's disease", "DISEASE"), ("hepatitis C", "DISEASE"), ("diabetes", "DISEASE"),
        ("fever", "SYMPTOM"), ("cough", "SYMPTOM"),
    ]
    assert CONTEXTS not in plain.user_data and gold_contexts(plain) is None
    assert plain_report.context == {} and "context" not in plain_report.to_dict()
    context_dict = context_report.to_dict()
    assert context_dict.pop("context") == {"train": {"DISEASE": {"family": 2, "historical": 2}}}
    assert context_dict == plain_report.to_dict()


def test_a_context_span_kept_as_an_entity_is_its_own_context(tmp_path, nlp, label_map):
    from spacy_clinkd.corpora.spans import gold_contexts

    text = "History of smoking. Mother had asthma."
    rows = [("History", "History of smoking"), ("Family_history", "Mother had asthma"), ("Disease_disorder", "asthma")]
    txt, ann = write_brat(tmp_path, "self", text, rows)
    report = ConversionReport()
    doc = brat_doc(
        txt, ann, nlp=nlp, label_map=label_map, report=report, split="train",
        aux_map={"History": "History"}, context_map=CONTEXT_MAP,
    )
    assert ents(doc) == [("History of smoking", "History"), ("asthma", "DISEASE")]
    assert gold_contexts(doc) == {(0, 18): frozenset({"historical"}), (31, 37): frozenset({"family"})}
    assert report.context == {"train": {"DISEASE": {"family": 1}, "History": {"historical": 1}}}


def test_bad_context_map_is_an_error_naming_the_file(tmp_path):
    from spacy_clinkd.corpora.brat import convert_brat

    context = tmp_path / "context.json"
    context.write_text('{"History": "historical", "Family_history": "relatives"}', encoding="utf8")
    split = tmp_path / "split.json"
    split.write_text('{"train": ["doc1"]}', encoding="utf8")
    with pytest.raises(ClinkdError) as exc:
        convert_brat(
            BRAT, tmp_path / "out", split_path=split, labels_path=DATA / "brat_labels.json",
            context_labels_path=context,
        )
    message = str(exc.value)
    assert message.startswith(f"Context label map {context} must be")
    assert "'relatives'" in message and "'historical', 'hypothetical', 'family'" in message
    assert not (tmp_path / "out").exists()


def test_context_containment_uses_the_offsets_as_read(tmp_path, nlp, label_map):
    from spacy_clinkd.corpora.spans import gold_contexts

    # "feve" is expanded to the token "fever", past the end of its region
    text = "She had fever once."
    txt, ann = write_brat(tmp_path, "raw", text, [("History", "had feve"), ("Sign_symptom", "feve")])
    report = ConversionReport()
    doc = brat_doc(txt, ann, nlp=nlp, label_map=label_map, report=report, split="train", context_map=CONTEXT_MAP)
    assert ents(doc) == [("fever", "SYMPTOM")]
    assert gold_contexts(doc) == {(8, 13): frozenset({"historical"})}
