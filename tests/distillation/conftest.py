"""Fixtures for distillation tests: tiny synthetic corpora and a tiny BERT
teacher trained a few steps (helpers in tests/util.py)."""
from pathlib import Path

import pytest
import torch
from spacy.training import Example
from thinc.api import Adam

from tests.util import DEV_DATA, TRAIN_DATA, make_ner_nlp, tiny_kd_overrides, write_corpus


@pytest.fixture(autouse=True)
def one_thread():
    # A long job may share the machine: keep tests on one core.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def corpora(tmp_path_factory):
    base = tmp_path_factory.mktemp("kd_corpus")
    return {
        "train": write_corpus(base / "train.spacy", TRAIN_DATA),
        "dev": write_corpus(base / "dev.spacy", DEV_DATA),
    }


@pytest.fixture(scope="session")
def teacher_dir(tiny_bert, tmp_path_factory) -> Path:
    """A tiny BERT clinkd_ner teacher, trained a few steps, on disk."""
    torch.set_num_threads(1)
    nlp = make_ner_nlp(tiny_bert)
    train = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA]
    nlp.initialize(lambda: train)
    optimizer = Adam(0.01)
    for _ in range(40):
        nlp.update(train, sgd=optimizer)
    path = tmp_path_factory.mktemp("kd_teacher") / "model"
    nlp.to_disk(path)
    return path


@pytest.fixture
def kd_overrides(teacher_dir, tiny_distilbert, corpora, tmp_path):
    return tiny_kd_overrides(teacher_dir, tiny_distilbert, corpora, tmp_path / "cache")
