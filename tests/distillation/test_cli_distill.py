"""`python -m spacy_clinkd distill | teacher-targets | distill-search`."""
import json

import pytest
from typer.testing import CliRunner

import spacy_clinkd.cli.distill  # noqa: F401  (attaches the commands)
from spacy_clinkd.cli._app import app
from spacy_clinkd.distillation.search import parse_numbers
from spacy_clinkd.errors import ClinkdError
from tests.util import DISTILL_CFG

pytestmark = pytest.mark.slow

runner = CliRunner()


def as_args(overrides):
    args = []
    for key, value in overrides.items():
        args += [f"--{key}", str(value)]
    return args


def test_distill_cli_writes_summary_and_refuses_non_empty(kd_overrides, tmp_path):
    overrides = {**kd_overrides, "training.max_steps": 4, "training.eval_frequency": 2}
    output = tmp_path / "student_kd"
    result = runner.invoke(app, ["distill", str(DISTILL_CFG), "--output", str(output), *as_args(overrides)])
    assert result.exit_code == 0, result.output
    assert "KD_KL" in result.output and "ENTS_F" in result.output
    summary = json.loads((output / "train_summary.json").read_text(encoding="utf8"))
    assert summary["config"] == str(DISTILL_CFG)
    assert summary["overrides"]["training.max_steps"] == "4"
    assert summary["steps"] == 4 and summary["best_step"] in (0, 2, 4)
    assert (summary["temperature"], summary["alpha"]) == (2.0, 0.5)
    meta = json.loads((output / "model-best" / "meta.json").read_text(encoding="utf8"))
    assert summary["best_dev"] == meta["performance"]
    assert 0.0 <= summary["best_dev"]["kd_agreement"] <= 1.0 and summary["best_dev"]["kd_kl"] > 0.0
    assert (output / "model-best" / "meta.json").exists()

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
