"""annotate never loses, truncates or mixes data (issue 31), and never reports
success when notes failed (issue 30): an output that is the input under
another spelling, long notes, CSV quoting, pipes, file names that are not
UTF-8, a BOM, resuming against another input or model, exit status."""
import json
import os
import re
import sys

import pytest
import spacy
from spacy.language import Language

from spacy_clinkd.annotate.engines import WINDOW_CHARS, annotate_notes, split_windows
from spacy_clinkd.annotate.inputs import JsonlNotes, Note
from spacy_clinkd.annotate.run import annotate
from spacy_clinkd.annotate.writer import read_shards
from spacy_clinkd.errors import ClinkdError
from tests.util import NOTE_TEXTS, run_cli

pytestmark = pytest.mark.hostile

ENTITY = re.compile(r"fever|cough|chest pain|aspirin|diabetes")
NOTES = [{"id": "a", "text": "has fever"}, {"id": "b", "text": "no cough"}, {"id": "c", "text": "took aspirin"}]


def cli(monkeypatch, capsys, *args):
    return run_cli(monkeypatch, capsys, "annotate", *args, "--no-progress")


def spans(record):
    return [(e["start"], e["end"], e["text"]) for e in record["entities"]]


def expected_spans(text):
    return [(m.start(), m.end(), m.group()) for m in ENTITY.finditer(text)]


# -- an output that is really the input ------------------------------------------


@pytest.mark.parametrize("spelling", ["dot-slash", "relative-and-absolute", "symlink", "hard-link"])
def test_an_output_that_is_the_input_under_another_spelling_is_refused(
    rule_pipeline, tmp_path, monkeypatch, capsys, spelling
):
    data = b'{"id":"a","text":"has fever"}\n{"id":"b","text":"no cough"}'  # no final newline
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    (tmp_path / "link.jsonl").symlink_to(source)
    os.link(source, tmp_path / "hard.jsonl")
    monkeypatch.chdir(tmp_path)
    input_arg, output_arg = {
        "dot-slash": ("in.jsonl", "./in.jsonl"),
        "relative-and-absolute": (source, "in.jsonl"),
        "symlink": (source, "link.jsonl"),
        "hard-link": ("in.jsonl", tmp_path / "hard.jsonl"),
    }[spelling]
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, input_arg, output_arg)
    assert code == 1 and "is also an input" in err and "Traceback" not in err, err
    assert source.read_bytes() == data  # its last note was cut off before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.jsonl", "in.jsonl", "link.jsonl"]


def test_no_output_may_be_part_of_the_input_folder_or_another_output(rule_pipeline, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("has fever", encoding="utf8")
    # a .txt output inside the folder would be read as a note by the next run
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, folder, folder / "out.txt")
    assert code == 1 and "the next run would read it as a note" in err, err
    # the summary is written at the end: it used to overwrite the note
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, folder, tmp_path / "out.jsonl", "--summary", folder / "a.txt")
    assert code == 1 and "summary" in err and "is also an input" in err, err
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, folder, tmp_path / "out.jsonl", "--docbin", folder)
    assert code == 1 and "DocBin folder" in err and "input folder" in err, err
    code, _, err = cli(
        monkeypatch, capsys, rule_pipeline, folder, tmp_path / "out.jsonl", "--summary", tmp_path / "out.jsonl"
    )
    assert code == 1 and "same file" in err, err
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt"]
    assert (folder / "a.txt").read_text(encoding="utf8") == "has fever"
    assert not (tmp_path / "out.jsonl").exists()


def test_an_output_that_annotate_did_not_write_is_never_cut(rule_pipeline, annotate_io, tmp_path, monkeypatch, capsys):
    notes = annotate_io.write_jsonl(tmp_path / "in.jsonl", NOTES)
    out = tmp_path / "out.jsonl"
    foreign = b'{"id":"a","entities":[]}\n{"id":"x","note":"somebody else\'s file, no final newline"}'
    out.write_bytes(foreign)
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, notes, out)
    assert code == 1 and "no manifest" in err, err
    assert out.read_bytes() == foreign


# -- long notes ----------------------------------------------------------------


