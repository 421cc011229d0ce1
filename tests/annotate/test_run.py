"""annotate end to end on a tiny pipeline: records, errors, resuming, full disk, a real SIGKILL."""
import errno
import json
import random
import signal
import subprocess
import sys
import time

import pytest
import spacy
from spacy.language import Language

from spacy_clinkd.annotate import writer
from spacy_clinkd.annotate.engines import annotate_notes
from spacy_clinkd.annotate.inputs import Note
from spacy_clinkd.annotate.run import annotate
from spacy_clinkd.annotate.writer import read_shards
from spacy_clinkd.errors import ClinkdError
from tests.util import ROOT, synthetic_notes


def write_notes(path, notes):
    path.write_text("".join(json.dumps(n) + "\n" for n in notes), encoding="utf8")
    return path


def read_records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines()]


@pytest.fixture(scope="module")
def notes_file(tmp_path_factory):
    return write_notes(tmp_path_factory.mktemp("notes") / "notes.jsonl", synthetic_notes(60))


@pytest.fixture(scope="module")
def reference(tiny_pipeline, notes_file, tmp_path_factory):
    """The records of an uninterrupted single-process run (batch size 1: each
    note's numbers do not depend on its batch neighbours)."""
    out = tmp_path_factory.mktemp("ref") / "out.jsonl"
    summary = annotate(str(tiny_pipeline), notes_file, out, batch_size=1, partition_size=4, progress=False)
    assert (summary.written, summary.skipped, summary.failed) == (60, 0, 0)
    return read_records(out)


def test_records_hold_offsets_scores_and_assertion(tiny_pipeline, notes_file, reference):
    nlp = spacy.load(tiny_pipeline)
    texts = {n["id"]: n["text"] for n in map(json.loads, notes_file.read_text().splitlines())}
    assert [r["id"] for r in reference] == list(texts)
    assert sum(len(r["entities"]) for r in reference) > 20  # the random head finds entities
    for record in reference[:10]:
        doc = nlp(texts[record["id"]])
        assert [(e["start"], e["end"], e["label"]) for e in record["entities"]] == [
            (e.start_char, e.end_char, e.label_) for e in doc.ents
        ]
        for ent, score in zip(record["entities"], doc.spans["clinkd_ner"].attrs["scores"]):
            assert ent["text"] == texts[record["id"]][ent["start"] : ent["end"]]
            assert ent["score"] == pytest.approx(score, abs=1e-4)
            assert ent["assertion"] in ("present", "absent", "possible")


def test_unreadable_notes_go_to_the_errors_file_and_the_run_goes_on(tiny_pipeline, tmp_path):
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("the patient has fever", encoding="utf8")
    (folder / "sub" / "b.txt").write_bytes(b"caf\xe9 and cough")
    (folder / "c.txt").write_text("no chest pain", encoding="utf8")
    out = tmp_path / "out.jsonl"
    first = annotate(str(tiny_pipeline), folder, out, progress=False)
    assert (first.written, first.failed, first.skipped) == (2, 1, 0)
    assert [r["id"] for r in read_records(out)] == ["a.txt", "c.txt"]
    (error,) = read_records(tmp_path / "out.errors.jsonl")
    assert error["id"] == "sub/b.txt" and "0xe9" in error["reason"]
    again = annotate(str(tiny_pipeline), folder, out, progress=False)
    assert (again.written, again.failed, again.skipped) == (0, 0, 3)
    # fixed input + --retry-failed: the note is annotated and leaves the errors file
    (folder / "sub" / "b.txt").write_text("cafe and cough", encoding="utf8")
    retried = annotate(str(tiny_pipeline), folder, out, retry_failed=True, progress=False)
    assert (retried.written, retried.failed, retried.skipped) == (1, 0, 2)
    assert read_records(tmp_path / "out.errors.jsonl") == []
    assert sorted(r["id"] for r in read_records(out)) == ["a.txt", "c.txt", "sub/b.txt"]


@Language.component("clinkd_test_fails_on_boom")
def _fails_on_boom(doc):
    if "boom" in doc.text:
        raise RuntimeError("cannot annotate a boom")
    return doc


def test_a_note_that_breaks_the_pipeline_fails_alone():
    nlp = spacy.blank("en")
    nlp.add_pipe("clinkd_test_fails_on_boom")
    notes = [Note(f"n{i}", "boom" if i == 5 else f"fine {i}") for i in range(8)] + [Note("x", None, "bad bytes")]
    outcomes = list(annotate_notes(nlp, notes, batch_size=4))
    # every note comes back once; only n5 (not its batch neighbours) failed
    assert sorted(note.id for note, _, _ in outcomes) == sorted(n.id for n in notes)
    failed = {note.id: reason for note, doc, reason in outcomes if doc is None}
    assert failed == {"n5": "RuntimeError: cannot annotate a boom", "x": "bad bytes"}


