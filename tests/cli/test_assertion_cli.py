"""train-assertion, assertion-cv and assemble --assertion, end to end on tiny data."""
import json

import pytest
import spacy
from spacy.tokens import DocBin, Span

from spacy_clinkd.cli import main
from spacy_clinkd.corpora.spans import ASSERTIONS
from spacy_clinkd.tokenizer import clinical_blank


def run(args):
    """Run the CLI as `python -m spacy_clinkd` does; RETURNS its exit code."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    return exit_.value.code

NOTES = [
    ("no fever . she has cough .", [(1, 2, "absent"), (5, 6, "present")]),
    ("he has pain . possible rash .", [(2, 3, "present"), (5, 6, "possible")]),
    ("denies cough . he has fever .", [(1, 2, "absent"), (5, 6, "present")]),
    ("she has rash . no pain .", [(2, 3, "present"), (5, 6, "absent")]),
]


@pytest.fixture
def gold(tmp_path):
    nlp = clinical_blank()
    docbin = DocBin(store_user_data=True)
    for i, (text, ents) in enumerate(NOTES):
        doc = nlp.make_doc(text)
        doc.ents = [Span(doc, s, e, label="SYMPTOM") for s, e, _ in ents]
        doc.user_data[ASSERTIONS] = [[doc[s].idx, doc[e - 1].idx + len(doc[e - 1]), a] for s, e, a in ents]
        doc.user_data["doc_id"] = f"note{i}"
        docbin.add(doc)
    docbin.to_disk(tmp_path / "gold.spacy")
    return tmp_path / "gold.spacy"


def test_assertion_cv_scores_rules_and_learned_on_the_same_folds(gold, tiny_bert, tmp_path, capsys):
    out = tmp_path / "cv.json"
    assert run(["assertion-cv", gold, "--output", out, "--markdown", tmp_path / "cv.md", "--k", "2",
                "--encoder", tiny_bert, "--epochs", "1", "--batch-size", "4"]) == 0
    result = json.loads(out.read_text())
    assert set(result["candidates"]) == {"rules", "learned", "linear", "hybrid"}
    assert sorted(result["folds"]) == ["note0", "note1", "note2", "note3"]
    rules = result["candidates"]["rules"]
    # the rules find every status of these notes
    assert rules["pooled"]["accuracy"] == 1.0 and rules["n"] == 8
    assert result["candidates"]["learned"]["n"] == 8
    assert result["candidates"]["linear"]["n"] == 8 and result["linear_settings"]["window"] == 5
    assert "| learned |" in (tmp_path / "cv.md").read_text() and "| linear |" in (tmp_path / "cv.md").read_text()
    # the linear candidate alone, without the encoder's fine-tuning
    assert run(["assertion-cv", gold, "--output", tmp_path / "cv3.json", "--k", "2", "--no-encoder-candidate"]) == 0
    cv3 = json.loads((tmp_path / "cv3.json").read_text())
    assert set(cv3["candidates"]) == {"rules", "linear", "hybrid"} and cv3["hybrid_settings"]["keep_rules"] == ["possible"]
    assert cv3["hybrid_settings"]["overrides"] == []
    # without overrides, the hybrid's "possible" is the rules' on every held-out entity
    assert cv3["candidates"]["hybrid"]["pooled"]["per_class"]["possible"] == cv3["candidates"]["rules"]["pooled"]["per_class"]["possible"]
    # the shipped kind's overrides reach the hybrid candidate; they must stay outside --keep-rules
    assert run(["assertion-cv", gold, "--output", tmp_path / "cv6.json", "--k", "2", "--no-encoder-candidate",
                "--overrides", "absent"]) == 0
    assert json.loads((tmp_path / "cv6.json").read_text())["hybrid_settings"]["overrides"] == ["absent"]
    assert run(["assertion-cv", gold, "--output", tmp_path / "cv7.json", "--k", "2", "--no-encoder-candidate",
                "--keep-rules", "absent,possible", "--overrides", "absent"]) == 1
    assert "must be classes outside keep_rules" in " ".join(capsys.readouterr().out.split())
    assert run(["assertion-cv", gold, "--output", tmp_path / "cv4.json", "--k", "2", "--no-encoder-candidate",
                "--keep-rules", "maybe"]) == 1
    assert "keep_rules ['maybe'] (in '--keep-rules')" in capsys.readouterr().out
    assert run(["assertion-cv", gold, "--output", tmp_path / "cv5.json", "--k", "2", "--no-encoder-candidate",
                "--keep-rules", ""]) == 1
    assert "--keep-rules is empty" in capsys.readouterr().out and not (tmp_path / "cv5.json").exists()
    # another fold cut cannot be put in one table with these
    other = dict(result, folds={**result["folds"], "note0": 1 - result["folds"]["note0"]})
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert run(["assertion-cv", gold, "--output", tmp_path / "cv2.json", "--k", "2", "--rules-only",
                "--baselines", tmp_path / "other.json"]) == 1
    assert "scored on other folds" in capsys.readouterr().err


def test_trained_classifier_is_assembled_into_the_pipeline(gold, tiny_bert, tiny_pipeline, tmp_path):
    classifier = tmp_path / "clf"
    assert run(["train-assertion", gold, "--output", classifier, "--encoder", tiny_bert, "--epochs", "1"]) == 0
    assert (classifier / "classifier.json").exists()
    assert run(["assemble", tiny_pipeline, tmp_path / "shipped", "--assertion", classifier]) == 0
    nlp = spacy.load(tmp_path / "shipped")
    component = nlp.get_pipe("clinkd_assertion")
    assert component.backend == "learned" and component.classifier is not None
    assert nlp.config["components"]["clinkd_assertion"]["backend"] == "learned"
    doc = nlp("She denies chest pain. Possible pneumonia.")
    assert all(e._.assertion in ("present", "absent", "possible") for e in doc.ents)
    # and without it, the rules
    assert run(["assemble", tiny_pipeline, tmp_path / "rules"]) == 0
    assert spacy.load(tmp_path / "rules").get_pipe("clinkd_assertion").backend == "rules"


def test_linear_classifier_is_trained_and_assembled(gold, tiny_pipeline, tmp_path, capsys):
    classifier = tmp_path / "linear"
    assert run(["train-assertion", gold, "--output", classifier, "--model", "linear", "--linear-window", "3"]) == 0
    settings = json.loads((classifier / "classifier.json").read_text())
    assert settings["kind"] == "linear" and settings["window"] == 3 and (classifier / "weights.safetensors").exists()
    assert run(["assemble", tiny_pipeline, tmp_path / "shipped", "--assertion", classifier]) == 0
    nlp = spacy.load(tmp_path / "shipped")
    component = nlp.get_pipe("clinkd_assertion")
    assert component.backend == "learned" and component.classifier.kind == "linear"
    doc = nlp("She denies chest pain. Possible pneumonia.")
    assert all(e._.assertion in ("present", "absent", "possible") for e in doc.ents)
    assert run(["train-assertion", gold, "--output", tmp_path / "x", "--model", "forest"]) == 1
    captured = capsys.readouterr()
    assert "--model must be 'encoder' or 'linear'" in captured.out + captured.err
    assert not (tmp_path / "x").exists()


def test_the_rules_hedges_stand_in_a_linear_classifier_that_keeps_them(gold, tiny_pipeline, tmp_path, capsys):
    """--keep-rules possible: saved with the classifier; in the assembled pipeline
    a hedge the rules find stays "possible" whatever the weights say, and nothing
    else becomes "possible"."""
    import numpy

    from spacy_clinkd.models.assertion_linear import CLASSES, LinearAssertion

    classifier = tmp_path / "hybrid"
    assert run(["train-assertion", gold, "--output", classifier, "--model", "linear", "--keep-rules", "possible"]) == 0
    assert json.loads((classifier / "classifier.json").read_text())["keep_rules"] == ["possible"]
    # weights that always say "possible", then "present": only the rules' hedge may be possible
    model = LinearAssertion.load(classifier)
    bias = numpy.zeros(3, dtype="float32")
    bias[CLASSES.index("possible")], bias[CLASSES.index("present")] = 50.0, 1.0
    LinearAssertion(model.features, model.weights * 0, bias, window=model.window, l2=model.l2,
                    keep_rules=model.keep_rules).save(classifier)
    assert run(["assemble", tiny_pipeline, tmp_path / "shipped", "--assertion", classifier]) == 0
    nlp = spacy.load(tmp_path / "shipped")
    doc = nlp.make_doc("She denies chest pain. Possible pneumonia.")
    doc.ents = [doc.char_span(11, 21, label="SYMPTOM"), doc.char_span(32, 41, label="DISEASE")]
    for name in ("sentencizer", "clinkd_assertion"):
        doc = nlp.get_pipe(name)(doc)
    assert [e._.assertion for e in doc.ents] == ["present", "possible"]
    # --overrides absent: where the weights say absent most, the hedge falls too
    overriding = tmp_path / "overriding"
    assert run(["train-assertion", gold, "--output", overriding, "--model", "linear", "--keep-rules", "possible",
                "--overrides", "absent"]) == 0
    assert json.loads((overriding / "classifier.json").read_text())["overrides"] == ["absent"]
    bias[CLASSES.index("absent")] = 80.0
    for folder, overrides, expected in ((classifier, (), ["absent", "possible"]), (overriding, ("absent",), ["absent", "absent"])):
        LinearAssertion(model.features, model.weights * 0, bias, window=model.window, l2=model.l2,
                        keep_rules=model.keep_rules, overrides=overrides).save(folder)
        assert run(["assemble", tiny_pipeline, tmp_path / f"shipped_{folder.name}", "--assertion", folder]) == 0
        nlp = spacy.load(tmp_path / f"shipped_{folder.name}")
        doc = nlp.make_doc("She denies chest pain. Possible pneumonia.")
        doc.ents = [doc.char_span(11, 21, label="SYMPTOM"), doc.char_span(32, 41, label="DISEASE")]
        for name in ("sentencizer", "clinkd_assertion"):
            doc = nlp.get_pipe(name)(doc)
        assert [e._.assertion for e in doc.ents] == expected
    # an encoder classifier has no such setting; overrides need kept verdicts
    assert run(["train-assertion", gold, "--output", tmp_path / "y", "--keep-rules", "possible"]) == 1
    assert "--keep-rules and --overrides are settings of the linear model" in capsys.readouterr().out
    assert run(["train-assertion", gold, "--output", tmp_path / "z", "--model", "linear", "--overrides", "absent"]) == 1
    assert "overrides ['absent'] (in '--overrides') must be classes outside keep_rules" in " ".join(capsys.readouterr().out.split())
    assert not (tmp_path / "z").exists()


def test_gold_without_assertions_is_refused_naming_the_file(gold, tmp_path, capsys):
    """A DocBin whose entities carry no gold status (CoNLL, PubTator) is not read as all 'present'."""
    nlp = clinical_blank()
    docbin = DocBin(store_user_data=True)
    doc = nlp.make_doc("no fever . she has cough .")
    doc.ents = [Span(doc, 1, 2, label="SYMPTOM")]
    docbin.add(doc)
    docbin.add(nlp.make_doc("nothing to see ."))  # no entities: nothing to ask of it
    docbin.to_disk(tmp_path / "plain.spacy")
    for command in (["train-assertion", "--output", tmp_path / "clf"], ["assertion-cv", "--output", tmp_path / "cv.json", "--rules-only"]):
        assert run([command[0], gold, tmp_path / "plain.spacy", *command[1:]]) == 1
        err = capsys.readouterr().err
        assert "plain.spacy: 1 of 1 document(s) with entities carry no gold assertion status (documents 0)" in err
    assert not (tmp_path / "clf").exists()
