"""Teacher targets: computed once per doc, cached on disk, checked."""
import io
from collections import Counter

import numpy
import pytest
import spacy
from spacy.util import registry

from spacy_clinkd.distillation.targets import (
    TargetCache,
    doc_key,
    smoothed_logits,
    teacher_targets,
)
from spacy_clinkd.distillation.teachers import PipelineTargets
from spacy_clinkd.distillation.training import distill, load_distill_config
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.losses import softmax
from spacy_clinkd.pipeline.tags import BIOScheme
from spacy_clinkd.tokenizer import clinical_blank
from tests.util import DISTILL_CFG, TRAIN_DATA

# Texts the counting teacher of the loop test was asked to label.
TEACHER_CALLS: Counter = Counter()


class CountingTeacher:
    """Wraps a PipelineTargets and counts the docs it labels, per text."""

    def __init__(self, path: str) -> None:
        self.inner = PipelineTargets(path=path)

    identity = property(lambda self: self.inner.identity)

    def initialize(self, scheme):
        self.inner.initialize(scheme)

    def counts(self):
        return self.inner.counts()

    def __call__(self, docs):
        TEACHER_CALLS.update(doc.text for doc in docs)
        return self.inner(docs)


@pytest.fixture(scope="module")
def teacher(teacher_dir):
    return PipelineTargets(path=teacher_dir)


@pytest.fixture
def docs():
    nlp = clinical_blank()
    return [nlp.make_doc(t) for t, _ in TRAIN_DATA]


def test_teacher_runs_once_per_doc_across_epochs_and_runs(teacher, docs, tmp_path):
    scheme = BIOScheme(("DISEASE", "MEDICATION", "SYMPTOM"))
    teacher.initialize(scheme)
    teacher.calls = 0
    first, n_new = teacher_targets(teacher, docs + docs[:1], cache=TargetCache(tmp_path, identity=teacher.identity, tags=scheme.tags))
    assert n_new == 3 and teacher.calls == 3  # the repeated text is labelled once
    again, n_new = teacher_targets(teacher, docs, cache=TargetCache(tmp_path, identity=teacher.identity, tags=scheme.tags))
    assert n_new == 0 and teacher.calls == 3  # a second run: all from disk
    for a, b, doc in zip(first, again, docs):
        assert a.shape == (len(doc), len(scheme))
        numpy.testing.assert_array_equal(a, b)
    # Another teacher identity does not reuse the cache.
    other = TargetCache(tmp_path, identity="0" * 64, tags=scheme.tags)
    assert len(other) == 0


def test_loop_calls_teacher_once_per_doc(kd_overrides, tmp_path):
    name = "test.counting_targets.v1"
    if name not in registry.misc:
        registry.misc.register(name, func=CountingTeacher)
    counting = {"@misc": name, "path": kd_overrides["paths.teacher"]}
    overrides = {
        **kd_overrides,
        "corpora.train.teacher": counting,
        "corpora.dev.teacher": counting,
        "training.max_steps": 0,
        "training.max_epochs": 2,
        "training.eval_frequency": 1,
    }
    TEACHER_CALLS.clear()
    for run in ("one", "two"):
        config = load_distill_config(DISTILL_CFG, overrides)
        result = distill(config, tmp_path / run, stdout=io.StringIO())
        assert result["log"][-1]["epoch"] == 1  # two epochs ran
    # 3 train + 2 transfer + 2 dev texts, each labelled once over both runs.
    assert len(TEACHER_CALLS) == 7
    assert set(TEACHER_CALLS.values()) == {1}
    assert result["targets"]["train"]["labelled_now"] == 0
    assert result["targets"]["dev"]["labelled_now"] == 0


def test_tag_set_mismatch(teacher):
    with pytest.raises(ClinkdError, match="differ from the student"):
        teacher.initialize(BIOScheme(("DISEASE", "SYMPTOM")))
    with pytest.raises(ClinkdError, match="differ from the student"):
        teacher.initialize(BIOScheme(("SYMPTOM", "MEDICATION", "DISEASE")))


