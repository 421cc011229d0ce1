import numpy
import pytest

from spacy_clinkd.losses import log_softmax, soft_target_kl, token_cross_entropy

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
    with pytest.raises(ValueError):
        soft_target_kl(numpy.zeros((2, 3)), numpy.zeros((2, 3)), temperature=0)
    with pytest.raises(ValueError):
        soft_target_kl(numpy.zeros((2, 3)), numpy.zeros((2, 4)))
