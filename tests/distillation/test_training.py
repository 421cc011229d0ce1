"""Distillation in spaCy's training shape: a tiny BERT teacher into a tiny
DistilBERT student, through `load_distill_config` and `distill`."""
import io
import json

import numpy
import pytest
import spacy
from spacy.training import Example
from spacy.util import registry

from spacy_clinkd.distillation.targets import TargetCache, doc_key
from spacy_clinkd.distillation.teachers import PipelineTargets
from spacy_clinkd.distillation.training import distill, load_distill_config
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.evaluation.agreement import argmax_agreement, tag_accuracy
from tests.util import DEV_DATA, DISTILL_CFG

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kd_run(tmp_path_factory, teacher_dir, tiny_distilbert, corpora):
    from tests.util import tiny_kd_overrides

    base = tmp_path_factory.mktemp("kd_run")
    overrides = tiny_kd_overrides(teacher_dir, tiny_distilbert, corpora, base / "cache")
    config = load_distill_config(DISTILL_CFG, overrides)
    output = base / "out"
    stdout = io.StringIO()
    result = distill(config, output, stdout=stdout)
    return result, output, overrides, stdout.getvalue()


def test_config_is_the_student_config_with_the_overlay(kd_run):
    _, _, overrides, _ = kd_run
    config = load_distill_config(DISTILL_CFG, overrides)
    student = spacy.util.load_config(overrides["paths.student_config"], interpolate=False)
    # From the student config: pipeline and model; from the overlay: corpora,
    # loop settings and kd settings; the overrides win over both.
    assert config["nlp"] == student["nlp"]
    assert config["components"]["clinkd_ner"]["model"] == student["components"]["clinkd_ner"]["model"]
    assert config["corpora"]["train"]["@readers"] == "clinkd.DistillationCorpus.v1"
    assert student["corpora"]["train"]["@readers"] == "spacy.Corpus.v1"
    assert "max_length" not in config["corpora"]["train"]  # not merged from spacy.Corpus
    assert config["components"]["clinkd_ner"]["kd_temperature"] == 2.0
    assert config["training"]["max_steps"] == 24 and student["training"]["max_steps"] != 24
    assert config["training"]["logger"]["@loggers"] == "spacy.ConsoleLogger.v3"


def test_kd_loss_falls_and_every_doc_is_used(kd_run):
    result, _, _, _ = kd_run
    log = result["log"]
    # spaCy's loop: evaluation after step 0, then every eval_frequency steps.
    assert [r["step"] for r in log] == [0, 6, 12, 18, 24]
    per_step = [r["losses"]["clinkd_ner_kd"] / (1 if r["step"] == 0 else 6) for r in log]
    assert per_step[-1] < 0.5 * per_step[0]
    train = result["targets"]["train"]
    assert (train["gold_docs"], train["transfer_chunks"], train["transfer_uncovered"]) == (3, 2, 0)
    assert result["targets"]["dev"]["gold_docs"] == 2


