"""The resumable writer: torn lines, foreign lines, the lock, DocBin shards."""
import json

import pytest
from spacy.tokens import DocBin

from spacy_clinkd.annotate.writer import JsonlLog, ShardWriter, errors_path, read_shards
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.tokenizer import clinical_blank


def test_errors_path_sits_beside_the_output(tmp_path):
    assert errors_path(tmp_path / "notes.jsonl") == tmp_path / "notes.errors.jsonl"
    assert errors_path(tmp_path / "out") == tmp_path / "out.errors.jsonl"


def test_a_torn_last_line_is_cut_and_rewritten(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id":"a","entities":[]}\n{"id":"b","entities":[]}\n{"id":"c","ent')
    log = JsonlLog(path)
    assert log.open() == {"a", "b"}
    assert log.torn_bytes == len(b'{"id":"c","ent')
    log.append([{"id": "c", "entities": []}])
    log.close()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a", "b", "c"]


def test_a_foreign_line_before_the_end_stops_the_run(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id":"a","entities":[]}\nnot json\n{"id":"b","entities":[]}\n')
    with pytest.raises(ClinkdError, match="line 2 is not an annotate record"):
        JsonlLog(path).open()
    assert path.read_bytes().count(b"\n") == 3  # nothing was cut


def test_a_second_writer_on_the_same_output_is_refused(tmp_path):
    first = JsonlLog(tmp_path / "out.jsonl")
    first.open()
    with pytest.raises(ClinkdError, match="Another annotate run"):
        JsonlLog(tmp_path / "out.jsonl").open()
    first.close()
    second = JsonlLog(tmp_path / "out.jsonl")
    second.open()  # the lock goes with its holder
    second.close()


def test_unwritable_output_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf8")
    with pytest.raises(ClinkdError, match="Cannot write"):
        JsonlLog(tmp_path / "file" / "out.jsonl").open()


def _shard(ids):
    nlp = clinical_blank()
    docs = []
    for note_id in ids:
        doc = nlp.make_doc(f"text of {note_id}")
        doc.user_data["note_id"] = note_id
        docs.append(doc)
    return DocBin(docs=docs, store_user_data=True).to_bytes()


def test_shards_are_cut_to_the_notes_whose_records_exist(tmp_path):
    shards = ShardWriter(tmp_path / "docs")
    shards.open(set())
    shards.write(_shard(["a", "b"]))
    shards.write(_shard(["c", "d"]))  # killed before the records of c, d were written
    shards.write(_shard(["b"]))  # a duplicate
    resumed = ShardWriter(tmp_path / "docs")
    resumed.open({"a", "b", "c"})
    assert [d.user_data["note_id"] for d in read_shards(tmp_path / "docs")] == ["a", "b", "c"]
    resumed.write(_shard(["d"]))
    assert [d.user_data["note_id"] for d in read_shards(tmp_path / "docs")] == ["a", "b", "c", "d"]