@pytest.mark.parametrize("n_process", [1, 2])
def test_a_2_mb_note_is_annotated_in_windows_with_offsets_into_the_whole_note(
    rule_pipeline, annotate_io, tmp_path, n_process
):
    filler = "the patient slept well and ate breakfast .\n"
    text = "has fever on admission .\n" + filler * (2_000_000 // len(filler)) + "now a cough and chest pain at the end"
    notes = [{"id": "before", "text": "has cough"}, {"id": "long", "text": text}, {"id": "after", "text": "no fever"}]
    path = annotate_io.write_jsonl(tmp_path / "in.jsonl", notes)
    out = tmp_path / "out.jsonl"
    summary = annotate(str(rule_pipeline), path, out, n_process=n_process, batch_size=2, progress=False)
    assert (summary.written, summary.failed, summary.total) == (3, 0, 3) and summary.complete
    records = annotate_io.read_jsonl(out)
    assert [r["id"] for r in records] == ["before", "long", "after"]
    assert len(text) > 2_000_000 and spans(records[1]) == expected_spans(text)
    end = len(text) - len(" at the end")
    assert spans(records[1])[-2:] == [(end - 20, end - 15, "cough"), (end - 10, end, "chest pain")]
    assert end - 20 > 2_000_000


def test_windows_tile_the_note_and_cut_at_line_breaks():
    text = "".join(f"line {i} has fever\n" for i in range(400))
    bounds = split_windows(text, 500)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)
    assert all(end == start for (_, end), (start, _) in zip(bounds, bounds[1:]))  # no gap, no overlap
    assert all(0 < end - start <= 500 for start, end in bounds)
    assert all(text[end - 1] == "\n" for _, end in bounds[:-1])
    no_breaks = "fever " * 300
    assert all(no_breaks[end - 1] == " " for _, end in split_windows(no_breaks, 100)[:-1])
    assert split_windows("x" * 250, 100) == [(0, 100), (100, 200), (200, 250)]
    assert split_windows("short", WINDOW_CHARS) == [(0, 5)]


@pytest.mark.slow
def test_windows_of_a_transformer_pipeline_keep_scores_assertions_and_docs(tiny_pipeline, annotate_io, tmp_path):
    text = "\n".join(f"{NOTE_TEXTS[i % len(NOTE_TEXTS)]} {i} ." for i in range(120))
    path = annotate_io.write_jsonl(tmp_path / "in.jsonl", [{"id": "long", "text": text}])
    out = tmp_path / "out.jsonl"
    annotate(str(tiny_pipeline), path, out, window_chars=400, docbin=tmp_path / "docs", progress=False)
    (record,) = annotate_io.read_jsonl(out)
    entities = record["entities"]
    assert len(text) > 10 * 400 and len(entities) > 20
    assert entities[-1]["start"] > len(text) - 400  # found in the last window, at whole-note offsets
    for ent in entities:
        assert text[ent["start"] : ent["end"]] == ent["text"]
        assert isinstance(ent["score"], float) and ent["assertion"] in ("present", "absent", "possible")
    (doc,) = read_shards(tmp_path / "docs", spacy.load(tiny_pipeline).vocab)
    assert doc.text == text
    assert [(e.start_char, e.end_char, e.label_, e._.assertion) for e in doc.ents] == [
        (e["start"], e["end"], e["label"], e["assertion"]) for e in entities
    ]


def test_a_note_over_max_chars_is_a_counted_error(rule_pipeline, annotate_io, tmp_path, monkeypatch, capsys):
    notes = annotate_io.write_jsonl(tmp_path / "in.jsonl", [*NOTES, {"id": "huge", "text": "fever " * 20}])
    out = tmp_path / "out.jsonl"
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, notes, out, "--max-chars", 100)
    assert code == 3 and "1 of 4 notes have no record" in err, err
    (error,) = annotate_io.read_jsonl(tmp_path / "out.errors.jsonl")
    assert error["id"] == "huge" and "120 characters, over --max-chars 100" in error["reason"]
    assert [r["id"] for r in annotate_io.read_jsonl(out)] == ["a", "b", "c"]


