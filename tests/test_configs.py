"""The shipped configs and project.yml stay consistent."""
from pathlib import Path

import pytest
import spacy
import srsly
from weasel.schemas import ProjectConfigSchema, validate

ROOT = Path(__file__).parent.parent
# pipeline configs (configs/distill.cfg configures the distillation loop)
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.cfg") if "[nlp]" in p.read_text())


def test_expected_configs_exist():
    names = {p.name for p in CONFIGS}
    assert {"teacher.cfg", "student.cfg", "teacher_bioclinicalbert.cfg", "student_distilbert.cfg"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_configs_differ_from_teacher_only_in_encoder(path):
    teacher = spacy.util.load_config(ROOT / "configs" / "teacher.cfg", interpolate=False)
    other = spacy.util.load_config(path, interpolate=False)
    teacher["paths"].pop("encoder")
    other["paths"].pop("encoder")
    assert dict(other) == dict(teacher)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_configs_build(path):
    config = spacy.util.load_config(path)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["clinkd_ner"]


def test_project_yml_is_valid_and_workflows_resolve():
    project = srsly.read_yaml(ROOT / "project.yml")
    assert validate(ProjectConfigSchema, project) == []
    commands = {c["name"]: c for c in project["commands"]}
    for workflow in project["workflows"].values():
        assert all(step in commands for step in workflow)
    assert project["workflows"]["all"][-1] == "report"
    # smoke runs the same kinds of step as all: data, convert, train, evaluate, package
    smoke_script = " ".join(s for step in project["workflows"]["smoke"] for s in commands[step]["script"])
    for verb in ("fetch-assets", "convert-brat", "spacy_clinkd train", "build-student", "evaluate", "spacy package"):
        assert verb in smoke_script


def test_cnn_baseline_config_builds_with_the_clinical_tokenizer():
    config = spacy.util.load_config(ROOT / "configs" / "baselines" / "cnn_ner.cfg")
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["tok2vec", "ner"]
    # the same tokenization as clinkd_ner's pipelines, so gold docs align token for token
    assert [t.text for t in nlp.make_doc("aspirin 81mg/day")] == ["aspirin", "81", "mg", "/", "day"]
