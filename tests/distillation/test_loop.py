"""The distillation loop: a tiny BERT teacher into a tiny DistilBERT student."""
import json

import pytest
import spacy
from wasabi import Printer

from spacy_clinkd.distillation.loop import load_distill_config, run_distillation
from spacy_clinkd.errors import ClinkdError
from tests.util import DISTILL_CFG

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kd_run(tmp_path_factory, teacher_dir, tiny_distilbert, corpora):
    from tests.util import tiny_kd_overrides

    base = tmp_path_factory.mktemp("kd_run")
    overrides = {
        **tiny_kd_overrides(teacher_dir, tiny_distilbert, corpora, base / "cache"),
        "distillation.temperature": 2.0,
        "distillation.alpha": 0.5,
    }
    config = load_distill_config(DISTILL_CFG, overrides)
    output = base / "out"
    result = run_distillation(config, output, printer=Printer(no_print=True))
    return result, output, overrides


def test_kd_loss_falls(kd_run):
    result, _, _ = kd_run
    log = result["log"]
    assert [r["step"] for r in log] == [6, 12, 18, 24]
    assert log[-1]["loss_kd"] < 0.5 * log[0]["loss_kd"]
    assert result["targets"]["transfer_chunks"] == 2
    assert result["targets"]["train_docs"] == 3 and result["targets"]["dev_docs"] == 2


def test_dev_metrics_logged(kd_run):
    result, output, _ = kd_run
    records = [json.loads(line) for line in (output / "distill_log.jsonl").read_text().splitlines()]
    assert records == json.loads(json.dumps(result["log"]))
    for record in records:
        assert 0.0 <= record["dev_agreement"] <= 1.0
        assert record["dev_kl"] >= 0.0
        assert 0.0 <= record["teacher_tag_acc"] <= 1.0
        for key in ("ents_f", "ents_p", "ents_r", "score", "loss_ce", "loss_kd"):
            assert key in record


def test_best_model_saved(kd_run):
    result, output, _ = kd_run
    best = max(result["log"], key=lambda r: r["score"])
    first_best = next(r for r in result["log"] if r["score"] == best["score"])
    assert result["best_step"] == first_best["step"]
    assert result["best_dev"]["ents_f"] == pytest.approx(best["ents_f"])
    nlp = spacy.load(output / "model-best")
    assert nlp.pipe_names == ["clinkd_ner"]
    assert (output / "model-last" / "config.cfg").exists()
    assert len(nlp("the patient has fever")) == 4


def test_refuses_non_empty_output(kd_run):
    _, output, overrides = kd_run
    config = load_distill_config(DISTILL_CFG, overrides)
    with pytest.raises(ClinkdError, match="not empty.*--force"):
        run_distillation(config, output, printer=Printer(no_print=True))
    assert (output / "model-best").exists()


def test_continue_from_trained_student(kd_run, tmp_path):
    first, output, overrides = kd_run
    best = next(r for r in first["log"] if r["step"] == first["best_step"])
    overrides = {
        **overrides,
        "paths.student_model": str(output / "model-best"),
        "distillation.max_steps": 2,
        "distillation.eval_frequency": 2,
    }
    config = load_distill_config(DISTILL_CFG, overrides)
    result = run_distillation(config, tmp_path / "more", printer=Printer(no_print=True))
    assert result["targets"]["labelled_now"] == 0  # same teacher, same cache
    # It starts from the distilled weights, not from a fresh student.
    assert result["log"][0]["dev_agreement"] >= best["dev_agreement"] - 0.15
    assert result["log"][0]["dev_agreement"] > first["log"][0]["dev_agreement"]


def test_bad_settings(kd_run, tmp_path):
    _, _, overrides = kd_run
    for key, value, match in [
        ("distillation.alpha", 1.5, "alpha"),
        ("distillation.eval_frequency", 0, "eval_frequency"),
        ("distillation.max_steps", 0, "max_steps or max_epochs"),
    ]:
        config = load_distill_config(DISTILL_CFG, {**overrides, key: value})
        with pytest.raises(ClinkdError, match=match):
            run_distillation(config, tmp_path / "bad", printer=Printer(no_print=True))
    assert not (tmp_path / "bad").exists()  # settings are checked before anything is written
