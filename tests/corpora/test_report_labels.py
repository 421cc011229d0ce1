"""ConversionReport, label maps and text I/O."""
import json
from pathlib import Path

import pytest
import srsly

from spacy_clinkd.corpora.conversion_report import ConversionReport
from spacy_clinkd.corpora.labels import load_context_map, load_label_map
from spacy_clinkd.corpora.textio import read_lines
from spacy_clinkd.errors import ClinkdError

CONFIGS = Path(__file__).parents[2] / "configs" / "labels"


def make_report() -> ConversionReport:
    report = ConversionReport(source="toy")
    report.count_doc("train", 2)
    report.count_doc("dev")
    report.count_kept("train", "DISEASE", 3)
    report.count_kept("dev", "SYMPTOM")
    report.count_dropped("unmapped_label", "Lab_value", 4)
    report.count_dropped("unmapped_label", "Age")
    report.count_dropped("overlap", "Sign_symptom")
    report.count_adjusted("expanded_to_token_boundaries", "Disease_disorder", 2)
    report.count_skipped("R", 7)
    report.note("x.ann: mixed line ends")
    return report


def test_report_json(tmp_path):
    path = tmp_path / "out" / "report.json"
    make_report().write_json(path)
    assert json.loads(path.read_text(encoding="utf8")) == {
        "source": "toy",
        "docs": {"train": 2, "dev": 1},
        "kept": {"train": {"DISEASE": 3}, "dev": {"SYMPTOM": 1}},
        "dropped": {"overlap": {"Sign_symptom": 1}, "unmapped_label": {"Age": 1, "Lab_value": 4}},
        "adjusted": {"expanded_to_token_boundaries": {"Disease_disorder": 2}},
        "skipped": {"R": 7},
        "notes": ["x.ann: mixed line ends"],
    }


def test_report_table():
    table = make_report().table()
    lines = table.splitlines()
    assert lines[0] == "Conversion report: toy"
    assert "docs          2    1" in table
    assert "DISEASE       3    0" in table
    assert "entities      3    1" in table
    assert any(line.split()[:3] == ["dropped", "unmapped_label", "5"] and "Lab_value 4, Age 1" in line for line in lines)
    assert any(line.split() == ["skipped", "lines", "R", "7"] for line in lines)
    assert lines[-1] == "note: x.ann: mixed line ends"
    report = make_report()
    assert report.n_dropped("unmapped_label") == 5
    assert report.n_adjusted("expanded_to_token_boundaries") == 2


def test_shipped_label_maps():
    assert load_label_map(CONFIGS / "maccrobat.json") == {
        "Disease_disorder": "DISEASE",
        "Medication": "MEDICATION",
        "Sign_symptom": "SYMPTOM",
    }
    assert load_label_map(CONFIGS / "bc5cdr.json") == {"Disease": "DISEASE", "Chemical": "CHEMICAL"}
    assert load_label_map(CONFIGS / "ncbi.json") == {"Disease": "DISEASE"}


@pytest.mark.parametrize(
    "content,reason",
    [
        ('["Disease"]', "found list"),
        ('{"Disease": 1}', "the value for 'Disease' is 1"),
        ('{"Disease": ""}', "the value for 'Disease' is ''"),
        # not JSON: the reason is the parser's own message
        ("{oops", None),
    ],
)
def test_bad_label_map(tmp_path, content, reason):
    path = tmp_path / "labels.json"
    path.write_text(content, encoding="utf8")
    if reason is None:
        with pytest.raises(ValueError) as parse_error:
            srsly.read_json(path)
        reason = str(parse_error.value)
    with pytest.raises(ClinkdError, match="labels.json must be a JSON object") as exc:
        load_label_map(path)
    assert str(exc.value).endswith(f": {reason}.")


def test_report_counts_context_in_json_and_table():
    report = make_report()
    report.count_context("train", "DISEASE", "historical", 2)
    report.count_context("train", "DISEASE", "family")
    report.count_context("dev", "SYMPTOM", "historical")
    assert report.to_dict()["context"] == {
        "train": {"DISEASE": {"family": 1, "historical": 2}},
        "dev": {"SYMPTOM": {"historical": 1}},
    }
    lines = make_report().table().splitlines()
    assert not any(line.startswith("context") for line in lines)
    lines = report.table().splitlines()
    header = lines.index(next(line for line in lines if line.startswith("context")))
    assert lines[header].split() == ["context", "label", "family", "historical"]
    assert lines[header + 2].split() == ["train", "DISEASE", "1", "2"]
    assert lines[header + 3].split() == ["dev", "SYMPTOM", "0", "1"]


def test_shipped_context_map():
    assert load_context_map(CONFIGS / "maccrobat_context.json") == {
        "History": "historical",
        "Family_history": "family",
    }


@pytest.mark.parametrize(
    "content,reason",
    [
        ('{"History": "past"}', "the value for 'History' is 'past'"),
        ('{"History": "HISTORICAL"}', "the value for 'History' is 'HISTORICAL'"),
        ('{"History": ["historical"]}', "the value for 'History' is ['historical']"),
        ('["History"]', "found list"),
    ],
)
def test_bad_context_map(tmp_path, content, reason):
    path = tmp_path / "context.json"
    path.write_text(content, encoding="utf8")
    allowed = "'historical', 'hypothetical', 'family'"
    with pytest.raises(ClinkdError) as exc:
        load_context_map(path)
    assert str(exc.value) == (
        f"Context label map {path} must be a JSON object mapping corpus types to context values, "
        f"each one of {allowed}: {reason}."
    )
    # the same file is a good plain label map when its values are strings
    if reason.startswith("the value") and "[" not in reason:
        assert load_label_map(path) == json.loads(content)


def test_missing_label_map(tmp_path):
    with pytest.raises(ClinkdError, match="nope.json"):
        load_label_map(tmp_path / "nope.json")


def test_read_lines_keeps_unicode_line_separators(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes("a\u2028b\r\nc\n\nd".encode("utf8"))
    assert read_lines(path) == ["a\u2028b", "c", "", "d"]
