"""CLI: convert-brat / convert-conll / convert-pubtator through typer's runner."""
import json
from pathlib import Path

from spacy.tokens import DocBin
from typer.testing import CliRunner

import spacy_clinkd.cli.convert  # noqa: F401  (attaches the commands)
from spacy_clinkd.cli._app import app
from spacy_clinkd.tokenizer import clinical_blank
from tests.util import PUBTATOR_SAMPLE_ENTS

DATA = Path(__file__).parent.parent / "data" / "corpora"
LABELS = Path(__file__).parents[2] / "configs" / "labels"
runner = CliRunner()


def load(path):
    nlp = clinical_blank()
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def test_convert_brat(tmp_path):
    out = tmp_path / "corpus"
    args = ["convert-brat", str(DATA / "brat"), str(out), "--split", str(DATA / "brat_split.json")]
    result = runner.invoke(app, args + ["--labels", str(DATA / "brat_labels.json")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["dev.spacy", "report.json", "test.spacy", "train.spacy"]
    train = load(out / "train.spacy")
    assert [d.user_data["doc_id"] for d in train] == ["doc1", "doc2"]
    assert [(e.text, e.label_) for e in train[1].ents] == [
        ("anemia", "DISEASE"),
        ("renal failure", "DISEASE"),
        ("sore neck", "SYMPTOM"),
    ]
    assert [(e.text, e.label_) for d in load(out / "dev.spacy") for e in d.ents] == [("fever", "SYMPTOM")]
    assert [(e.text, e.label_) for d in load(out / "test.spacy") for e in d.ents] == [
        ("10", "DOSAGE"),
        ("heparin", "MEDICATION"),
        ("thrombosis", "DISEASE"),
    ]
    report = json.loads((out / "report.json").read_text(encoding="utf8"))
    assert report["docs"] == {"train": 2, "dev": 1, "test": 1}
    assert report["kept"] == {
        "train": {"DISEASE": 2, "DOSAGE": 1, "MEDICATION": 2, "SYMPTOM": 3},
        "dev": {"SYMPTOM": 1},
        "test": {"DISEASE": 1, "DOSAGE": 1, "MEDICATION": 1},
    }
    assert report["dropped"] == {
        "overlap": {"Sign_symptom": 3},
        "unalignable": {"Sign_symptom": 1},
        "unmapped_label": {"Age": 1},
    }
    assert "unmapped_label" in result.output


def test_convert_brat_limit(tmp_path):
    args = ["convert-brat", str(DATA / "brat"), str(tmp_path), "--split", str(DATA / "brat_split.json")]
    result = runner.invoke(app, args + ["--labels", str(LABELS / "maccrobat.json"), "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert [d.user_data["doc_id"] for d in load(tmp_path / "train.spacy")] == ["doc1"]


def test_convert_conll(tmp_path):
    out = tmp_path / "test.spacy"
    args = ["convert-conll", str(DATA / "conll" / "sample.tsv"), str(out), "--labels", str(LABELS / "bc5cdr.json")]
    result = runner.invoke(app, args + ["--n-sents", "2", "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    assert [len(list(d.sents)) for d in load(out)] == [2, 1]
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf8"))["kept"] == {
        "test": {"CHEMICAL": 2, "DISEASE": 2}
    }


def test_convert_pubtator(tmp_path):
    out = tmp_path / "cdr.spacy"
    args = ["convert-pubtator", str(DATA / "pubtator" / "sample.txt"), str(out)]
    result = runner.invoke(app, args + ["--labels", str(LABELS / "bc5cdr.json"), "--limit", "1"])
    assert result.exit_code == 0, result.output
    docs = load(out)
    assert [d.user_data["doc_id"] for d in docs] == ["111"]
    assert [(e.text, e.label_) for e in docs[0].ents] == PUBTATOR_SAMPLE_ENTS
    assert "surface_mismatch" in result.output


def test_convert_brat_context_labels(tmp_path):
    from spacy_clinkd.corpora.spans import CONTEXTS, gold_contexts

    text = "History of asthma. Sister had lupus. Now cough."
    rows = [
        ("History", "History of asthma"), ("Disease_disorder", "asthma"),
        ("Family_history", "Sister had lupus"), ("Disease_disorder", "lupus"), ("Sign_symptom", "cough"),
    ]
    ann = "".join(
        f"T{i}\t{kind} {text.index(s)} {text.index(s) + len(s)}\t{s}\n" for i, (kind, s) in enumerate(rows, 1)
    )
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "a.txt").write_text(text, encoding="utf8")
    (brat / "a.ann").write_text(ann, encoding="utf8")
    (tmp_path / "split.json").write_text('{"train": ["a"]}', encoding="utf8")
    args = ["convert-brat", str(brat), "--split", str(tmp_path / "split.json"), "--labels", str(LABELS / "maccrobat.json")]
    context = ["--context-labels", str(LABELS / "maccrobat_context.json")]
    with_context = runner.invoke(app, [*args[:2], str(tmp_path / "ctx"), *args[2:], *context])
    without = runner.invoke(app, [*args[:2], str(tmp_path / "plain"), *args[2:]])
    assert with_context.exit_code == 0, with_context.output
    assert without.exit_code == 0, without.output
    [doc] = load(tmp_path / "ctx" / "train.spacy")
    [plain] = load(tmp_path / "plain" / "train.spacy")
    assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in plain.ents] == [
        ("asthma", "DISEASE"), ("lupus", "DISEASE"), ("cough", "SYMPTOM"),
    ]
    assert gold_contexts(doc) == {(11, 17): {"historical"}, (30, 35): {"family"}, (41, 46): frozenset()}
    assert CONTEXTS not in plain.user_data
    report = json.loads((tmp_path / "ctx" / "report.json").read_text(encoding="utf8"))
    assert report["context"] == {"train": {"DISEASE": {"family": 1, "historical": 1}}}
    assert "context" not in json.loads((tmp_path / "plain" / "report.json").read_text(encoding="utf8"))
    assert any(line.split() == ["train", "DISEASE", "1", "1"] for line in with_context.output.splitlines())
