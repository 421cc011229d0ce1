"""Reading notes: folder / JSONL / CSV, duplicate ids, malformed files, unreadable notes."""
import json

import pytest

from spacy_clinkd.annotate.inputs import CsvNotes, JsonlNotes, TextFolder, note_ids, open_source
from spacy_clinkd.errors import ClinkdError, InputFileError


def write_jsonl(path, lines):
    path.write_bytes(b"".join(line if isinstance(line, bytes) else (json.dumps(line) + "\n").encode() for line in lines))
    return path


def test_folder_is_recursive_with_relative_ids_and_keeps_crlf(tmp_path):
    (tmp_path / "ward" / "b").mkdir(parents=True)
    (tmp_path / "z.txt").write_bytes(b"fever\r\nno cough")
    (tmp_path / "ward" / "b" / "a.txt").write_text("pain", encoding="utf8")
    (tmp_path / "ward" / "skip.csv").write_text("x", encoding="utf8")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 fever")
    source = open_source(tmp_path)
    assert isinstance(source, TextFolder)
    assert note_ids(source) == ["bad.txt", "ward/b/a.txt", "z.txt"]
    notes = {n.id: n for n in source.notes()}
    # offsets must count into the text as read: no newline translation
    assert notes["z.txt"].text == "fever\r\nno cough"
    assert notes["bad.txt"].text is None and "0xe9" in notes["bad.txt"].error
    assert [n.id for n in source.notes(skip={"z.txt", "bad.txt"})] == ["ward/b/a.txt"]


def test_jsonl_duplicate_ids_stop_before_any_work(tmp_path):
    path = write_jsonl(tmp_path / "n.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}])
    with pytest.raises(ClinkdError, match=r"Duplicate note id 'a'.*n.jsonl:1.*n.jsonl:3"):
        note_ids(open_source(path))


def test_jsonl_unidentifiable_lines_are_file_errors_with_the_line(tmp_path):
    path = write_jsonl(tmp_path / "n.jsonl", [{"id": "a", "text": "x"}, b"{not json\n"])
    with pytest.raises(InputFileError) as info:
        note_ids(JsonlNotes(path))
    assert info.value.line == 2
    path = write_jsonl(tmp_path / "m.jsonl", [{"text": "no id"}])
    with pytest.raises(InputFileError, match="no id"):
        note_ids(JsonlNotes(path))


def test_jsonl_unreadable_notes_keep_their_id(tmp_path):
    path = write_jsonl(
        tmp_path / "n.jsonl",
        [
            {"id": 7, "text": "fever"},
            b'{"id": "bytes", "text": "caf\xe9"}\n',
            {"id": "notext"},
            {"id": "num", "text": 3},
            b"\n",
            {"id": "surrogate", "text": "\ud800"},
        ],
    )
    notes = list(JsonlNotes(path).notes())
    assert [n.id for n in notes] == ["7", "bytes", "notext", "num", "surrogate"]
    assert notes[0].text == "fever" and notes[0].error is None
    assert all(n.text is None and n.error for n in notes[1:])
    assert "UTF-8" in notes[1].error and ":2:" in notes[1].error
    assert "no \"text\"" in notes[2].error


def test_csv_columns_short_rows_and_missing_column(tmp_path):
    path = tmp_path / "n.csv"
    path.write_bytes(b'enc,note,other\ne1,"fever,\nand cough",x\ne2\ne3,caf\xe9,y\n')
    source = open_source(path, id_column="enc", text_column="note")
    assert isinstance(source, CsvNotes)
    assert note_ids(source) == ["e1", "e2", "e3"]
    notes = list(source.notes())
    assert notes[0].text == "fever,\nand cough"
    assert notes[1].text is None and "no 'note'" in notes[1].error
    assert notes[2].text is None and "UTF-8" in notes[2].error
    with pytest.raises(ClinkdError, match="no column 'text'"):
        note_ids(open_source(path, id_column="enc"))


def test_unknown_format_and_missing_input(tmp_path):
    (tmp_path / "notes.xml").write_text("<x/>", encoding="utf8")
    with pytest.raises(ClinkdError, match="Cannot tell the input format"):
        open_source(tmp_path / "notes.xml")
    with pytest.raises(ClinkdError, match="does not exist"):
        open_source(tmp_path / "nope.jsonl")