def test_table_and_log_come_from_spacys_logger(kd_run):
    result, output, _, printed = kd_run
    header = next(line for line in printed.splitlines() if line.lstrip().startswith("E "))
    for column in ("LOSS CLINK", "ENTS_F", "KD_KL", "KD_AGREEMENT", "SCORE"):
        assert column in header
    records = [json.loads(line) for line in (output / "distill_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [r["step"] for r in result["log"]]
    for record, ours in zip(records, result["log"]):
        assert record["scores"]["kd_agreement"] == pytest.approx(100 * ours["kd_agreement"])
        assert record["losses"]["clinkd_ner"] == pytest.approx(ours["losses"]["clinkd_ner"])


def test_dev_metrics_are_what_the_best_model_gets(kd_run, teacher_dir, corpora):
    """Recompute the best checkpoint's dev KL, agreement and the teacher's tag
    accuracy from the saved models, independently of the loop."""
    result, output, overrides, _ = kd_run
    student = spacy.load(output / "model-best")
    ner = student.get_pipe("clinkd_ner")
    teacher = PipelineTargets(path=teacher_dir)
    teacher.initialize(ner.scheme)
    docs = [student.make_doc(text) for text, _ in DEV_DATA]
    cache = TargetCache(overrides["paths.targets_cache"], identity=teacher.identity, tags=ner.tags)
    teacher_logits = [cache.get(doc_key(doc)) for doc in docs]
    numpy.testing.assert_allclose(teacher_logits[0], teacher([docs[0]])[0], rtol=1e-4, atol=1e-5)
    scores = [ner.model.ops.to_numpy(s) for s in ner.predict(docs)]
    best = result["best_dev"]
    assert best["kd_agreement"] == pytest.approx(argmax_agreement(scores, teacher_logits))
    kl, _ = ner.get_teacher_student_loss(teacher_logits, scores, temperature=1.0)
    assert best["kd_kl"] == pytest.approx(kl, rel=1e-4)
    gold = [
        ner.scheme.ids_from_biluo(Example.from_dict(doc, {"entities": ents}).get_aligned_ner())
        for doc, (_, ents) in zip(docs, DEV_DATA)
    ]
    accuracy = tag_accuracy(teacher_logits, [g for g, _ in gold], [m for _, m in gold])
    assert all(r["teacher_tag_acc"] == pytest.approx(accuracy) for r in result["log"])
    assert result["best_dev"]["ents_f"] == pytest.approx(student.evaluate(
        [Example.from_dict(student.make_doc(t), {"entities": e}) for t, e in DEV_DATA]
    )["ents_f"])


def test_best_step_is_the_evaluation_model_best_holds(kd_run):
    # spaCy's loop saves model-best on every evaluation that ties the best score.
    result, output, _, _ = kd_run
    best_score = max(r["score"] for r in result["log"])
    last_best = [r for r in result["log"] if r["score"] == best_score][-1]
    assert result["best_step"] == last_best["step"]
    assert result["best_dev"]["kd_kl"] == pytest.approx(last_best["kd_kl"])
    assert result["best_dev"]["ents_f"] == pytest.approx(last_best["ents_f"])
    assert spacy.load(output / "model-best").pipe_names == ["clinkd_ner"]
    assert (output / "model-last" / "config.cfg").exists()


def test_the_weights_record_the_commit_they_were_trained_at(kd_run):
    import subprocess

    from spacy_clinkd.vcs import TRAINED_AT

    _, output, _, _ = kd_run
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() or "unknown"
    for folder in ("model-best", "model-last"):
        recorded = spacy.load(output / folder).meta[TRAINED_AT]
        assert recorded["commit"] == head and set(recorded) == {"commit", "dirty"}


def output_layer(path):
    return spacy.load(path).get_pipe("clinkd_ner").model.get_ref("output_layer").get_param("W").copy()


def test_model_last_carries_parameter_averages(kd_overrides, tmp_path):
    """As `spacy train` does: model-last holds the optimizer's averages when
    it keeps them, the raw weights when it does not."""
    short = {**kd_overrides, "training.max_steps": 4, "training.eval_frequency": 100}
    raw = tmp_path / "raw"
    distill(load_distill_config(DISTILL_CFG, short), raw, stdout=io.StringIO())
    averaged = tmp_path / "averaged"
    distill(
        load_distill_config(DISTILL_CFG, {**short, "training.optimizer.use_averages": True}),
        averaged,
        stdout=io.StringIO(),
    )
    # Same seed and data: the raw weights of both runs are equal step by step,
    # so the saved ones differ only if the second run saved averages.
    raw_w, avg_w = output_layer(raw / "model-last"), output_layer(averaged / "model-last")
    assert not numpy.allclose(raw_w, avg_w)
    # The averages lie between the start (zeros) and the final weights.
    assert numpy.abs(avg_w).sum() < numpy.abs(raw_w).sum()


class DieAtStep:
    """A before_update callback that raises at a given step (a dying run)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def __call__(self, nlp, args):
        if args["step"] == self.step:
            raise RuntimeError(f"died at step {self.step}")


def test_a_run_that_dies_still_saves_model_last(kd_overrides, tmp_path):
    name = "test.die_at_step.v1"
    if name not in registry.callbacks:
        registry.callbacks.register(name, func=DieAtStep)
    overrides = {**kd_overrides, "training.before_update": {"@callbacks": name, "step": 3}}
    config = load_distill_config(DISTILL_CFG, overrides)
    with pytest.raises(RuntimeError, match="died at step 3"):
        distill(config, tmp_path / "died", stdout=io.StringIO())
    assert spacy.load(tmp_path / "died" / "model-last").pipe_names == ["clinkd_ner"]
    assert (tmp_path / "died" / "model-best" / "meta.json").exists()  # from the step-0 evaluation


def test_refuses_non_empty_output(kd_run):
    _, output, overrides, _ = kd_run
    config = load_distill_config(DISTILL_CFG, overrides)
    before = (output / "model-best" / "meta.json").read_bytes()
    with pytest.raises(ClinkdError, match="not empty.*--force"):
        distill(config, output, stdout=io.StringIO())
    assert (output / "model-best" / "meta.json").read_bytes() == before


def test_bad_settings_are_refused_before_anything_is_written(kd_overrides, tmp_path):
    for key, value, match in [
        ("components.clinkd_ner.kd_alpha", 1.5, "alpha"),
        ("components.clinkd_ner.kd_temperature", 0.0, "temperature"),
        ("training.eval_frequency", 0, "eval_frequency"),
        ("training.max_steps", 0, "max_steps or max_epochs"),
        ("corpora.dev", {"@readers": "spacy.Corpus.v1", "path": kd_overrides["paths.dev"]}, "not clinkd.DistillationCorpus"),
    ]:
        config = load_distill_config(DISTILL_CFG, {**kd_overrides, key: value})
        with pytest.raises(ClinkdError, match=match):
            distill(config, tmp_path / "bad", stdout=io.StringIO())
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ClinkdError, match="student_config"):
        load_distill_config(DISTILL_CFG, {**kd_overrides, "paths.student_config": ""})
