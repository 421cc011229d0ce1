"""Numerics of the distillation loss and of ClinkdNER.distill."""
import numpy
import pytest
from spacy.tokens import Doc
from spacy.training import Example

from spacy_clinkd.distillation.losses import (
    argmax_agreement,
    combine_terms,
    distillation_loss,
    distillation_terms,
    tag_accuracy,
)
from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.losses import softmax
from tests.util import TRAIN_DATA, make_ner_nlp

N_TOKENS, N_TAGS = 7, 5


def random_case(seed: int = 0):
    rng = numpy.random.default_rng(seed)
    student = rng.normal(size=(N_TOKENS, N_TAGS)).astype("float32")
    teacher = rng.normal(scale=2.0, size=(N_TOKENS, N_TAGS)).astype("float32")
    gold = rng.integers(0, N_TAGS, size=(N_TOKENS,))
    mask = numpy.array([1, 1, 0, 1, 0, 0, 1], dtype="float32")  # 0: no gold (e.g. transfer)
    return student, teacher, gold, mask


def test_zero_kd_when_student_equals_teacher():
    student, _, gold, mask = random_case()
    for temperature in (1.0, 2.0, 4.0):
        terms = distillation_terms(
            student, student.copy(), gold=gold, gold_mask=mask * 0, alpha=0.3, temperature=temperature
        )
        assert terms.kd == pytest.approx(0.0, abs=1e-6)
        assert terms.loss == pytest.approx(0.0, abs=1e-6)
        assert numpy.abs(terms.d_logits).max() < 1e-6


@pytest.mark.parametrize("alpha,temperature", [(0.0, 1.0), (0.5, 2.0), (0.9, 4.0), (1.0, 3.0)])
def test_gradient_matches_finite_differences(alpha, temperature):
    student, teacher, gold, mask = random_case(1)

    def loss_at(s):
        return distillation_loss(s, teacher, gold=gold, gold_mask=mask, alpha=alpha, temperature=temperature)[0]

    _, grad = distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=alpha, temperature=temperature)
    eps = 1e-2
    numeric = numpy.zeros_like(student, dtype="float64")
    for i in range(N_TOKENS):
        for j in range(N_TAGS):
            plus, minus = student.copy(), student.copy()
            plus[i, j] += eps
            minus[i, j] -= eps
            numeric[i, j] = (loss_at(plus) - loss_at(minus)) / (2 * eps)
    numpy.testing.assert_allclose(grad, numeric, atol=2e-3, rtol=2e-2)
    assert numpy.abs(grad).max() > 1e-3  # not trivially zero


def test_temperature_squared_scaling():
    student, teacher, gold, mask = random_case(2)
    for temperature in (1.0, 2.0, 5.0):
        terms = distillation_terms(student, teacher, gold=gold, gold_mask=mask, alpha=0.0, temperature=temperature)
        p_t = softmax(teacher.astype("float64"), temperature)
        p_s = softmax(student.astype("float64"), temperature)
        kl = (p_t * (numpy.log(p_t) - numpy.log(p_s))).sum(-1).mean()
        assert terms.kd == pytest.approx(temperature**2 * kl, rel=1e-4)
        assert terms.loss == pytest.approx(terms.kd)
    # Thanks to T², the gradient tends to a T-independent limit as T grows
    # (the centred logit difference / (K·N)) instead of vanishing like 1/T.
    diff = student.astype("float64") - teacher
    limit = (diff - diff.mean(-1, keepdims=True)) / (N_TAGS * N_TOKENS)
    for temperature in (500.0, 1000.0):
        _, grad = distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=0.0, temperature=temperature)
        numpy.testing.assert_allclose(grad, limit, rtol=1e-2, atol=1e-4)


def test_transfer_tokens_only_get_the_soft_term():
    student, teacher, gold, _ = random_case(3)
    no_gold = numpy.zeros((N_TOKENS,), dtype="float32")
    terms = distillation_terms(student, teacher, gold=gold, gold_mask=no_gold, alpha=0.4, temperature=2.0)
    assert terms.ce == 0.0
    assert terms.loss == pytest.approx(0.6 * terms.kd)