def test_tokenization_mismatch(teacher_dir):
    nlp = spacy.load(teacher_dir)
    nlp.tokenizer = spacy.blank("en").tokenizer  # no clinical infixes: "pt(3" stays one token
    source = PipelineTargets(nlp=nlp)
    source.initialize(BIOScheme(("DISEASE", "MEDICATION", "SYMPTOM")))
    doc = clinical_blank().make_doc("pt(3) has fever")
    with pytest.raises(ClinkdError, match="tokenize a doc differently"):
        source([doc])


def test_cached_targets_of_wrong_length(teacher, docs, tmp_path):
    scheme = BIOScheme(("DISEASE", "MEDICATION", "SYMPTOM"))
    cache = TargetCache(tmp_path, identity=teacher.identity, tags=scheme.tags)
    cache.put(doc_key(docs[0]), numpy.zeros((2, len(scheme)), dtype="float32"))
    with pytest.raises(ClinkdError, match="has 6 tokens"):
        teacher_targets(teacher, docs[:1], cache=cache)


def test_smoothed_logits_exact():
    logits = smoothed_logits(numpy.array([0, 2, 1]), 4, epsilon=0.2)
    expected = numpy.full((3, 4), 0.05)
    expected[[0, 1, 2], [0, 2, 1]] = 0.85
    numpy.testing.assert_allclose(numpy.exp(logits), expected, rtol=1e-6)
    numpy.testing.assert_allclose(softmax(logits), expected, rtol=1e-6)
    for epsilon in (0.0, 1.0):
        with pytest.raises(ClinkdError, match="epsilon"):
            smoothed_logits(numpy.array([0]), 4, epsilon=epsilon)


class DrawingTeacher:
    """A teacher that draws from every generator the student's training uses
    (as loading or running a pipeline may: weight init, dropout)."""

    def __init__(self, n_tags: int) -> None:
        self.n_tags = n_tags

    def __call__(self, docs):
        import random

        import torch

        random.random()
        numpy.random.rand()
        torch.rand(1)
        return [numpy.zeros((len(doc), self.n_tags), dtype="float32") for doc in docs]


def _draws():
    import random

    import torch

    return random.random(), float(numpy.random.rand()), float(torch.rand(1))


def test_labelling_leaves_the_random_state_alone(docs, tmp_path):
    """A cold cache (the teacher runs) and a warm one (it does not) leave the
    generators in the same state, so the student trains the same either way."""
    from spacy.util import fix_random_seed

    scheme = BIOScheme(("DISEASE", "MEDICATION", "SYMPTOM"))
    teacher = DrawingTeacher(len(scheme))
    fix_random_seed(0)
    expected = _draws()
    fix_random_seed(0)
    _, n_new = teacher_targets(teacher, docs, cache=TargetCache(tmp_path, identity="a" * 64, tags=scheme.tags))
    assert n_new == len(docs)  # the teacher ran, and drew
    assert _draws() == expected


def test_a_warm_cache_trains_the_same_student(kd_overrides, tmp_path):
    """distill with targets labelled now and with the same targets from the
    cache: the same losses and the same weights."""
    overrides = {**kd_overrides, "training.max_steps": 4, "training.eval_frequency": 2}
    results = []
    for run in ("cold", "warm"):
        config = load_distill_config(DISTILL_CFG, overrides)
        results.append(distill(config, tmp_path / run, stdout=io.StringIO()))
    cold, warm = results
    assert cold["targets"]["train"]["labelled_now"] > 0
    assert warm["targets"]["train"]["labelled_now"] == 0
    assert [r["losses"] for r in cold["log"]] == [r["losses"] for r in warm["log"]]
    weights = "model-last/clinkd_ner/model"
    assert (tmp_path / "cold" / weights).read_bytes() == (tmp_path / "warm" / weights).read_bytes()
