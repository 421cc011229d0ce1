import numpy
import pytest

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.losses import (
    combine_terms,
    distillation_loss,
    log_softmax,
    soft_target_kl,
    softmax,
    token_cross_entropy,
)

RNG = numpy.random.default_rng(0)


def finite_difference(func, x, eps=1e-3):
    grad = numpy.zeros_like(x, dtype="float64")
    for idx in numpy.ndindex(*x.shape):
        plus = x.astype("float64").copy()
        minus = x.astype("float64").copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = (func(plus) - func(minus)) / (2 * eps)
    return grad


def test_cross_entropy_value_and_gradient():
    logits = RNG.normal(size=(5, 4)).astype("float32")
    gold = numpy.asarray([0, 1, 2, 3, 1])
    mask = numpy.asarray([1, 1, 0, 1, 1], dtype="float32")
    loss, d = token_cross_entropy(logits, gold, mask)
    expected = -numpy.mean([log_softmax(logits)[i, gold[i]] for i in (0, 1, 3, 4)])
    assert loss == pytest.approx(expected, rel=1e-5)
    numeric = finite_difference(lambda z: token_cross_entropy(z, gold, mask)[0], logits)
    numpy.testing.assert_allclose(d, numeric, atol=1e-3)
    assert not d[2].any()  # masked token gets no gradient


def test_cross_entropy_empty():
    loss, d = token_cross_entropy(numpy.zeros((0, 3)), numpy.zeros((0,), dtype=int), numpy.zeros((0,)))
    assert loss == 0.0 and d.shape == (0, 3)


def test_kl_zero_when_student_equals_teacher():
    t = RNG.normal(size=(6, 5)).astype("float32")
    loss, d = soft_target_kl(t.copy(), t, temperature=2.0)
    assert loss == pytest.approx(0.0, abs=1e-6)
    numpy.testing.assert_allclose(d, 0.0, atol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 2.0, 4.0])
def test_kl_gradient_matches_finite_differences(temperature):
    s = RNG.normal(size=(4, 3)).astype("float32")
    t = RNG.normal(size=(4, 3)).astype("float32")
    mask = numpy.asarray([1, 0, 1, 1], dtype="float32")
    _, d = soft_target_kl(s, t, temperature=temperature, mask=mask)
    numeric = finite_difference(
        lambda z: soft_target_kl(z, t, temperature=temperature, mask=mask)[0], s
    )
    numpy.testing.assert_allclose(d, numeric, atol=1e-3)


def test_kl_temperature_squared_scaling():
    s = RNG.normal(size=(3, 4)).astype("float32")
    t = RNG.normal(size=(3, 4)).astype("float32")
    temperature = 3.0
    loss, _ = soft_target_kl(s, t, temperature=temperature)
    p_t = numpy.exp(log_softmax(t, temperature))
    kl = (p_t * (log_softmax(t, temperature) - log_softmax(s, temperature))).sum(-1).mean()
    assert loss == pytest.approx(temperature**2 * kl, rel=1e-5)


def test_kl_rejects_bad_input():
    # The same check (and error) as every other place that takes T.
    with pytest.raises(ClinkdError, match="temperature > 0; got alpha=0.0, temperature=0"):
        soft_target_kl(numpy.zeros((2, 3)), numpy.zeros((2, 3)), temperature=0)
    with pytest.raises(ValueError):
        soft_target_kl(numpy.zeros((2, 3)), numpy.zeros((2, 4)))


# -- the distillation loss: α·CE + (1 − α)·T²·KL ----------------------------

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
        terms = distillation_loss(
            student, student.copy(), gold=gold, gold_mask=mask * 0, alpha=0.3, temperature=temperature
        )
        assert terms.kd == pytest.approx(0.0, abs=1e-6)
        assert terms.loss == pytest.approx(0.0, abs=1e-6)
        assert numpy.abs(terms.d_logits).max() < 1e-6


@pytest.mark.parametrize("alpha,temperature", [(0.0, 1.0), (0.5, 2.0), (0.9, 4.0), (1.0, 3.0)])
def test_gradient_matches_finite_differences(alpha, temperature):
    student, teacher, gold, mask = random_case(1)

    def loss_at(s):
        return distillation_loss(s, teacher, gold=gold, gold_mask=mask, alpha=alpha, temperature=temperature).loss

    grad = distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=alpha, temperature=temperature).d_logits
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
        terms = distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=0.0, temperature=temperature)
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
        grad = distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=0.0, temperature=temperature).d_logits
        numpy.testing.assert_allclose(grad, limit, rtol=1e-2, atol=1e-4)


def test_transfer_tokens_only_get_the_soft_term():
    student, teacher, gold, _ = random_case(3)
    no_gold = numpy.zeros((N_TOKENS,), dtype="float32")
    terms = distillation_loss(student, teacher, gold=gold, gold_mask=no_gold, alpha=0.4, temperature=2.0)
    assert terms.ce == 0.0
    assert terms.loss == pytest.approx(0.6 * terms.kd)


def test_invalid_settings():
    student, teacher, gold, mask = random_case()
    with pytest.raises(ClinkdError, match="alpha"):
        distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=1.5, temperature=1.0)
    with pytest.raises(ClinkdError, match="temperature"):
        distillation_loss(student, teacher, gold=gold, gold_mask=mask, alpha=0.5, temperature=0.0)


def test_combine_terms_lists():
    ce = (2.0, [numpy.ones((2, 3))])
    kd = (4.0, [numpy.full((2, 3), 3.0)])
    loss, d = combine_terms(ce, kd, alpha=0.25)
    assert loss == pytest.approx(3.5)
    numpy.testing.assert_allclose(d[0], numpy.full((2, 3), 2.5))