def test_invalid_settings():
    student, teacher, gold, mask = random_case()
    with pytest.raises(ClinkdError, match="alpha"):
        distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=1.5, temperature=1.0)
    with pytest.raises(ClinkdError, match="temperature"):
        distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=0.5, temperature=0.0)


def test_agreement_and_accuracy():
    a = numpy.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    b = numpy.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    assert argmax_agreement([a], [b]) == pytest.approx(2 / 3)
    assert tag_accuracy([a], [numpy.array([0, 1, 1])], [numpy.array([1.0, 1.0, 0.0])]) == 1.0


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


def test_alpha_one_equals_plain_training(student_ner):
    _, ner, examples = student_ner
    scores, teacher, gold, mask = batch_with_teacher(ner, examples, 0)
    assert 0 < mask.sum() < len(mask)
    loss, d_scores = ner.get_loss(examples, scores)
    kd_loss, d_flat = distillation_loss(
        numpy.concatenate(scores), numpy.concatenate(teacher), gold=gold, gold_mask=mask, alpha=1.0, temperature=2.0
    )
    assert kd_loss == pytest.approx(loss, rel=1e-6)
    numpy.testing.assert_allclose(d_flat, numpy.concatenate(d_scores), atol=1e-7)
    # ... and through the component: distill(α=1) reports update()'s loss.
    kd = ner.distill(teacher, examples, alpha=1.0, temperature=2.0, sgd=None)
    plain = ner.update(examples, sgd=None)
    assert kd["clinkd_ner"] == pytest.approx(plain["clinkd_ner"], rel=1e-5)


def test_distill_method_matches_pure_loss(student_ner):
    _, ner, examples = student_ner
    scores, teacher, gold, mask = batch_with_teacher(ner, examples, 1)
    terms = distillation_terms(
        numpy.concatenate(scores), numpy.concatenate(teacher), gold=gold, gold_mask=mask, alpha=0.3, temperature=2.0
    )
    losses = ner.distill(teacher, examples, alpha=0.3, temperature=2.0, sgd=None)
    assert losses["clinkd_ner"] == pytest.approx(terms.loss, rel=1e-5)
    assert losses["clinkd_ner_ce"] == pytest.approx(terms.ce, rel=1e-5)
    assert losses["clinkd_ner_kd"] == pytest.approx(terms.kd, rel=1e-5)
    # α = 0 is exactly the component's get_teacher_student_loss.
    kd_loss, _ = ner.get_teacher_student_loss(teacher, scores, temperature=2.0)
    zero = distillation_terms(
        numpy.concatenate(scores), numpy.concatenate(teacher), gold=gold, gold_mask=mask, alpha=0.0, temperature=2.0
    )
    assert zero.loss == pytest.approx(kd_loss, rel=1e-6)


def test_distill_with_teacher_pipe_and_missing_targets(student_ner, tiny_distilbert):
    _, ner, examples = student_ner
    # The student as its own teacher: the soft term is zero.
    losses = ner.distill(ner, examples, alpha=0.0, temperature=2.0)
    assert losses["clinkd_ner_kd"] == pytest.approx(0.0, abs=1e-6)
    # No target for any doc: no soft term at all.
    losses = ner.distill([None] * len(examples), examples, alpha=0.0, temperature=2.0)
    assert losses["clinkd_ner"] == 0.0
    with pytest.raises(ClinkdError, match="teacher score arrays"):
        ner.distill([None], examples)


def test_combine_terms_lists():
    ce = (2.0, [numpy.ones((2, 3))])
    kd = (4.0, [numpy.full((2, 3), 3.0)])
    loss, d = combine_terms(ce, kd, alpha=0.25)
    assert loss == pytest.approx(3.5)
    numpy.testing.assert_allclose(d[0], numpy.full((2, 3), 2.5))
