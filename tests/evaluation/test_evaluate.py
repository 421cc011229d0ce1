"""`python -m spacy_clinkd evaluate` on a tiny rule-based pipeline saved to tmp_path."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import spacy
import typer
from spacy.tokens import DocBin
from typer.testing import CliRunner

import spacy_clinkd.cli.evaluate  # noqa: F401  (attaches the command to the app)
from spacy_clinkd.cli._app import app
from spacy_clinkd.errors import ClinkdError

GOLD = [
    ("Aspirin for chest pain.", [(0, 7, "MEDICATION"), (12, 22, "SYMPTOM")]),
    ("Severe headache and diabetes.", [(7, 15, "SYMPTOM"), (20, 28, "DISEASE")]),
    ("No  findings.", []),  # the double space is a whitespace token
]


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    # Predictions: Aspirin (tp), chest pain (tp), "Severe headache" (strict fp + fn,
    # lenient tp), "findings" (fp); diabetes is missed (fn).
    ruler.add_patterns(
        [
            {"label": "DRUG", "pattern": "Aspirin"},
            {"label": "SYMPTOM", "pattern": "chest pain"},
            {"label": "SYMPTOM", "pattern": [{"LOWER": "severe"}, {"LOWER": "headache"}]},
            {"label": "SYMPTOM", "pattern": "findings"},
            {"label": "OTHER", "pattern": "No"},
        ]
    )
    nlp.meta["name"] = "toy"
    nlp.meta["version"] = "0.0.1"
    path = tmp_path / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture
def data_path(tmp_path: Path) -> Path:
    nlp = spacy.blank("en")
    db = DocBin()
    for text, ents in GOLD:
        doc = nlp(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        db.add(doc)
    path = tmp_path / "gold.spacy"
    db.to_disk(path)
    return path


def _run(args):
    # Typer runs a lone command without its name; with the sibling modules imported,
    # `app` is a group and needs "evaluate" first.
    if isinstance(typer.main.get_command(app), typer.core.TyperGroup):
        args = ["evaluate", *args]
    return CliRunner().invoke(app, args)


def test_evaluate_writes_metrics(tmp_path, model_dir, data_path, keep_threads):
    import torch

    # More threads than CPUs: a count no default gives, so the metrics must
    # record the count the pass ran with.
    threads = (os.cpu_count() or 1) + 1
    torch.set_num_threads(threads)
    label_map = tmp_path / "map.json"
    label_map.write_text(json.dumps({"DRUG": "MEDICATION", "SYMPTOM": "SYMPTOM"}))
    out = tmp_path / "metrics" / "toy.json"
    md = tmp_path / "metrics" / "toy.md"
    result = _run(
        [
            str(model_dir),
            str(data_path),
            "--output", str(out),
            "--markdown", str(md),
            "--labels", "DISEASE,MEDICATION,SYMPTOM",
            "--label-map", str(label_map),
            "--batch-size", "2",
            "--title", "Toy",
            "--bootstrap", "0",
        ]
    )
    assert result.exit_code == 0, result.output
    m = json.loads(out.read_text())
    # strict: tp 2 (Aspirin, chest pain); fp 2 (Severe headache, findings);
    # fn 2 (headache, diabetes)
    micro = m["micro"]
    assert (micro["tp"], micro["fp"], micro["fn"], micro["support"]) == (2, 2, 2, 4)
    assert micro["p"] == pytest.approx(0.5) and micro["r"] == pytest.approx(0.5)
    assert list(m["per_label"]) == ["DISEASE", "MEDICATION", "SYMPTOM"]
    assert m["per_label"]["MEDICATION"]["f"] == 1.0
    assert m["per_label"]["DISEASE"]["fn"] == 1 and m["per_label"]["DISEASE"]["f"] == 0.0
    sym = m["per_label"]["SYMPTOM"]
    assert (sym["tp"], sym["fp"], sym["fn"]) == (1, 2, 1)
    lenient = m["lenient"]["micro"]
    assert (lenient["tp"], lenient["fp"], lenient["fn"]) == (3, 1, 1)
    assert lenient["f"] == pytest.approx(0.75)
    assert m["n_docs"] == 3
    assert "doc_counts" not in m
    assert "bootstrap" not in m
    eff = m["efficiency"]
    assert eff["docs"] == 3
    assert eff["words"] == 5 + 5 + 3  # whitespace tokens are not words
    assert eff["seconds"] > 0
    assert eff["words_per_second"] == pytest.approx(eff["words"] / eff["seconds"])
    assert eff["batch_size"] == 2
    assert eff["torch_threads"] == threads
    assert m["model"]["path"] == str(model_dir)
    assert m["model"]["name"] == "en_toy" and m["model"]["version"] == "0.0.1"
    assert m["data"]["path"] == str(data_path)
    assert m["labels"] == ["DISEASE", "MEDICATION", "SYMPTOM"]
    text = out.read_text()
    assert text == json.dumps(m, indent=2, sort_keys=True) + "\n"
    report = md.read_text()
    assert report.startswith("## Toy\n")
    assert "| MEDICATION | 1.000 | 1.000 | 1.000 | 1 |" in report
    assert "| **micro** | 0.500 | 0.500 | 0.500 | 4 |" in report
    assert "| **micro** | 0.750 | 0.750 | 0.750 | 4 |" in report
    assert "| **micro** | 0.500 | 0.500 | 0.500 | 4 |" in result.output


def test_torch_threads_none_without_torch(monkeypatch, model_dir, data_path):
    from spacy_clinkd.evaluation.evaluate import evaluate_pipeline

    # torch is only needed by transformer pipelines; without it there is no count to record.
    monkeypatch.setitem(sys.modules, "torch", None)
    m = evaluate_pipeline(str(model_dir), data_path, bootstrap=0)
    assert m["efficiency"]["torch_threads"] is None


def test_evaluate_without_map_or_labels(tmp_path, model_dir, data_path):
    out = tmp_path / "all.json"
    result = _run([str(model_dir), str(data_path), "--output", str(out)])
    assert result.exit_code == 0, result.output
    m = json.loads(out.read_text())
    # Unmapped labels count as they are: DRUG and OTHER are fps, MEDICATION an fn.
    assert sorted(m["per_label"]) == ["DISEASE", "DRUG", "MEDICATION", "OTHER", "SYMPTOM"]
    assert (m["micro"]["tp"], m["micro"]["fp"], m["micro"]["fn"]) == (1, 4, 3)
    assert m["label_map"] is None and m["labels"] is None
    assert "## en_toy on gold.spacy" in result.output
    # Bootstrap intervals are on by default, over the reported labels.
    boot = m["bootstrap"]
    assert (boot["n_samples"], boot["confidence"], boot["seed"], boot["n_docs"]) == (1000, 0.95, 0, 3)
    assert list(boot["strict"]["per_label"]) == list(m["per_label"])
    for mode, scores in (("strict", m), ("lenient", m["lenient"])):
        for key in ("p", "r", "f"):
            lo, hi = boot[mode]["micro"][key]
            assert lo <= scores["micro"][key] <= hi
    lo, hi = boot["strict"]["micro"]["f"]
    assert f"| {m['micro']['f']:.3f} [{lo:.2f}, {hi:.2f}] |" in result.output


def test_evaluate_bad_label_map(tmp_path, model_dir, data_path):
    label_map = tmp_path / "map.json"
    label_map.write_text(json.dumps(["DRUG", "MEDICATION"]))
    result = _run(
        [str(model_dir), str(data_path), "--output", str(tmp_path / "x.json"),
         "--label-map", str(label_map)]
    )
    assert isinstance(result.exception, ClinkdError)
    assert "JSON object" in str(result.exception)
    assert not (tmp_path / "x.json").exists()


def test_evaluate_bad_data(tmp_path, model_dir):
    bad = tmp_path / "bad.spacy"
    bad.write_text("not a docbin")
    result = _run([str(model_dir), str(bad), "--output", str(tmp_path / "x.json")])
    assert isinstance(result.exception, ClinkdError)
    assert "bad.spacy" in str(result.exception)


def test_evaluate_unknown_model(tmp_path, data_path):
    result = _run(
        [str(tmp_path / "missing_model"), str(data_path), "--output", str(tmp_path / "x.json")]
    )
    assert isinstance(result.exception, ClinkdError)
    assert "missing_model" in str(result.exception)


def test_evaluate_stores_calibration_and_assertion_intervals(tmp_path, tiny_pipeline):
    """A clinkd_ner pipeline writes entity scores: `evaluate` keeps their
    reliability, and per-class bootstrap intervals of the assertion on gold entities."""
    from spacy.tokens import Span

    from spacy_clinkd.corpora.spans import ASSERTIONS as GOLD_ASSERTIONS
    from spacy_clinkd.evaluation.assertion import assertions_on_gold
    from spacy_clinkd.evaluation.assertion_cv import class_intervals
    from spacy_clinkd.evaluation.evaluate import evaluate_pipeline
    from tests.util import NOTE_TEXTS

    nlp = spacy.load(tiny_pipeline)
    db = DocBin(store_user_data=True)
    statuses = ["absent", "present", "possible"]
    for i, text in enumerate(NOTE_TEXTS):
        gold = nlp.make_doc(text)
        # the pipeline's own entities in even docs (right), every other word in odd ones (mostly wrong)
        predicted = [(e.start, e.end, e.label_) for e in nlp(text).ents]
        spans = predicted if i % 2 == 0 else [(j, j + 1, "SYMPTOM") for j in range(0, len(gold), 2)]
        gold.ents = [Span(gold, start, end, label=label) for start, end, label in spans]
        gold.user_data[GOLD_ASSERTIONS] = [[e.start_char, e.end_char, statuses[(i + k) % 3]] for k, e in enumerate(gold.ents)]
        db.add(gold)
    path = tmp_path / "gold.spacy"
    db.to_disk(path)
    m = evaluate_pipeline(str(tiny_pipeline), path, bootstrap=20, seed=0)
    calibration = m["calibration"]
    # every predicted entity has a score, and the right ones are the strict true positives
    assert calibration["n"] == m["micro"]["tp"] + m["micro"]["fp"]
    assert sum(b["right"] for b in calibration["bins"]) == m["micro"]["tp"] > 0
    assert m["micro"]["fp"] > 0
    assert calibration["n_gold"] == m["micro"]["support"] and calibration["unscored"] == 0
    # the intervals resample documents: the same as from each document's own pairs
    on_gold = m["assertion"]["on_gold_entities"]
    gold_docs = list(DocBin().from_disk(path).get_docs(nlp.vocab))
    by_doc = [assertions_on_gold(nlp, [doc]) for doc in gold_docs]
    assert on_gold["bootstrap"] == class_intervals(by_doc, n_samples=20, seed=0)
    assert on_gold["bootstrap"]["n_docs"] == len(NOTE_TEXTS)
    assert set(on_gold["bootstrap"]["per_class"]) == {"present", "absent", "possible"}
    assert on_gold["n"] == sum(len(pairs) for pairs in by_doc)
    # --bootstrap 0: no intervals anywhere
    assert "bootstrap" not in evaluate_pipeline(str(tiny_pipeline), path, bootstrap=0)["assertion"]["on_gold_entities"]
    # a doc with entities but no gold status among docs that have one: refused, not scored as 'present'
    mixed = DocBin(store_user_data=True)
    for doc in gold_docs:
        mixed.add(doc)
    plain = nlp.make_doc(NOTE_TEXTS[0])
    plain.ents = [Span(plain, 0, 1, label="SYMPTOM")]
    mixed.add(plain)
    mixed.to_disk(tmp_path / "mixed.spacy")
    with pytest.raises(ClinkdError, match=f"mixed.spacy: 1 of {len(NOTE_TEXTS) + 1} document"):
        evaluate_pipeline(str(tiny_pipeline), tmp_path / "mixed.spacy", bootstrap=0)
