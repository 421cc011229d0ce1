"""`python -m spacy_clinkd distill | teacher-targets | distill-search`."""
import json

import numpy
import pytest
import spacy
from typer.testing import CliRunner

import spacy_clinkd.cli.distill  # noqa: F401  (attaches the commands)
from spacy_clinkd.cli._app import app
from spacy_clinkd.distillation.search import parse_numbers
from spacy_clinkd.errors import ClinkdError
from tests.util import DEV_DATA, DISTILL_CFG

pytestmark = pytest.mark.slow

runner = CliRunner()


def as_args(overrides):
    args = []
    for key, value in overrides.items():
        args += [f"--{key}", str(value)]
    return args


def log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - numpy.log(numpy.exp(x).sum(axis=-1, keepdims=True))


def test_distill_cli_writes_summary_and_refuses_non_empty(kd_overrides, tmp_path):
    overrides = {**kd_overrides, "training.max_steps": 4, "training.eval_frequency": 2}
    output = tmp_path / "student_kd"
    result = runner.invoke(app, ["distill", str(DISTILL_CFG), "--output", str(output), *as_args(overrides)])
    assert result.exit_code == 0, result.output
    assert "KD_KL" in result.output and "ENTS_F" in result.output
    summary = json.loads((output / "train_summary.json").read_text(encoding="utf8"))
    assert summary["config"] == str(DISTILL_CFG)
    assert summary["overrides"]["training.max_steps"] == "4"
    assert (summary["temperature"], summary["alpha"]) == (2.0, 0.5)
    meta = json.loads((output / "model-best" / "meta.json").read_text(encoding="utf8"))
    assert summary["best_dev"] == meta["performance"]
    # best_step is an evaluation with the best score, and the one model-best
    # holds (spaCy's loop rewrites model-best on a tie: the last tied one).
    # The logger writes scores times 100.
    log = [json.loads(line) for line in (output / "distill_log.jsonl").read_text(encoding="utf8").splitlines()]
    by_step = {record["step"]: record for record in log}
    assert summary["steps"] == 4 and sorted(by_step) == [0, 2, 4]
    best = by_step[summary["best_step"]]
    assert best["score"] == max(record["score"] for record in log)
    assert best["scores"]["kd_kl"] == pytest.approx(100 * meta["performance"]["kd_kl"])
    # kd_agreement and kd_kl are model-best's against the teacher on the dev
    # docs: the share of tokens with the same argmax tag, and KL(teacher ‖ student)
    # at T = 1 per token.
    student_nlp = spacy.load(output / "model-best")
    teacher_nlp = spacy.load(kd_overrides["paths.teacher"])
    s, t = (
        numpy.concatenate(nlp.get_pipe("clinkd_ner").predict([nlp.make_doc(text) for text, _ in DEV_DATA]))
        for nlp in (student_nlp, teacher_nlp)
    )
    log_s, log_t = (log_softmax(x) for x in (s, t))
    kl = float((numpy.exp(log_t) * (log_t - log_s)).sum(-1).mean())
    assert summary["best_dev"]["kd_agreement"] == pytest.approx(float((s.argmax(-1) == t.argmax(-1)).mean()))
    assert summary["best_dev"]["kd_kl"] == pytest.approx(kl, rel=1e-4)

    again = runner.invoke(app, ["distill", str(DISTILL_CFG), "--output", str(output), *as_args(overrides)])
    assert isinstance(again.exception, ClinkdError) and "--force" in str(again.exception)
    forced = runner.invoke(
        app, ["distill", str(DISTILL_CFG), "--output", str(output), "--force", *as_args(overrides)]
    )
    assert forced.exit_code == 0, forced.output
    assert "--force: replacing" in forced.output
    log = (output / "distill_log.jsonl").read_text(encoding="utf8").splitlines()
    assert [json.loads(line)["step"] for line in log] == [0, 2, 4]  # replaced, not appended to


def test_teacher_targets_then_search(kd_overrides, tmp_path):
    result = runner.invoke(app, ["teacher-targets", str(DISTILL_CFG), *as_args(kd_overrides)])
    assert result.exit_code == 0, result.output
    assert "3 train docs, 2 transfer chunks, 2 dev docs (7 labelled now" in result.output
    table = tmp_path / "kd_search.md"
    result = runner.invoke(
        app,
        [
            "distill-search", str(DISTILL_CFG), "--output", str(table), "--temperatures", "1,4",
            "--alphas", "0.5", "--runs-dir", str(tmp_path / "runs"), "--max-steps", "2",
            *as_args({**kd_overrides, "training.eval_frequency": 2}),
        ],
    )
    assert result.exit_code == 0, result.output
    text = table.read_text(encoding="utf8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert sorted(row.split("|")[1].strip() for row in rows) == ["1", "4"]
    assert (tmp_path / "runs" / "T4_a0.5" / "train_summary.json").exists()
    summary = json.loads((tmp_path / "runs" / "T1_a0.5" / "train_summary.json").read_text())
    assert summary["targets"]["train"]["labelled_now"] == 0  # the cache from teacher-targets
    assert summary["temperature"] == 1.0 and summary["alpha"] == 0.5


def test_parse_numbers():
    assert parse_numbers("1, 2,4", "--temperatures") == [1.0, 2.0, 4.0]
    with pytest.raises(ClinkdError, match="--alphas"):
        parse_numbers("a,b", "--alphas")
