"""The shipped configs and project.yml stay consistent."""
import re
from pathlib import Path

import pytest
import spacy
import srsly
from weasel.schemas import ProjectConfigSchema, validate

ROOT = Path(__file__).parent.parent
# pipeline configs, with an [nlp] section (configs/distill.cfg configures the
# distillation loop and may mention "[nlp]" in a comment)
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.cfg") if re.search(r"^\[nlp\]$", p.read_text(), re.M))
TEACHER = ROOT / "configs" / "teacher.cfg"
# every pipeline config but the reference it is compared with
VARIANTS = [p for p in CONFIGS if p != TEACHER]


def flatten(section, prefix=()) -> dict[tuple, object]:
    """Leaf settings of a config by their key path, e.g. ("paths", "encoder")."""
    leaves: dict[tuple, object] = {}
    for key, value in section.items():
        if isinstance(value, dict):
            leaves.update(flatten(value, (*prefix, key)))
        else:
            leaves[(*prefix, key)] = value
    return leaves


def test_expected_configs_exist():
    names = {p.name for p in CONFIGS}
    assert {"teacher.cfg", "student.cfg", "teacher_bioclinicalbert.cfg", "student_distilbert.cfg"} <= names
    assert TEACHER in CONFIGS and TEACHER not in VARIANTS


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_configs_differ_from_teacher_only_in_encoder(path):
    teacher = flatten(spacy.util.load_config(TEACHER, interpolate=False))
    other = flatten(spacy.util.load_config(path, interpolate=False))
    missing = object()
    differing = {k for k in teacher.keys() | other.keys() if teacher.get(k, missing) != other.get(k, missing)}
    # exactly one setting differs, and that one does differ
    assert differing == {("paths", "encoder")}
    # and the encoder is read from [paths]: once interpolated, the component
    # loads the variant's encoder, not the teacher's
    resolved = spacy.util.load_config(path, interpolate=True)
    assert resolved["components"]["clinkd_ner"]["model"]["tok2vec"]["name"] == other[("paths", "encoder")]


def test_each_config_has_its_own_encoder():
    encoders = {p.name: spacy.util.load_config(p)["paths"]["encoder"] for p in CONFIGS}
    assert len(set(encoders.values())) == len(encoders), encoders


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_configs_build(path):
    config = spacy.util.load_config(path)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["clinkd_ner"]
    # the built transformer will load this config's encoder (weights load at initialize)
    transformer = nlp.get_pipe("clinkd_ner").model.get_ref("tok2vec").get_ref("transformer")
    assert transformer.attrs["name"] == config["paths"]["encoder"]
    # with the clinical tokenizer
    assert [t.text for t in nlp.make_doc("aspirin 81mg/day")] == ["aspirin", "81", "mg", "/", "day"]


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


def test_project_paths_resolve_to_one_path_each():
    """Two `${vars...}` list items in a row are joined into one by the config
    interpolation ("a, b"); every dep and output must stay a single path."""
    from weasel.util import load_project_config

    project = load_project_config(ROOT)
    for command in project["commands"]:
        for path in command.get("deps", []) + command.get("outputs", []):
            assert "," not in path and "${" not in path, (command["name"], path)


def test_cnn_baseline_config_builds_with_the_clinical_tokenizer():
    config = spacy.util.load_config(ROOT / "configs" / "baselines" / "cnn_ner.cfg")
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["tok2vec", "ner"]
    # the same tokenization as clinkd_ner's pipelines, so gold docs align token for token
    assert [t.text for t in nlp.make_doc("aspirin 81mg/day")] == ["aspirin", "81", "mg", "/", "day"]
