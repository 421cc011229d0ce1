"""Pure knowledge-distillation losses over per-token tag logits.

The total loss (Hinton et al. 2015, per spaCy token over the BIO tag set):

    L = α · CE(s, y) + (1 − α) · T² · KL(softmax(t/T) ‖ softmax(s/T))

    CE = -(1/N_gold) Σ_i g_i · log softmax(s_i)[y_i]          N_gold = max(1, Σ_i g_i)
    KL = (1/N_kd) Σ_i k_i · KL(softmax(t_i/T) ‖ softmax(s_i/T))  N_kd = max(1, Σ_i k_i)

s: student logits, t: teacher logits, y: gold tag ids, g_i = 1 where token i
has a known gold tag (0 for every token of an unlabelled transfer document),
k_i = 1 where the teacher gave a target (by default every token). So a transfer
document adds only the soft term, weighted (1 − α). With α = 1 the loss and
its gradient equal plain training (`ClinkdNER.get_loss`).

The two terms are `spacy_clinkd.losses.token_cross_entropy` and
`spacy_clinkd.losses.soft_target_kl`; this module only weighs them. Every
function is pure and returns `(loss, d_student_logits)`.
"""
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

import numpy

from ..errors import ClinkdError, Errors
from ..losses import soft_target_kl, token_cross_entropy

Array = numpy.ndarray
Grad = TypeVar("Grad", Array, list[Array])


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


def check_distillation_settings(*, alpha: float, temperature: float) -> None:
    """Raise a ClinkdError unless 0 ≤ alpha ≤ 1 and temperature > 0."""
    if not (0.0 <= alpha <= 1.0) or not temperature > 0.0:
        raise ClinkdError(Errors.E356.format(alpha=alpha, temperature=temperature))


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
        d: Array | list[Array] = [
            alpha * a + (1.0 - alpha) * b for a, b in zip(d_ce, d_kd)
        ]
    else:
        d = alpha * d_ce + (1.0 - alpha) * d_kd
    return loss, d  # type: ignore[return-value]


def distillation_terms(
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
        log-probabilities; only their softmax matters).
    gold (Array): (n_tokens,) int gold tag ids y (anything where g_i = 0).
    gold_mask (Array): (n_tokens,) g, 1 where the gold tag is known.
    alpha (float): α in [0, 1], the weight of the hard-label term.
    temperature (float): T > 0.
    teacher_mask (Optional[Array]): (n_tokens,) k, default all 1.
    RETURNS (DistillationTerms): loss, d_logits (n_tokens, n_tags), ce, kd.
    """
    check_distillation_settings(alpha=alpha, temperature=temperature)
    ce = token_cross_entropy(student_logits, numpy.asarray(gold, dtype="int64"), gold_mask)
    kd = soft_target_kl(
        student_logits, teacher_logits, temperature=temperature, mask=teacher_mask
    )
    loss, d_logits = combine_terms(ce, kd, alpha=alpha)
    return DistillationTerms(loss, d_logits.astype("float32"), ce[0], kd[0])


def distillation_loss(
    student_logits: Array,
    teacher_logits: Array,
    *,
    gold: Array,
    gold_mask: Array,
    alpha: float,
    temperature: float,
    teacher_mask: Array | None = None,
) -> tuple[float, Array]:
    """L = α·CE(s, y) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T)); see the
    module docstring for the normalisation and `distillation_terms` for the
    arguments.

    RETURNS (Tuple[float, Array]): L and ∂L/∂s, (n_tokens, n_tags).
    """
    terms = distillation_terms(
        student_logits,
        teacher_logits,
        gold=gold,
        gold_mask=gold_mask,
        alpha=alpha,
        temperature=temperature,
        teacher_mask=teacher_mask,
    )
    return terms.loss, terms.d_logits


def argmax_agreement(student: Sequence[Array], teacher: Sequence[Array]) -> float:
    """Share of tokens where student and teacher pick the same tag.

    student (Sequence[Array]): (n_tokens, n_tags) logits per doc.
    teacher (Sequence[Array]): (n_tokens, n_tags) logits per doc.
    RETURNS (float): agreement in [0, 1]; 0.0 when there are no tokens.
    """
    same = total = 0
    for s, t in zip(student, teacher):
        same += int((numpy.asarray(s).argmax(-1) == numpy.asarray(t).argmax(-1)).sum())
        total += len(s)
    return same / total if total else 0.0


def tag_accuracy(logits: Sequence[Array], gold: Sequence[Array], mask: Sequence[Array]) -> float:
    """Token-level accuracy of argmax tags against known gold tags.

    logits (Sequence[Array]): (n_tokens, n_tags) per doc.
    gold (Sequence[Array]): (n_tokens,) gold tag ids per doc.
    mask (Sequence[Array]): (n_tokens,) 1 where the gold tag is known.
    RETURNS (float): accuracy in [0, 1]; 0.0 when no gold tag is known.
    """
    right = known = 0.0
    for z, y, m in zip(logits, gold, mask):
        hit = numpy.asarray(z).argmax(-1) == numpy.asarray(y)  # (n_tokens,)
        right += float((hit * m).sum())
        known += float(numpy.asarray(m).sum())
    return right / known if known else 0.0