# -- CSV quoting -----------------------------------------------------------------


@pytest.mark.parametrize(
    "content, line, fragment",
    [
        (b'id,text\n1,has fever\n2,"a cough\n3,chest pain\n4,no fever\n', 3, "never closed"),
        (b'id,text\n1,has fever\n2,"a "cough" today"\n3,chest pain\n', 3, "must be doubled"),
        (b"id,text\n1,has fever\n2,cough, then chest pain\n3,no fever\n", 3, "3 fields under a header of 2"),
    ],
    ids=["unterminated-quote", "quote-inside-quotes", "unquoted-comma"],
)
def test_a_bad_csv_row_is_an_error_naming_file_and_line(
    rule_pipeline, tmp_path, monkeypatch, capsys, content, line, fragment
):
    path = tmp_path / "notes.csv"
    path.write_bytes(content)
    out = tmp_path / "out.jsonl"
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, path, out)
    assert code == 1 and f"{path}:{line}: Bad CSV row" in err and fragment in err, err
    assert not out.exists()  # before any note


def test_a_csv_from_a_spreadsheet_with_a_bom_and_trailing_empty_fields(rule_pipeline, annotate_io, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes(b'\xef\xbb\xbfid,text\r\n1,"has fever, then cough",\r\n2,no chest pain,\r\n')
    out = tmp_path / "out.jsonl"
    summary = annotate(str(rule_pipeline), path, out, progress=False)
    assert summary.complete
    records = annotate_io.read_jsonl(out)
    assert [r["id"] for r in records] == ["1", "2"]
    assert spans(records[0]) == expected_spans("has fever, then cough")


# -- pipes ---------------------------------------------------------------------


@pytest.mark.slow
def test_notes_from_a_pipe_are_read_once_and_all_annotated(rule_pipeline, annotate_io, tmp_path):
    data = "".join(json.dumps(note) + "\n" for note in NOTES).encode()
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    args = [rule_pipeline, "/dev/stdin", out, "--format", "jsonl", "--summary", summary]
    done = annotate_io.run(*args, input=data)
    assert done.returncode == 0, done.stderr.decode()
    assert [r["id"] for r in annotate_io.read_jsonl(out)] == ["a", "b", "c"]
    counts = json.loads(summary.read_text())
    assert (counts["total"], counts["written"], counts["skipped"], counts["failed"]) == (3, 3, 0, 0)
    assert counts["input"]["path"] == "/dev/stdin"
    again = annotate_io.run(*args, input=data)  # the same pipe again: a resume, nothing twice
    assert again.returncode == 0, again.stderr.decode()
    assert json.loads(summary.read_text())["skipped"] == 3
    assert [r["id"] for r in annotate_io.read_jsonl(out)] == ["a", "b", "c"]
    assert not [p for p in (tmp_path.parent).glob("clinkd-annotate-*.spool")]


# -- file names and BOM ----------------------------------------------------------


def test_a_file_name_that_is_not_utf8_keeps_its_bytes_escaped_in_the_id(
    rule_pipeline, annotate_io, tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.txt")).write_text("has fever", encoding="utf8")
    (folder / "ok.txt").write_text("no cough", encoding="utf8")
    (folder / os.fsdecode(b"bad\xff.txt")).write_bytes(b"has caf\xe9 fever")  # and its text is not UTF-8
    out = tmp_path / "out.jsonl"
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, folder, out)
    assert code == 3 and "Traceback" not in err, err
    records = annotate_io.read_jsonl(out)
    assert [r["id"] for r in records] == ["caf\\xe9.txt", "ok.txt"]
    assert spans(records[0]) == [(4, 9, "fever")]
    (error,) = annotate_io.read_jsonl(tmp_path / "out.errors.jsonl")
    assert error["id"] == "bad\\xff.txt" and "bad\\xff.txt" in error["reason"] and "0xe9" in error["reason"]
    # the ids are stable: a second run skips them all
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, folder, out)
    assert code == 3 and len(annotate_io.read_jsonl(out)) == 2


