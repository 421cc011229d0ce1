"""Fixtures for distillation tests: tiny synthetic corpora, a tiny BERT
teacher trained a few steps, and a distillation config pointing at them."""
from pathlib import Path

import pytest
import spacy
import torch
from spacy.tokens import DocBin
from spacy.training import Example
from thinc.api import Adam

from spacy_clinkd.tokenizer import clinical_blank

ROOT = Path(__file__).resolve().parents[2]
DISTILL_CFG = ROOT / "configs" / "distill.cfg"
STUDENT_CFG = ROOT / "configs" / "student.cfg"
DATA = ROOT / "tests" / "data" / "distillation"

TRAIN_DATA = [
    ("the patient has fever and cough", [(16, 21, "SYMPTOM"), (26, 31, "SYMPTOM")]),
    ("took aspirin 5mg with insulin", [(5, 12, "MEDICATION"), (22, 29, "MEDICATION")]),
    ("no chest pain, has diabetes", [(3, 13, "SYMPTOM"), (19, 27, "DISEASE")]),
]
DEV_DATA = [
    ("has fever and chest pain", [(4, 9, "SYMPTOM"), (14, 24, "SYMPTOM")]),
    ("took insulin for diabetes", [(5, 12, "MEDICATION"), (17, 25, "DISEASE")]),
]


@pytest.fixture(autouse=True)
def one_thread():
    # A long job may share the machine: keep tests on one core.
    torch.set_num_threads(1)


def write_corpus(path: Path, data) -> Path:
    nlp = clinical_blank()
    docs = []
    for text, ents in data:
        doc = nlp.make_doc(text)
        doc.ents = [doc.char_span(s, e, label=label) for s, e, label in ents]
        docs.append(doc)
    DocBin(docs=docs).to_disk(path)
    return path


@pytest.fixture(scope="session")
def corpora(tmp_path_factory):
    base = tmp_path_factory.mktemp("kd_corpus")
    return {
        "train": write_corpus(base / "train.spacy", TRAIN_DATA),
        "dev": write_corpus(base / "dev.spacy", DEV_DATA),
    }


def make_ner_nlp(encoder_dir: Path) -> spacy.Language:
    config = {"nlp": {"tokenizer": {"@tokenizers": "clinkd.clinical_tokenizer.v1"}}}
    nlp = spacy.blank("en", config=config)
    nlp.add_pipe("clinkd_ner", config={"model": {"tok2vec": {"name": str(encoder_dir)}}})
    return nlp


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


def tiny_kd_overrides(teacher_dir, encoder_dir, corpora, cache_dir) -> dict:
    """Overrides that make configs/distill.cfg a tiny, fast run."""
    return {
        "paths.teacher": str(teacher_dir),
        "paths.student_config": str(STUDENT_CFG),
        "paths.encoder": str(encoder_dir),
        "paths.train": str(corpora["train"]),
        "paths.dev": str(corpora["dev"]),
        "paths.transfer": str(DATA / "transfer"),
        "paths.targets_cache": str(cache_dir),
        "distillation.max_steps": 24,
        "distillation.eval_frequency": 6,
        "distillation.patience": 0,
        "distillation.dropout": 0.0,
        "distillation.teacher_batch_size": 4,
        "distillation.batcher.size.rate": 40,
        "distillation.optimizer.learn_rate.warmup_steps": 1,
        "distillation.optimizer.learn_rate.initial_rate": 0.002,
        "distillation.optimizer.L2": 0.0,
    }


@pytest.fixture
def kd_overrides(teacher_dir, tiny_distilbert, corpora, tmp_path):
    return tiny_kd_overrides(teacher_dir, tiny_distilbert, corpora, tmp_path / "cache")
