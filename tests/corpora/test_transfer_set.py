"""The transfer set: licence filter, deduplication, sampling, counts."""
import gzip
import json

import pytest
from typer.testing import CliRunner

from spacy_clinkd.cli import app
from spacy_clinkd.corpora.transfer_set import Source, build_transfer_set
from spacy_clinkd.errors import ClinkdError, InputFileError


@pytest.fixture
def sources(tmp_path):
    jsonl = tmp_path / "cases.jsonl"
    records = [
        {"id": "A1", "text": "A 60-year-old man with fever.", "licence": "CC BY"},
        {"id": "A2", "text": "A woman with rash.", "licence": "CC BY-NC"},
        {"id": "A3", "text": "  A 60-year-old man with fever.\n", "licence": "CC BY"},  # same text
        {"id": "A4", "text": "   ", "licence": "CC BY"},
    ]
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf8")
    csv_gz = tmp_path / "notes.csv.gz"
    rows = 'note_id,transcription\n1,"SUBJECTIVE:,  cough, no fever."\n2,"A woman with rash."\n3,""\n'
    csv_gz.write_bytes(gzip.compress(rows.encode("utf8")))
    return [Source.parse(f"jsonl:text:{jsonl}"), Source.parse(f"csv:transcription:{csv_gz}")]


def test_every_record_written_or_counted(sources):
    records, report = build_transfer_set(sources)
    assert [r["id"] for r in records] == ["A1", "A2", "notes.csv.gz:1"]
    assert records[2]["licence"] == "unstated"
    counts = report.to_dict()
    assert sum(counts["read"].values()) == 7
    dropped = sum(sum(c.values()) for c in counts["dropped"].values())
    assert counts["written"] + dropped == 7
    assert {reason: sum(c.values()) for reason, c in counts["dropped"].items()} == {"duplicate": 2, "empty": 2}


def test_licence_filter_leaves_out_unstated(sources):
    records, report = build_transfer_set(sources, licences=["CC BY"])
    assert [r["id"] for r in records] == ["A1"]
    assert report.to_dict()["licences_written"] == {"CC BY": 1}
    assert sum(report.dropped["licence"].values()) == 3  # A2, and both CSV notes with text


def test_sample_is_seeded_and_in_source_order(sources):
    a, report = build_transfer_set(sources, max_docs=2, seed=3)
    b, _ = build_transfer_set(sources, max_docs=2, seed=3)
    assert a == b and len(a) == 2
    order = ["A1", "A2", "notes.csv.gz:1"]
    assert [order.index(r["id"]) for r in a] == sorted(order.index(r["id"]) for r in a)
    assert sum(report.dropped["not sampled"].values()) == 1


def test_bad_source_spec_and_missing_column(tmp_path, sources):
    with pytest.raises(ClinkdError, match="FORMAT:FIELD:PATH"):
        Source.parse("txt:notes")
    with pytest.raises(ClinkdError, match="no column 'note'"):
        build_transfer_set([Source("csv", "note", sources[1].path)])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x"}\nnot json\n', encoding="utf8")
    with pytest.raises(InputFileError, match="bad.jsonl:2"):
        build_transfer_set([Source("jsonl", "text", bad)])


def test_cli_writes_jsonl_and_report(tmp_path, sources):
    out, report = tmp_path / "set.jsonl", tmp_path / "set.json"
    spec = f"jsonl:text:{sources[0].path}"
    runner = CliRunner()
    result = runner.invoke(app, ["transfer-set", str(out), "--source", spec, "--licence", "CC BY", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["A1"]
    assert json.loads(report.read_text())["licences"] == ["CC BY"]
    result = runner.invoke(app, ["transfer-set", str(sources[0].path), "--source", spec])  # output is an input
    assert result.exit_code != 0 and isinstance(result.exception, ClinkdError)