def test_a_bom_in_a_txt_note_is_its_first_character(rule_pipeline, annotate_io, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_bytes("has fever".encode("utf-8-sig"))
    out = tmp_path / "out.jsonl"
    annotate(str(rule_pipeline), folder, out, progress=False)
    (record,) = annotate_io.read_jsonl(out)
    text = (folder / "a.txt").read_text(encoding="utf8")  # "\ufeffhas fever", as documented
    assert spans(record) == [(5, 10, "fever")] and text[5:10] == "fever"


def test_a_jsonl_file_that_starts_with_a_bom_is_read(rule_pipeline, annotate_io, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(note) + "\n" for note in NOTES).encode())
    out = tmp_path / "out.jsonl"
    summary = annotate(str(rule_pipeline), path, out, progress=False)
    assert summary.complete and [r["id"] for r in annotate_io.read_jsonl(out)] == ["a", "b", "c"]
    assert spans(annotate_io.read_jsonl(out)[0]) == [(4, 9, "fever")]


# -- resuming another run's output -------------------------------------------------


def test_resuming_with_another_input_is_refused(rule_pipeline, annotate_io, tmp_path, monkeypatch, capsys):
    first = annotate_io.write_jsonl(tmp_path / "first.jsonl", NOTES)
    out = tmp_path / "out.jsonl"
    assert cli(monkeypatch, capsys, rule_pipeline, first, out)[0] == 0
    before = out.read_bytes()
    other = annotate_io.write_jsonl(tmp_path / "other.jsonl", [{"id": "z", "text": "has diabetes"}, *NOTES[:1]])
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, other, out)
    assert code == 1 and "holds records of another run" in err and "ids_sha256" in err, err
    assert f"delete {out}" in err and str(tmp_path / "out.manifest.json") in err
    assert out.read_bytes() == before
    # the same notes from another place are the same input: it resumes
    moved = annotate_io.write_jsonl(tmp_path / "moved.jsonl", NOTES)
    code, stdout, _ = cli(monkeypatch, capsys, rule_pipeline, moved, out)
    assert code == 0 and "3 skipped" in stdout


def test_resuming_with_another_model_is_refused(
    rule_pipeline, rule_pipeline_v2, annotate_io, tmp_path, monkeypatch, capsys
):
    notes = annotate_io.write_jsonl(tmp_path / "in.jsonl", NOTES)
    out = tmp_path / "out.jsonl"
    annotate(str(rule_pipeline), notes, out, progress=False)
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(lines[0])  # as if killed after one record
    code, _, err = cli(monkeypatch, capsys, rule_pipeline_v2, notes, out)
    assert code == 1 and "model version: '1.0.0' then, '2.0.0' now" in err, err
    assert out.read_bytes() == lines[0]
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, notes, out, "--window-chars", 5000)
    assert code == 1 and "settings window_chars" in err, err
    assert cli(monkeypatch, capsys, rule_pipeline, notes, out)[0] == 0
    assert [r["id"] for r in annotate_io.read_jsonl(out)] == ["a", "b", "c"]


def test_the_summary_and_manifest_name_the_model_and_the_input(
    rule_pipeline, annotate_io, tmp_path, monkeypatch, capsys
):
    notes = annotate_io.write_jsonl(tmp_path / "in.jsonl", NOTES)
    out, summary_file = tmp_path / "out.jsonl", tmp_path / "summary.json"
    assert cli(monkeypatch, capsys, rule_pipeline, notes, out, "--summary", summary_file)[0] == 0
    summary = json.loads(summary_file.read_text())
    model = {"name": "en_clinkd_rules", "version": "1.0.0", "precision": "fp32", "source": str(rule_pipeline)}
    assert summary["model"] == model and summary["complete"] is True
    assert summary["input"]["notes"] == 3 and summary["input"]["path"] == str(notes)
    manifest = json.loads((tmp_path / "out.manifest.json").read_text())
    assert manifest["model"] == model and manifest["input"]["ids_sha256"] == summary["input"]["ids_sha256"]


def test_the_cli_window_default_is_the_package_default():
    import typer

    from spacy_clinkd.cli import app

    params = {p.name: p.default for p in typer.main.get_command(app).commands["annotate"].params}
    assert params["window_chars"] == WINDOW_CHARS and params["max_chars"] is None


