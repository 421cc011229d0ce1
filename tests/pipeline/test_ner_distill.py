"""ClinkdNER's distillation: `distill`, `update` on examples that carry
teacher logits, and the kd settings."""
import numpy
import pytest
from spacy.tokens import Doc
from spacy.training import Example

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.losses import distillation_loss
from spacy_clinkd.pipeline.ner import TEACHER_LOGITS
from tests.util import TRAIN_DATA, make_ner_nlp


@pytest.fixture(scope="module")
def student_ner(tiny_distilbert):
    nlp = make_ner_nlp(tiny_distilbert)
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA]
    nlp.initialize(lambda: examples)
    ner = nlp.get_pipe("clinkd_ner")
    # Gold tokenized differently ("5mg" one token): some tokens' tags unknown.
    gold = Doc(nlp.vocab, words=["took", "5mg", "aspirin"], ents=["O", "B-MEDICATION", "O"])
    examples.append(Example(nlp.make_doc("took 5mg aspirin"), gold))
    # A transfer doc: no entity annotation at all.
    examples.append(Example.from_dict(nlp.make_doc("fever and cough"), {}))
    return nlp, ner, examples


def batch_with_teacher(ner, examples, seed):
    """Student scores, random teacher logits and flat gold for a batch."""
    scores = ner.predict([eg.predicted for eg in examples])
    rng = numpy.random.default_rng(seed)
    teacher = [rng.normal(size=s.shape).astype("float32") for s in scores]
    gold, mask = ner.gold_tags(examples)
    return scores, teacher, gold, mask


def set_kd(ner, *, alpha, temperature):
    ner.cfg["kd_alpha"] = alpha
    ner.cfg["kd_temperature"] = temperature


def flat_loss(scores, teacher, gold, mask, *, alpha, temperature):
    return distillation_loss(
        numpy.concatenate(scores), numpy.concatenate(teacher), gold=gold, gold_mask=mask,
        alpha=alpha, temperature=temperature,
    )


def test_alpha_one_equals_plain_training(student_ner):
    _, ner, examples = student_ner
    scores, teacher, gold, mask = batch_with_teacher(ner, examples, 0)
    assert 0 < mask.sum() < len(mask)
    loss, d_scores = ner.get_loss(examples, scores)
    terms = flat_loss(scores, teacher, gold, mask, alpha=1.0, temperature=2.0)
    assert terms.loss == pytest.approx(loss, rel=1e-6)
    numpy.testing.assert_allclose(terms.d_logits, numpy.concatenate(d_scores), atol=1e-7)
    # ... and through the component: distill(α=1) reports update()'s loss.
    set_kd(ner, alpha=1.0, temperature=2.0)
    kd = ner.distill(teacher, examples, sgd=None)
    plain = ner.update(examples, sgd=None)
    assert kd["clinkd_ner"] == pytest.approx(plain["clinkd_ner"], rel=1e-5)
    assert "clinkd_ner_kd" not in plain  # no teacher logits: plain training


def test_distill_method_matches_pure_loss(student_ner):
    _, ner, examples = student_ner
    scores, teacher, gold, mask = batch_with_teacher(ner, examples, 1)
    terms = flat_loss(scores, teacher, gold, mask, alpha=0.3, temperature=2.0)
    set_kd(ner, alpha=0.3, temperature=2.0)
    losses = ner.distill(teacher, examples, sgd=None)
    assert losses["clinkd_ner"] == pytest.approx(terms.loss, rel=1e-5)
    assert losses["clinkd_ner_ce"] == pytest.approx(terms.ce, rel=1e-5)
    assert losses["clinkd_ner_kd"] == pytest.approx(terms.kd, rel=1e-5)
    # α = 0 is exactly the component's get_teacher_student_loss.
    kd_loss, _ = ner.get_teacher_student_loss(teacher, scores, temperature=2.0)
    zero = flat_loss(scores, teacher, gold, mask, alpha=0.0, temperature=2.0)
    assert zero.loss == pytest.approx(kd_loss, rel=1e-6)


