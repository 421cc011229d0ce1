"""Hostile use of the commands, run as `python -m spacy_clinkd ...` runs them
(through `cli.main`): every failure is one numbered message and exit code 1,
never a traceback; outputs are checked before any work."""
import errno
import json

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_clinkd.cli import user_error
from spacy_clinkd.errors import ClinkdError
from tests.util import CONFIGS, DATA_DIR, WORDPIECE_DATA, run_cli, write_brat

pytestmark = pytest.mark.hostile

CORPORA = DATA_DIR / "corpora"
BC5CDR = CONFIGS / "labels" / "bc5cdr.json"


def failed(code, err, *fragments):
    """The command stopped with one message (✘ ...) holding every fragment."""
    assert code == 1
    assert err.startswith("✘ ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


def test_convert_conll_refuses_to_overwrite_its_input(monkeypatch, capsys, tmp_path):
    source = tmp_path / "x.bio"
    source.write_bytes((CORPORA / "conll" / "sample.tsv").read_bytes())
    code, _, err = run_cli(monkeypatch, capsys, "convert-conll", source, source, "--labels", BC5CDR)
    failed(code, err, f"The output {source} is also an input (the input file)")
    assert source.read_bytes() == (CORPORA / "conll" / "sample.tsv").read_bytes()


def test_convert_conll_refuses_a_report_on_its_output(monkeypatch, capsys, tmp_path):
    out = tmp_path / "x.spacy"
    args = ["convert-conll", CORPORA / "conll" / "sample.tsv", out, "--labels", BC5CDR, "--report", out]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    failed(code, err, "Two outputs are the same file")
    assert not out.exists()


def test_convert_brat_checks_its_output_before_reading(monkeypatch, capsys, tmp_path):
    # The .ann is malformed too: the output error comes first, before any work.
    write_brat(tmp_path / "brat", "doc1", "fever", "T1\tSign_symptom 0 99\tfever\n")
    (tmp_path / "split.json").write_text('{"train": ["doc1"]}', encoding="utf8")
    (tmp_path / "out").write_text("a file", encoding="utf8")
    args = ["convert-brat", tmp_path / "brat", tmp_path / "out", "--split", tmp_path / "split.json"]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--labels", CORPORA / "brat_labels.json")
    failed(code, err, f"Cannot write {tmp_path / 'out'}: it is a file, not a folder")


def test_convert_pubtator_into_an_unwritable_folder(monkeypatch, capsys):
    args = ["convert-pubtator", CORPORA / "pubtator" / "sample.txt", "/sys/clinkd/x.spacy", "--labels", BC5CDR]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    failed(code, err, "Cannot write /sys/clinkd/x.spacy", "cannot create files in /sys")


def test_convert_brat_strict_names_file_and_line(monkeypatch, capsys, tmp_path):
    write_brat(tmp_path / "brat", "doc1", "ééééé fever today", "T1\tSign_symptom 11 16\tfever\n")
    (tmp_path / "split.json").write_text('{"train": ["doc1"]}', encoding="utf8")
    args = ["convert-brat", tmp_path / "brat", tmp_path / "out", "--split", tmp_path / "split.json"]
    args += ["--labels", CORPORA / "brat_labels.json"]
    code, out, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and "surface_mismatch" in out
    code, _, err = run_cli(monkeypatch, capsys, *args, "--strict")
    failed(code, err, f"{tmp_path / 'brat' / 'doc1.ann'}:1: The surface text 'fever' differs")


@pytest.fixture
def blank_model(tmp_path):
    path = tmp_path / "blank_model"
    spacy.blank("en").to_disk(path)
    return path


def test_evaluate_on_no_documents_is_an_error(monkeypatch, capsys, tmp_path, blank_model):
    empty = tmp_path / "empty.spacy"
    DocBin().to_disk(empty)
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", blank_model, empty, "--output", tmp_path / "m.json")
    failed(code, err, f"{empty} holds no documents")
    assert not (tmp_path / "m.json").exists()


def test_evaluate_checks_its_output_before_loading_the_pipeline(monkeypatch, capsys, tmp_path, blank_model):
    gold = tmp_path / "gold.spacy"
    DocBin(docs=[spacy.blank("en")("fever")]).to_disk(gold)
    (tmp_path / "metrics").mkdir()
    code, _, err = run_cli(monkeypatch, capsys, "evaluate", blank_model, gold, "--output", tmp_path / "metrics")
    failed(code, err, f"Cannot write {tmp_path / 'metrics'}: it is a folder")


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("assets:\n  - dest: \"a\n  bad: [\n", "is not valid YAML"),
        ("- dest: assets/a\n- dest: assets/b\n", "must be a YAML mapping with 'assets'"),
        ("vars: [1, 2]\nassets: []\n", "data mirror"),
    ],
    ids=["malformed", "list-shaped", "vars-list"],
)
def test_fetch_assets_on_a_bad_project_yml(monkeypatch, capsys, tmp_path, content, fragment):
    (tmp_path / "project.yml").write_text(content, encoding="utf8")
    code, _, err = run_cli(monkeypatch, capsys, "fetch-assets", tmp_path)
    failed(code, err, fragment)


def test_extend_vocab_names_the_corpus_file_with_a_bad_byte(monkeypatch, capsys, tmp_path, tiny_bert):
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"fever and cough\nchest pain \xff\n")
    args = ["extend-vocab", tiny_bert, tmp_path / "out", "--clinical", f"lines:{bad}"]
    args += ["--general", f"wikitext:{WORDPIECE_DATA / 'general' / 'wiki.raw'}", "--size", "2", "--no-progress"]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    failed(code, err, f"{bad}:2: Not valid UTF-8 (byte 0xff at column 12)")


def test_an_oserror_that_names_a_file_is_a_user_error_and_a_bug_is_not():
    error = user_error(PermissionError(errno.EACCES, "Permission denied", "/data/notes.csv"))
    assert isinstance(error, ClinkdError)
    assert str(error) == "Cannot read /data/notes.csv: Permission denied."
    assert user_error(ValueError("a bug")) is None
    assert user_error(OSError("no file named")) is None


def test_report_json_lists_notes(monkeypatch, capsys, tmp_path):
    source = tmp_path / "x.txt"
    source.write_bytes(b"1|t|Fever.\r\n1\t0\t5\tFever\tDisease\tD1\n")
    args = ["convert-pubtator", source, tmp_path / "x.spacy", "--labels", BC5CDR, "--report", tmp_path / "r.json"]
    code, out, _ = run_cli(monkeypatch, capsys, *args)
    assert code == 0
    assert "note: " in out and "mixed line ends" in out
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf8"))["notes"][0].endswith(
        "mixed line ends (\\n 1, \\r\\n 1); each of them ends a line."
    )