# -- exit status and failures that are not about one note -----------------------------


def test_the_exit_status_says_whether_every_note_was_annotated(rule_pipeline, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("has fever", encoding="utf8")
    (folder / "b.txt").write_bytes(b"caf\xe9 and cough")
    out = tmp_path / "out.jsonl"
    code, stdout, err = cli(monkeypatch, capsys, rule_pipeline, folder, out)
    assert code == 3 and "1 of 2 notes have no record" in err and stdout.startswith("✘ "), (stdout, err)
    code, _, err = cli(monkeypatch, capsys, rule_pipeline, folder, out)  # skipped is not annotated
    assert code == 3 and "(0 failed in this run, 1 before)" in err, err
    (folder / "b.txt").write_text("cafe and cough", encoding="utf8")
    code, stdout, _ = cli(monkeypatch, capsys, rule_pipeline, folder, out, "--retry-failed")
    assert code == 0 and stdout.startswith("✔ 1 written"), stdout


@pytest.mark.slow
@pytest.mark.parametrize("how", ["--inference", "@int8"])
def test_int8_without_onnxruntime_stops_before_the_first_note(
    tiny_pipeline, annotate_io, tmp_path, monkeypatch, capsys, how
):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    notes = annotate_io.write_jsonl(tmp_path / "in.jsonl", NOTES)
    out = tmp_path / "out.jsonl"
    model_args = [tiny_pipeline, "--inference", "int8"] if how == "--inference" else [f"{tiny_pipeline}@int8"]
    code, _, err = cli(monkeypatch, capsys, *model_args[:1], notes, out, *model_args[1:])
    assert code == 1 and "cannot annotate a one-line test note" in err and "onnxruntime" in err, err
    assert not out.exists() and not (tmp_path / "out.errors.jsonl").exists()


@Language.component("clinkd_test_needs_a_module_for_boom")
def _needs_a_module_for_boom(doc):
    if "boom" in doc.text:
        raise ImportError("No module named 'boom_support'")
    return doc


def test_an_environment_error_on_a_later_note_stops_the_run_instead_of_failing_notes():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinkd_test_needs_a_module_for_boom")
    notes = [Note(f"n{i}", "boom" if i == 5 else f"fine {i}") for i in range(8)]
    outcomes = annotate_notes(nlp, notes, batch_size=2)
    with pytest.raises(ClinkdError, match="not about one note.*ImportError.*boom_support"):
        for _ in outcomes:
            pass


def test_an_input_that_changes_while_it_is_read_stops_the_run(rule_pipeline, annotate_io, tmp_path, monkeypatch):
    notes = annotate_io.write_jsonl(tmp_path / "in.jsonl", NOTES)
    read = JsonlNotes.notes

    def with_a_note_appended(self, skip=()):
        yield from read(self, skip)
        yield Note("late", "has fever")

    monkeypatch.setattr(JsonlNotes, "notes", with_a_note_appended)
    with pytest.raises(ClinkdError, match="changed while it was read.*'late'"):
        annotate(str(rule_pipeline), notes, tmp_path / "out.jsonl", progress=False)
    monkeypatch.setattr(JsonlNotes, "notes", lambda self, skip=(): (n for n in read(self, skip) if n.id != "b"))
    with pytest.raises(ClinkdError, match="changed while it was read.*1 of its notes are gone, e.g. 'b'"):
        annotate(str(rule_pipeline), notes, tmp_path / "out2.jsonl", progress=False)


def test_the_docbin_folder_keeps_files_that_are_not_its_shards(rule_pipeline, annotate_io, tmp_path):
    notes = annotate_io.write_jsonl(tmp_path / "in.jsonl", NOTES)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "draft.tmp").write_text("somebody's file", encoding="utf8")
    annotate(str(rule_pipeline), notes, tmp_path / "out.jsonl", docbin=docs, progress=False)
    assert (docs / "draft.tmp").read_text(encoding="utf8") == "somebody's file"
    assert len(read_shards(docs)) == 3