def test_update_distills_examples_that_carry_teacher_logits(student_ner):
    """What spaCy's loop calls: `update` on examples with teacher logits on
    their predicted docs gives exactly `distill` with those logits, and a doc
    without them gets no soft term."""
    _, ner, examples = student_ner
    _, teacher, _, _ = batch_with_teacher(ner, examples, 2)
    set_kd(ner, alpha=0.3, temperature=4.0)
    carried = [eg.copy() for eg in examples]
    for eg, t in zip(carried[:-1], teacher[:-1]):
        eg.predicted.user_data[TEACHER_LOGITS] = t
    via_update = ner.update(carried, sgd=None)
    via_distill = ner.distill(teacher[:-1] + [None], examples, sgd=None)
    assert via_update == pytest.approx(via_distill, rel=1e-6)
    assert via_update["clinkd_ner_kd"] > 0.0
    everything = ner.distill(teacher, examples, sgd=None)
    assert everything["clinkd_ner_kd"] != pytest.approx(via_update["clinkd_ner_kd"], rel=1e-3)


def test_update_with_teacher_logits_moves_student_towards_teacher(tiny_distilbert):
    nlp = make_ner_nlp(tiny_distilbert)
    examples = [Example.from_dict(nlp.make_doc(t), {}) for t, _ in TRAIN_DATA]  # no gold at all
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN_DATA])
    ner = nlp.get_pipe("clinkd_ner")
    rng = numpy.random.default_rng(3)
    for eg in examples:
        eg.predicted.user_data[TEACHER_LOGITS] = rng.normal(scale=3.0, size=(len(eg.predicted), len(ner.tags))).astype("float32")
    teacher = [eg.predicted.user_data[TEACHER_LOGITS] for eg in examples]
    set_kd(ner, alpha=0.5, temperature=1.0)
    from thinc.api import Adam

    optimizer = Adam(0.01)
    first = nlp.update(examples, sgd=optimizer)["clinkd_ner_kd"]
    for _ in range(30):
        last = nlp.update(examples, sgd=optimizer)
    assert last["clinkd_ner_ce"] == 0.0  # transfer-like docs: no gold term
    assert last["clinkd_ner_kd"] < 0.5 * first
    scores = ner.predict([eg.predicted for eg in examples])
    agree = numpy.mean(numpy.concatenate([s.argmax(-1) == t.argmax(-1) for s, t in zip(scores, teacher)]))
    assert agree > 0.6


def test_kd_settings_are_checked_and_serialized(tiny_distilbert):
    nlp = make_ner_nlp(tiny_distilbert)
    with pytest.raises(ClinkdError, match="alpha"):
        nlp.add_pipe("clinkd_ner", name="bad", config={"kd_alpha": 1.5, "model": {"tok2vec": {"name": str(tiny_distilbert)}}})
    with pytest.raises(ClinkdError, match="temperature"):
        nlp.add_pipe("clinkd_ner", name="bad", config={"kd_temperature": 0.0, "model": {"tok2vec": {"name": str(tiny_distilbert)}}})
    other = make_ner_nlp(tiny_distilbert)
    ner = other.get_pipe("clinkd_ner")
    assert (ner.cfg["kd_alpha"], ner.cfg["kd_temperature"]) == (0.5, 2.0)
    custom = make_ner_nlp(tiny_distilbert)
    custom.remove_pipe("clinkd_ner")
    custom.add_pipe(
        "clinkd_ner", config={"kd_alpha": 0.2, "kd_temperature": 3.0, "model": {"tok2vec": {"name": str(tiny_distilbert)}}}
    )
    assert custom.config["components"]["clinkd_ner"]["kd_alpha"] == 0.2
    assert custom.get_pipe("clinkd_ner").cfg["kd_temperature"] == 3.0


def test_distill_with_teacher_pipe_and_missing_targets(student_ner, tiny_distilbert):
    _, ner, examples = student_ner
    set_kd(ner, alpha=0.0, temperature=2.0)
    # The student as its own teacher: the soft term is zero.
    losses = ner.distill(ner, examples)
    assert losses["clinkd_ner_kd"] == pytest.approx(0.0, abs=1e-6)
    # No target for any doc: no soft term at all.
    losses = ner.distill([None] * len(examples), examples)
    assert losses["clinkd_ner"] == 0.0
    with pytest.raises(ClinkdError, match="teacher score arrays"):
        ner.distill([None], examples)
    with pytest.raises(ClinkdError, match="do not fit"):
        ner.distill([numpy.zeros((1, len(ner.tags)), dtype="float32")] * len(examples), examples)