def test_a_note_that_breaks_the_ner_fails_alone(tiny_pipeline, monkeypatch):
    # clinkd_ner is a TrainablePipe: its __call__ and pipe() both go through
    # spaCy's error handler, so the retry must not swallow the error
    nlp = spacy.load(tiny_pipeline)
    ner = nlp.get_pipe("clinkd_ner")
    predict = ner.predict

    def fails_on_boom(docs):
        docs = list(docs)
        if any("boom" in doc.text for doc in docs):
            raise RuntimeError("cannot annotate a boom")
        return predict(docs)

    monkeypatch.setattr(ner, "predict", fails_on_boom)
    notes = [Note(f"n{i}", "the patient has boom" if i == 2 else f"the patient has fever {i}") for i in range(6)]
    outcomes = {note.id: (doc, reason) for note, doc, reason in annotate_notes(nlp, notes, batch_size=3)}
    assert sorted(outcomes) == [n.id for n in notes]
    assert outcomes["n2"] == (None, "RuntimeError: cannot annotate a boom")
    # n0 and n1 shared n2's batch: annotated on the retry, like the others
    assert all(outcomes[f"n{i}"][0] is not None and "clinkd_ner" in outcomes[f"n{i}"][0].spans for i in (0, 1, 3, 4, 5))


def test_duplicate_ids_stop_the_run_before_any_output(tiny_pipeline, tmp_path):
    notes = write_notes(tmp_path / "n.jsonl", [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    with pytest.raises(ClinkdError, match="Duplicate note id"):
        annotate(str(tiny_pipeline), notes, tmp_path / "out.jsonl", progress=False)
    assert not (tmp_path / "out.jsonl").exists()


def test_a_full_disk_is_a_clear_error_and_the_rerun_loses_nothing(
    tiny_pipeline, notes_file, reference, tmp_path, monkeypatch
):
    real_write_all = writer.write_all
    calls = []

    def disk_fills_up(fd, data):
        calls.append(len(data))
        if len(calls) == 3:  # half a chunk reaches the disk, then ENOSPC
            real_write_all(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_all(fd, data)

    monkeypatch.setattr(writer, "write_all", disk_fills_up)
    out = tmp_path / "out.jsonl"
    with pytest.raises(ClinkdError, match="No space left on device.*resume"):
        annotate(str(tiny_pipeline), notes_file, out, batch_size=1, partition_size=4, progress=False)
    assert not out.read_bytes().endswith(b"\n")  # a torn line was left behind
    complete = out.read_bytes().count(b"\n")
    assert 8 <= complete < 12  # two chunks, and the whole lines of half the third
    monkeypatch.setattr(writer, "write_all", real_write_all)
    resumed = annotate(str(tiny_pipeline), notes_file, out, batch_size=1, partition_size=4, progress=False)
    assert resumed.skipped == complete and resumed.written == 60 - complete
    assert read_records(out) == reference


def test_docbin_shards_hold_the_annotated_docs(tiny_pipeline, tmp_path):
    notes = write_notes(tmp_path / "n.jsonl", synthetic_notes(7))
    out = tmp_path / "out.jsonl"
    annotate(str(tiny_pipeline), notes, out, partition_size=3, docbin=tmp_path / "docs", progress=False)
    nlp = spacy.load(tiny_pipeline)
    docs = read_shards(tmp_path / "docs", nlp.vocab)
    records = read_records(out)
    assert [d.user_data["note_id"] for d in docs] == [r["id"] for r in records]
    for doc, record in zip(docs, records):
        assert [(e.start_char, e.end_char, e.label_, e._.assertion) for e in doc.ents] == [
            (e["start"], e["end"], e["label"], e["assertion"]) for e in record["entities"]
        ]


def test_dask_engine_without_dask_says_what_to_install(tiny_pipeline, notes_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ClinkdError, match=r"pip install \"dask\[distributed\]\".*pip install \"spacy_clinkd\[dask\]\" --find-links DIR"):
        annotate(str(tiny_pipeline), notes_file, tmp_path / "out.jsonl", engine="dask", progress=False)
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.slow
def test_resume_after_sigkill_equals_an_uninterrupted_run(tiny_pipeline, notes_file, reference, tmp_path):
    out = tmp_path / "out.jsonl"
    command = [
        sys.executable, "-m", "spacy_clinkd", "annotate", str(tiny_pipeline), str(notes_file), str(out),
        "--batch-size", "1", "--partition-size", "2", "--no-progress",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # a random point of the run, early enough that it is surely not over:
    # after `at_least` records (the first third), maybe mid-line
    at_least = random.randint(1, len(reference) // 3)
    deadline = time.monotonic() + 240
    while not (out.exists() and out.read_bytes().count(b"\n") >= at_least):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_lines = out.read_bytes().count(b"\n")
    assert 0 < killed_lines < len(reference), "the run was not killed midway"
    resumed = annotate(str(tiny_pipeline), notes_file, out, batch_size=1, partition_size=4, progress=False)
    assert resumed.skipped == killed_lines and resumed.written == len(reference) - killed_lines
    # record for record, in order, none lost, none twice
    assert read_records(out) == reference
