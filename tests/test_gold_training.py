"""`train` / `gold_training.train_pipeline`: spaCy's loop on a tiny CNN ner
config, and the timing summary it leaves beside the model."""
import json

import pytest
from spacy.cli.init_config import init_config
from typer.testing import CliRunner

from spacy_clinkd.cli import app
from spacy_clinkd.gold_training import TRAIN_SUMMARY, train_pipeline
from tests.util import DEV_DATA, TRAIN_DATA, write_corpus


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("gold_training")
    config = init_config(lang="en", pipeline=["ner"], optimize="efficiency")
    config["training"]["eval_frequency"] = 2
    config.to_disk(root / "ner.cfg")
    return {
        "root": root,
        "config": root / "ner.cfg",
        "train": write_corpus(root / "train.spacy", TRAIN_DATA),
        "dev": write_corpus(root / "dev.spacy", DEV_DATA),
    }


def test_train_pipeline_writes_the_summary(setup, tmp_path):
    overrides = {"paths.train": str(setup["train"]), "paths.dev": str(setup["dev"]), "training.max_steps": 4}
    summary_path = tmp_path / "elsewhere" / "summary.json"
    seconds, target = train_pipeline(
        setup["config"], tmp_path / "out", overrides=overrides, summary_path=summary_path
    )
    assert target == summary_path and not (tmp_path / "out" / TRAIN_SUMMARY).exists()
    summary = json.loads(target.read_text(encoding="utf8"))
    meta = json.loads((tmp_path / "out" / "model-best" / "meta.json").read_text(encoding="utf8"))
    assert summary["best_dev"] == meta["performance"]
    assert "ents_f" in summary["best_dev"]
    assert summary["config"] == str(setup["config"])
    # values as strings, so the JSON never depends on the override's type
    assert summary["overrides"] == {**overrides, "training.max_steps": "4"}
    assert seconds > 0 and summary["seconds"] == round(seconds, 1)
    assert summary["minutes"] == round(seconds / 60, 2)


def test_train_command(setup, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "train", str(setup["config"]), "--output", str(out),
        "--paths.train", str(setup["train"]), "--paths.dev", str(setup["dev"]), "--training.max_steps", "2",
    ])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / TRAIN_SUMMARY).read_text(encoding="utf8"))
    assert summary["overrides"]["training.max_steps"] == "2"
    # wasabi wraps long lines
    assert f"min; summary in {out / TRAIN_SUMMARY}" in " ".join(result.output.split())
