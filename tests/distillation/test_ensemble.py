"""An ensemble of teachers as one (`EnsembleTargets`) and the config that
uses it (configs/distill_ensemble.cfg over configs/distill.cfg)."""
import io

import numpy
import pytest
from spacy.util import registry

from spacy_clinkd.distillation.targets import TargetCache, doc_key
from spacy_clinkd.distillation.teachers import EnsembleTargets, PipelineTargets
from spacy_clinkd.distillation.training import check_settings, distill, load_distill_config
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.losses import softmax
from spacy_clinkd.pipeline.tags import BIOScheme
from spacy_clinkd.tokenizer import clinical_blank
from tests.util import DISTILL_CFG, ENSEMBLE_CFG, TRAIN_DATA

SCHEME = BIOScheme(("DISEASE", "SYMPTOM"))  # 5 tags


class FixedTeacher:
    """A teacher that returns given logits for every doc (None: uncovered)."""

    def __init__(self, logits, name):
        self.logits = logits
        self.name = name
        self.bound = None

    @property
    def identity(self):
        return self.name

    def initialize(self, scheme):
        self.bound = scheme

    def __call__(self, docs):
        return [self.logits for _ in docs]

    def counts(self):
        return {"teacher_docs": 1}


@pytest.fixture
def doc():
    return clinical_blank().make_doc("fever and cough")


def random_logits(seed, scale=3.0):
    return numpy.random.default_rng(seed).normal(scale=scale, size=(3, len(SCHEME))).astype("float32")


@pytest.mark.parametrize("T", [1.0, 2.0, 4.0])
def test_targets_are_the_mean_tempered_distribution(doc, T):
    members = [FixedTeacher(random_logits(seed), f"t{seed}") for seed in range(3)]
    ensemble = EnsembleTargets(members, temperature=T)
    ensemble.initialize(SCHEME)
    assert all(m.bound is SCHEME for m in members)
    (logits,) = ensemble([doc])
    expected = numpy.mean([softmax(m.logits, T) for m in members], axis=0)
    numpy.testing.assert_allclose(softmax(logits, T), expected, rtol=1e-5, atol=1e-7)
    # Not the mean of the logits (a geometric mean of the distributions).
    geometric = softmax(numpy.mean([m.logits for m in members], axis=0), T)
    assert numpy.abs(geometric - expected).max() > 1e-2


def test_one_member_is_that_teacher_and_large_logits_stay_finite(doc):
    z = random_logits(0, scale=1e4)
    (logits,) = EnsembleTargets([FixedTeacher(z, "a")], temperature=2.0)([doc])
    assert numpy.isfinite(logits).all()
    numpy.testing.assert_allclose(softmax(logits, 2.0), softmax(z, 2.0), atol=1e-6)


def test_uncovered_docs_average_over_the_members_that_cover_them(doc):
    z = random_logits(1)
    ensemble = EnsembleTargets([FixedTeacher(None, "a"), FixedTeacher(z, "b")], temperature=2.0)
    (logits,) = ensemble([doc])
    numpy.testing.assert_allclose(softmax(logits, 2.0), softmax(z, 2.0), atol=1e-6)
    assert EnsembleTargets([FixedTeacher(None, "a")], temperature=2.0)([doc]) == [None]
    assert ensemble.counts() == {"ensemble_members": 2, "teacher_docs": 2}


def test_identity_follows_members_and_temperature():
    a, b = FixedTeacher(None, "a"), FixedTeacher(None, "b")
    ids = {
        EnsembleTargets([a, b], temperature=2.0).identity,
        EnsembleTargets([a, b], temperature=1.0).identity,
        EnsembleTargets([a], temperature=2.0).identity,
        EnsembleTargets([a, FixedTeacher(None, "c")], temperature=2.0).identity,
    }
    assert len(ids) == 4
    assert EnsembleTargets([a, b], temperature=2.0).identity == EnsembleTargets([a, b], temperature=2.0).identity


def test_bad_ensembles_are_refused():
    with pytest.raises(ClinkdError, match="ensemble members must be at least 1"):
        EnsembleTargets([], temperature=2.0)
    with pytest.raises(ClinkdError, match="temperature must be > 0"):
        EnsembleTargets([FixedTeacher(None, "a")], temperature=0.0)


def test_ensemble_config_replaces_only_the_teachers():
    single = load_distill_config(DISTILL_CFG)
    config = load_distill_config(ENSEMBLE_CFG, {"paths.teachers": ["a", "b"]})
    for split in ("train", "dev"):
        teacher = config.interpolate()["corpora"][split]["teacher"]
        # A whole new block: nothing of clinkd.pipeline_targets.v1 (its `path`) is left.
        assert teacher == {
            "@misc": "clinkd.ensemble_targets.v1",
            "paths": ["a", "b"],
            "temperature": 2.0,
            "component": "clinkd_ner",
        }
        rest = {k: v for k, v in config["corpora"][split].items() if k != "teacher"}
        assert rest == {k: v for k, v in single["corpora"][split].items() if k != "teacher"}
    assert config["training"] == single["training"]
    assert config["components"] == single["components"]
    assert registry.misc.get("clinkd.ensemble_targets.v1") is not None


def test_temperature_mismatch_and_config_cycles_are_refused(tmp_path):
    config = load_distill_config(ENSEMBLE_CFG, {"components.clinkd_ner.kd_temperature": 3.0})
    with pytest.raises(ClinkdError, match=r"temperature \(2.0\) differs from the student's kd_temperature \(3.0\)"):
        check_settings(config)
    check_settings(load_distill_config(ENSEMBLE_CFG))
    loop = tmp_path / "loop.cfg"
    loop.write_text(f'[paths]\ndistill_config = "{loop}"\n', encoding="utf8")
    with pytest.raises(ClinkdError, match="laid over itself"):
        load_distill_config(loop)


@pytest.mark.slow
def test_distill_from_an_ensemble_of_one_teacher_twice(kd_overrides, teacher_dir, tmp_path):
    """Two copies of one teacher: the cached soft targets are that teacher's
    own tempered distribution, and the student trains on them."""
    overrides = {
        **{k: v for k, v in kd_overrides.items() if k != "paths.teacher"},
        "paths.teachers": [str(teacher_dir), str(teacher_dir)],
        "training.max_steps": 6,
    }
    result = distill(load_distill_config(ENSEMBLE_CFG, overrides), tmp_path / "out", stdout=io.StringIO())
    assert (tmp_path / "out" / "model-best").is_dir()
    assert result["teacher_identity"] == EnsembleTargets(
        [PipelineTargets(path=teacher_dir)] * 2, temperature=2.0
    ).identity
    single = PipelineTargets(path=teacher_dir)
    cache = TargetCache(overrides["paths.targets_cache"], identity=result["teacher_identity"], tags=single.tags)
    docs = [single.nlp.make_doc(text) for text, _ in TRAIN_DATA]
    single.initialize(BIOScheme(single.pipe.labels))
    for doc, expected in zip(docs, single(docs)):
        numpy.testing.assert_allclose(softmax(cache.get(doc_key(doc)), 2.0), softmax(expected, 2.0), atol=1e-5)
