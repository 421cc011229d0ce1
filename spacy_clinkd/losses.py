"""Pure loss functions over per-token tag logits.

Each returns `(loss, d_logits)`: the scalar loss and its gradient with respect
to the logits, with the logits' shape. No state, no spaCy objects.
"""

import numpy

Array = numpy.ndarray


def log_softmax(logits: Array, temperature: float = 1.0) -> Array:
    """log softmax(logits / temperature) over the last axis."""
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    return z - numpy.log(numpy.exp(z).sum(axis=-1, keepdims=True))


def softmax(logits: Array, temperature: float = 1.0) -> Array:
    return numpy.exp(log_softmax(logits, temperature))


def token_cross_entropy(
    logits: Array, gold: Array, mask: Array
) -> tuple[float, Array]:
    """Cross-entropy against gold tags, averaged over the known tokens.

        L = -(1/N) Σ_i m_i · log softmax(z_i)[y_i],   N = max(1, Σ_i m_i)
        ∂L/∂z_i = m_i · (softmax(z_i) - onehot(y_i)) / N

    logits (Array): (n_tokens, n_tags) scores z.
    gold (Array): (n_tokens,) int gold tag ids y.
    mask (Array): (n_tokens,) 1 where the gold tag is known, else 0.
    RETURNS (Tuple[float, Array]): L and ∂L/∂z, (n_tokens, n_tags).
    """
    logits = numpy.asarray(logits, dtype="float32")
    n_tokens = logits.shape[0]
    if n_tokens == 0:
        return 0.0, numpy.zeros_like(logits)
    mask = numpy.asarray(mask, dtype="float32")
    norm = max(1.0, float(mask.sum()))
    logp = log_softmax(logits)  # (n_tokens, n_tags)
    rows = numpy.arange(n_tokens)
    loss = -float((logp[rows, gold] * mask).sum()) / norm
    d_logits = numpy.exp(logp)
    d_logits[rows, gold] -= 1.0
    d_logits *= (mask / norm)[:, None]
    return loss, d_logits.astype("float32")


def soft_target_kl(
    student_logits: Array,
    teacher_logits: Array,
    *,
    temperature: float = 1.0,
    mask: Array | None = None,
) -> tuple[float, Array]:
    """Temperature-scaled distillation term (Hinton et al. 2015), averaged
    over tokens:

        L = T² · (1/N) Σ_i m_i · KL(softmax(t_i/T) ‖ softmax(s_i/T))
        ∂L/∂s_i = T · m_i · (softmax(s_i/T) - softmax(t_i/T)) / N

    The T² keeps the gradient's scale comparable to the hard-label term as T
    changes.

    student_logits (Array): (n_tokens, n_tags) student scores s.
    teacher_logits (Array): (n_tokens, n_tags) teacher scores t.
    temperature (float): T > 0.
    mask (Optional[Array]): (n_tokens,) token weights m, default all 1.
    RETURNS (Tuple[float, Array]): L and ∂L/∂s.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    s = numpy.asarray(student_logits, dtype="float32")
    t = numpy.asarray(teacher_logits, dtype="float32")
    if s.shape != t.shape:
        raise ValueError(f"student {s.shape} and teacher {t.shape} logits differ in shape")
    n_tokens = s.shape[0]
    if n_tokens == 0:
        return 0.0, numpy.zeros_like(s)
    m = numpy.ones((n_tokens,), dtype="float32") if mask is None else numpy.asarray(mask, dtype="float32")
    norm = max(1.0, float(m.sum()))
    log_p_t = log_softmax(t, temperature)
    log_p_s = log_softmax(s, temperature)
    p_t = numpy.exp(log_p_t)
    kl = (p_t * (log_p_t - log_p_s)).sum(axis=-1)  # (n_tokens,)
    loss = temperature**2 * float((kl * m).sum()) / norm
    d_s = temperature * (numpy.exp(log_p_s) - p_t) * (m / norm)[:, None]
    return loss, d_s.astype("float32")
