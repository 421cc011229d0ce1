"""Pure loss functions over per-token tag logits: every piece of loss math
in the package lives here.

The knowledge-distillation loss (Hinton et al. 2015), per spaCy token over the
tag set:

    L = α · CE(s, y) + (1 − α) · T² · KL(softmax(t/T) ‖ softmax(s/T))

    CE = -(1/N_gold) Σ_i g_i · log softmax(s_i)[y_i]            N_gold = max(1, Σ_i g_i)
    KL = (1/N_kd) Σ_i k_i · KL(softmax(t_i/T) ‖ softmax(s_i/T))  N_kd = max(1, Σ_i k_i)

s: student logits, t: teacher logits, y: gold tag ids, g_i = 1 where token i
has a known gold tag (0 for every token of an unlabelled transfer document),
k_i = 1 where the teacher gave a target. So a transfer document adds only the
soft term, weighted (1 − α); with α = 1 the loss and its gradient equal plain
training (`token_cross_entropy`).

Each loss returns `(loss, d_logits)`: the scalar loss and its gradient with
respect to the logits, with the logits' shape. No state, no spaCy objects.
"""
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

import numpy

from .errors import ClinkdError, Errors

Array = numpy.ndarray
Grad = TypeVar("Grad", Array, list[Array])


def check_distillation_settings(*, alpha: float, temperature: float) -> None:
    """Raise E356 unless 0 ≤ alpha ≤ 1 and temperature > 0 (the one check of
    both settings: the component, the config and `soft_target_kl` use it)."""
    if not (0.0 <= alpha <= 1.0) or not temperature > 0.0:
        raise ClinkdError(Errors.E356.format(alpha=alpha, temperature=temperature))


def log_softmax(logits: Array, temperature: float = 1.0) -> Array:
    """log softmax(logits / temperature) over the last axis."""
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    return z - numpy.log(numpy.exp(z).sum(axis=-1, keepdims=True))


def softmax(logits: Array, temperature: float = 1.0) -> Array:
    return numpy.exp(log_softmax(logits, temperature))


def mean_tempered_logits(logits: Sequence[Array], temperature: float) -> Array:
    """Logits whose tempered softmax is the mean of several tempered softmaxes
    (an ensemble's soft target):

        p̄ = (1/n) Σ_i softmax(z_i / T),   returned  T · log p̄

    so softmax(result / T) = p̄ exactly (log-mean-exp, stable for large z).

    logits (Sequence[Array]): n arrays z_i of one shape, (n_tokens, n_tags).
    temperature (float): T > 0.
    RETURNS (Array): T · log p̄, float32, the same shape.
    """
    stacked = numpy.stack([log_softmax(numpy.asarray(z, dtype="float64"), temperature) for z in logits])
    top = stacked.max(axis=0)
    log_mean = top + numpy.log(numpy.exp(stacked - top).mean(axis=0))
    return (temperature * log_mean).astype("float32")


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
    check_distillation_settings(alpha=0.0, temperature=temperature)
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


def combine_terms(
    ce: tuple[float, Grad], kd: tuple[float, Grad], *, alpha: float
) -> tuple[float, Grad]:
    """Weigh a hard-label term and a soft term:

        L = α · ce + (1 − α) · kd,   ∂L/∂s = α · ∂ce/∂s + (1 − α) · ∂kd/∂s

    ce (Tuple[float, Grad]): CE loss and its gradient (an array, or a list of
        per-doc arrays).
    kd (Tuple[float, Grad]): soft loss and its gradient, same layout as `ce`.
    alpha (float): weight of the hard-label term, in [0, 1].
    RETURNS (Tuple[float, Grad]): L and ∂L/∂s, in the layout of the inputs.
    """
    (ce_loss, d_ce), (kd_loss, d_kd) = ce, kd
    loss = alpha * ce_loss + (1.0 - alpha) * kd_loss
    if isinstance(d_ce, list):
        d: Array | list[Array] = [alpha * a + (1.0 - alpha) * b for a, b in zip(d_ce, d_kd)]
    else:
        d = alpha * d_ce + (1.0 - alpha) * d_kd
    return loss, d  # type: ignore[return-value]


class DistillationTerms(NamedTuple):
    """The weighted total and its two (unweighted) parts.

    loss (float): α·ce + (1 − α)·kd.
    d_logits (Array): ∂loss/∂student logits, (n_tokens, n_tags).
    ce (float): the hard-label cross-entropy over gold tokens.
    kd (float): the soft term T²·KL, averaged over teacher-target tokens.
    """

    loss: float
    d_logits: Array
    ce: float
    kd: float


def distillation_loss(
    student_logits: Array,
    teacher_logits: Array,
    *,
    gold: Array,
    gold_mask: Array,
    alpha: float,
    temperature: float,
    teacher_mask: Array | None = None,
) -> DistillationTerms:
    """The distillation loss of the module docstring, with its parts.

    student_logits (Array): (n_tokens, n_tags) student scores s.
    teacher_logits (Array): (n_tokens, n_tags) teacher scores t (logits or
        log-probabilities; only their softmax matters; any finite value where
        k_i = 0).
    gold (Array): (n_tokens,) int gold tag ids y (anything where g_i = 0).
    gold_mask (Array): (n_tokens,) g, 1 where the gold tag is known.
    alpha (float): α in [0, 1], the weight of the hard-label term.
    temperature (float): T > 0.
    teacher_mask (Optional[Array]): (n_tokens,) k, default all 1.
    RETURNS (DistillationTerms): loss, d_logits (n_tokens, n_tags), ce, kd.
    """
    check_distillation_settings(alpha=alpha, temperature=temperature)
    ce = token_cross_entropy(student_logits, numpy.asarray(gold, dtype="int64"), gold_mask)
    kd = soft_target_kl(student_logits, teacher_logits, temperature=temperature, mask=teacher_mask)
    loss, d_logits = combine_terms(ce, kd, alpha=alpha)
    return DistillationTerms(loss, d_logits.astype("float32"), ce[0], kd[0])
