"""Token-level agreement of tag logits: how often a student picks the
teacher's tag, and how often a model's argmax tag is the gold tag. Reported
on dev while distilling, next to the entity scores."""
from collections.abc import Sequence

import numpy

Array = numpy.ndarray


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
