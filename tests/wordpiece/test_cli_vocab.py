"""`extend-vocab` and `vocab-report` on the tiny fixtures: exact vocab growth,
byte-identical re-runs, the report files."""
import json

import pytest
from typer.testing import CliRunner

import spacy_clinkd.cli.vocab  # noqa: F401  (attaches the commands to app)
from spacy_clinkd.cli._app import app
from tests.util import WORDPIECE_DATA as DATA
from tests.util import write_gold_docs, write_tiny_model

CLIN = DATA / "clinical"
GEN = DATA / "general"
SPECS = [
    "--clinical", f"txt:{CLIN}/note_*.txt",
    "--clinical", f"csv:3:{CLIN}/rows.csv",
    "--clinical", f"csv*2:note:{CLIN}/*.csv!*_metadata.csv!rows.csv",
    "--general", f"tsv:3:{GEN}/*.tsv",
    "--general", f"wikitext:{GEN}/wiki.raw",
]
SIZE = 6


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_vocab")
    source = write_tiny_model(root / "source", "bert", True)
    gold = write_gold_docs(root / "gold.spacy")
    runner = CliRunner()
    results = []
    for name in ("a", "b"):
        args = [
            "extend-vocab", str(source), str(root / name / "model"), *SPECS,
            "--size", str(SIZE), "--min-count", "2", "--batch-size", "2",
            "--report-dir", str(root / name / "report"), "--eval-docs", str(gold), "--no-progress",
        ]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output + repr(result.exception)
        results.append(root / name)
    return {"root": root, "source": source, "gold": gold, "runs": results}


def test_vocab_grows_by_exactly_size(runs):
    source_lines = (runs["source"] / "vocab.txt").read_text(encoding="utf8").splitlines()
    lines = (runs["runs"][0] / "model" / "vocab.txt").read_text(encoding="utf8").splitlines()
    assert len(lines) == len(source_lines) + SIZE
    assert lines[: len(source_lines)] == source_lines
    added = lines[len(source_lines):]
    assert "dyspnea" in added
    assert all(any(ch.isalpha() for ch in t) for t in added)


def test_reruns_are_byte_identical(runs):
    a, b = runs["runs"]
    for rel in ["model/vocab.txt", "model/tokenizer.json", "model/tokenizer_config.json",
                "model/model.safetensors", "model/config.json", "report/tokens.tsv",
                "report/fragmentation.json", "report/fragmentation.tsv", "report/summary.md"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_report_files(runs):
    report = runs["runs"][0] / "report"
    for name in ["tokens.tsv", "fragmentation.json", "fragmentation.tsv", "summary.md", "timing.json"]:
        assert (report / name).exists(), name
    pytest.importorskip("matplotlib")
    assert (report / "fragmentation.png").read_bytes().startswith(b"\x89PNG")


def test_report_content(runs):
    data = json.loads((runs["runs"][0] / "report" / "fragmentation.json").read_text())
    ents = data["entity_words"]
    # gold entity words: dyspnea, tachycardia (SYMPTOM), hypertension (DISEASE), lisinopril (MEDICATION)
    assert ents["ALL"]["before"]["words"] == 4
    assert set(ents) == {"ALL", "DISEASE", "MEDICATION", "SYMPTOM"}
    assert ents["ALL"]["after"]["mean_pieces"] < ents["ALL"]["before"]["mean_pieces"]
    assert ents["SYMPTOM"]["after"]["split_share"] < ents["SYMPTOM"]["before"]["split_share"]
    assert data["documents"]["after"]["pieces"] < data["documents"]["before"]["pieces"]
    assert data["vocab_size"]["after"] - data["vocab_size"]["before"] == SIZE
    assert data["tokens_added"] == SIZE
    rows = (runs["runs"][0] / "report" / "tokens.tsv").read_text().splitlines()
    assert rows[0].split("\t")[:3] == ["rank", "token", "kind"]
    assert len(rows) == SIZE + 1


def test_vocab_report_command(runs, tmp_path):
    result = CliRunner().invoke(app, [
        "vocab-report", str(runs["source"]), str(runs["runs"][0] / "model"),
        "--eval-docs", str(runs["gold"]), "--report-dir", str(tmp_path / "r"),
    ])
    assert result.exit_code == 0, result.output
    again = json.loads((tmp_path / "r" / "fragmentation.json").read_text())
    first = json.loads((runs["runs"][0] / "report" / "fragmentation.json").read_text())
    assert again["entity_words"] == first["entity_words"]


def test_bad_spec_is_a_user_error(runs, tmp_path):
    result = CliRunner().invoke(app, [
        "extend-vocab", str(runs["source"]), str(tmp_path / "m"), "--clinical", "pdf:x.pdf",
        "--general", f"tsv:3:{GEN}/*.tsv", "--no-progress",
    ])
    assert result.exit_code != 0
    assert "Bad corpus spec" in str(result.exception)
