"""Provenance of a model card: git commit, date, seeds and data checksums,
read from a synthetic project in tmp_path."""
import shutil

import pytest
import srsly

from spacy_clinkd.report.provenance import (
    build_date,
    config_seeds,
    data_checksums,
    read_provenance,
)

PROJECT = {
    "vars": {"notes": "assets/notes"},
    "assets": [
        {"dest": "assets/corpus/brat", "checksum": "a" * 32},
        {"dest": "assets/notes", "checksum": "b" * 32},
        {"dest": "assets/unused.tsv", "checksum": "c" * 32},
        {"dest": "assets/no_pin.tsv"},
    ],
    "commands": [
        {"name": "convert", "deps": ["assets/corpus/brat", "configs/split.json"]},
        {"name": "annotate", "deps": ["${vars.notes}", "assets/no_pin.tsv"]},
        {"name": "vocab", "deps": ["assets/corpus"]},
    ],
}
LOCK = {
    "convert": {"deps": [{"path": "assets/corpus/brat", "md5": "a" * 32}, {"path": "configs/split.json", "md5": "d" * 32}]},
    "annotate": {"deps": [{"path": "assets/notes", "md5": "e" * 32}]},
    "vocab": {"deps": [{"path": "assets/corpus/brat", "md5": "a" * 32}]},
}
CONFIG = "[system]\nseed = 3\n\n[training]\nseed = ${system.seed}\n"


def project(tmp_path, *, lock=True):
    srsly.write_yaml(tmp_path / "project.yml", PROJECT)
    if lock:
        srsly.write_yaml(tmp_path / "project.lock", LOCK)
    return tmp_path


def test_lock_gives_what_each_command_read_beside_the_pin(tmp_path):
    data = data_checksums(project(tmp_path))
    assert data["source"] == "project.lock"
    assert data["assets"] == [
        {"path": "assets/corpus/brat", "md5": "a" * 32, "pinned": "a" * 32, "commands": ["convert", "vocab"]},
        {"path": "assets/notes", "md5": "e" * 32, "pinned": "b" * 32, "commands": ["annotate"]},
    ]


def test_without_a_lock_the_pins_of_assets_a_command_reads(tmp_path):
    data = data_checksums(project(tmp_path, lock=False))
    assert data["source"] == "project.yml"
    # the unused asset and the unpinned one are left out; ${vars.notes} is substituted;
    # a folder dep (assets/corpus) reads the asset inside it
    assert data["assets"] == [
        {"path": "assets/corpus/brat", "md5": "a" * 32, "pinned": "a" * 32, "commands": ["convert", "vocab"]},
        {"path": "assets/notes", "md5": "b" * 32, "pinned": "b" * 32, "commands": ["annotate"]},
    ]


def test_no_project_no_checksums(tmp_path):
    assert data_checksums(tmp_path) is None


def test_seeds_of_the_pipeline_config(tmp_path):
    (tmp_path / "config.cfg").write_text(CONFIG, encoding="utf8")
    assert config_seeds(tmp_path) == {"system": 3, "training": 3}
    assert config_seeds(tmp_path / "nowhere") is None


def test_build_date_honours_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert build_date() == "2023-11-14"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_read_provenance_gathers_the_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    pipeline = tmp_path / "pipeline"
    pipeline.mkdir()
    (pipeline / "config.cfg").write_text(CONFIG, encoding="utf8")
    teacher = tmp_path / "training" / "teacher"
    teacher.mkdir(parents=True)
    (teacher / "config.cfg").write_text(CONFIG.replace("3", "7"), encoding="utf8")
    found = read_provenance(
        pipeline_dir=pipeline,
        project_dir=project(tmp_path),
        test={"bootstrap": {"seed": 11}},
        teacher={"model": {"path": "training/teacher"}},
        transfer={"seed": 5},
    )
    assert found["date"] == "2023-11-14"
    assert sorted(found["seeds"].values()) == [3, 3, 5, 7, 7, 11]
    assert found["seeds"]["the teacher's config (training/teacher), [training] seed"] == 7
    assert found["data"]["source"] == "project.lock"
    # no project: the seeds of the pipeline still, no commit or data
    alone = read_provenance(pipeline_dir=pipeline, project_dir=None)
    assert (alone["commit"], alone["data"], alone["project"]) == ("unknown", None, None)
    assert list(alone["seeds"].values()) == [3, 3]
    assert alone["trained_at"] is None  # its meta.json records no training commit


def test_the_card_states_the_training_commit_beside_its_own(tmp_path):
    import srsly

    from spacy_clinkd.report.model_card import _provenance
    from spacy_clinkd.vcs import TRAINED_AT

    pipeline = tmp_path / "pipeline"
    pipeline.mkdir()
    srsly.write_json(pipeline / "meta.json", {"name": "x", TRAINED_AT: {"commit": "abc123", "dirty": True}})
    found = read_provenance(pipeline_dir=pipeline, project_dir=None)
    assert found["trained_at"] == {"commit": "abc123", "dirty": True}
    line = _provenance({**found, "commit": "def456", "project": str(tmp_path)})["trained"]
    assert line == "at git commit `abc123` **with uncommitted changes** (the card was written at another)"
    same = {**found, "commit": "abc123", "project": str(tmp_path), "trained_at": {"commit": "abc123", "dirty": False}}
    assert _provenance(same)["trained"] == "at the same commit"


def test_an_unknown_training_commit_is_not_the_same_as_an_unknown_card_commit(tmp_path):
    from spacy_clinkd.report.model_card import _provenance

    found = {"commit": "unknown", "dirty": None, "date": "2026-01-01", "project": str(tmp_path), "data": None,
             "trained_at": {"commit": "unknown", "dirty": None}}
    assert _provenance(found)["trained"] == "at an unknown git commit (distill did not run in a git checkout)"
    assert _provenance({**found, "commit": "def456"})["trained"] == _provenance(found)["trained"]
