"""Whether the entity scores of `clinkd_ner` can be read as probabilities.

`clinkd_ner` writes one score per entity to `doc.spans[key].attrs["scores"]`
(`pipeline/ner.py`): the mean over the entity's tokens of the softmax
probability of the tag the decoder chose, in (0, 1]. Here each predicted
entity of the test docs is paired with its score and whether it is right
(strict: a gold entity has the same start, end and label, as in
`metrics.count_entities`), and two views are computed:

- a reliability table: the scores in `n_bins` equal-width bins of [0, 1]
  (lower edge included; a score of 1.0 is in the last bin), per bin the
  number of entities, how many are right, the fraction right with its 95 %
  Wilson interval, and the mean score. A calibrated score has fraction right
  ≈ mean score in every bin. The expected calibration error (ECE) is
  Σ_b (n_b / n) · |fraction right_b − mean score_b|.
- thresholds: keeping only the entities with score ≥ t, the precision,
  recall (over all gold entities) and F1 of what is kept, and the share of
  the predicted entities kept.

Entities whose doc carries no score (a pipeline without `clinkd_ner`) are
counted as unscored and left out of both views.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from spacy.tokens import Doc

from ..errors import ClinkdError, Errors
from .metrics import get_entities, prf

SPANS_KEY = "clinkd_ner"
THRESHOLDS = (0.5, 0.7, 0.9)
N_BINS = 10
# z of a two-sided 95 % interval
Z_95 = 1.959963984540054


def entity_scores(doc: Doc, *, spans_key: str = SPANS_KEY) -> dict[tuple[int, int], float]:
    """The score of each entity `clinkd_ner` wrote, by character offsets.

    Keyed by (start_char, end_char), not label, so the scores still apply
    after `metrics.remap_entities` renamed the labels of `doc.ents`.

    doc (Doc): a predicted doc.
    spans_key (str): the `doc.spans` key whose `attrs["scores"]` hold the scores.
    RETURNS (Dict[Tuple[int, int], float]): {(start_char, end_char): score}; empty without scores.
    """
    if spans_key not in doc.spans:
        return {}
    group = doc.spans[spans_key]
    return {(span.start_char, span.end_char): float(score) for span, score in zip(group, group.attrs.get("scores", []))}


def scored_entities(
    gold_docs: Iterable[Doc],
    pred_docs: Iterable[Doc],
    *,
    labels: Sequence[str] | None = None,
    spans_key: str = SPANS_KEY,
) -> tuple[list[tuple[float, bool]], int, int]:
    """Pair every scored predicted entity with whether it is strictly right.

    gold_docs (Iterable[Doc]): reference docs.
    pred_docs (Iterable[Doc]): predicted docs, in the same order, with the same texts.
    labels (Optional[Sequence[str]]): only entities of these labels, on both sides; None: all.
    spans_key (str): where the scores are (`entity_scores`).
    RETURNS (Tuple[List[Tuple[float, bool]], int, int]): the (score, right) pairs,
        the number of gold entities and the number of predicted entities without a score.
    """
    pairs: list[tuple[float, bool]] = []
    n_gold = unscored = 0
    for i, (gold_doc, pred_doc) in enumerate(zip(gold_docs, pred_docs, strict=True)):
        if gold_doc.text != pred_doc.text:
            raise ClinkdError(Errors.E250.format(i=i, gold=gold_doc.text[:40], pred=pred_doc.text[:40]))
        gold = get_entities(gold_doc, labels=labels)
        n_gold += len(gold)
        scores = entity_scores(pred_doc, spans_key=spans_key)
        for entity in sorted(get_entities(pred_doc, labels=labels)):
            score = scores.get(entity[:2])
            if score is None:
                unscored += 1
            else:
                pairs.append((score, entity in gold))
    return pairs, n_gold, unscored


def wilson_interval(successes: int, n: int, *, z: float = Z_95) -> list[float] | None:
    """RETURNS (Optional[List[float]]): the Wilson score interval [lo, hi] of
    a binomial proportion (sound for small n and proportions near 0 or 1); None for n = 0."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


def calibration(
    pairs: Sequence[tuple[float, bool]],
    *,
    n_gold: int,
    unscored: int = 0,
    n_bins: int = N_BINS,
    thresholds: Sequence[float] = THRESHOLDS,
) -> dict[str, Any]:
    """The reliability table and the scores at thresholds (module docstring).

    pairs (Sequence[Tuple[float, bool]]): (score, right) per scored predicted entity.
    n_gold (int): gold entities, the denominator of recall.
    unscored (int): predicted entities without a score (reported, not used).
    n_bins (int): equal-width bins of [0, 1].
    thresholds (Sequence[float]): the thresholds t of "keep score ≥ t".
    RETURNS (Dict[str, Any]): `{"bins": [{"lo", "hi", "n", "right", "accuracy",
        "interval", "mean_score"}], "thresholds": [{"threshold", "kept",
        "share_kept", "p", "r", "f", "tp", "fp", "fn", "support"}], "ece",
        "mean_score", "accuracy", "n", "n_gold", "unscored", "matching": "strict"}`;
        a bin without entities has accuracy, interval and mean_score None.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(n_bins)]
    for score, right in pairs:
        grouped[min(int(score * n_bins), n_bins - 1)].append((score, right))
    n = len(pairs)
    bins = []
    ece = 0.0
    for b, members in enumerate(grouped):
        k, right = len(members), sum(1 for _, r in members if r)
        accuracy = right / k if k else None
        mean_score = sum(s for s, _ in members) / k if k else None
        if k:
            ece += k / n * abs(accuracy - mean_score)
        bins.append({
            "lo": b / n_bins, "hi": (b + 1) / n_bins, "n": k, "right": right,
            "accuracy": accuracy, "interval": wilson_interval(right, k), "mean_score": mean_score,
        })
    rows = []
    for t in thresholds:
        kept = [r for s, r in pairs if s >= t]
        tp = sum(kept)
        rows.append({
            "threshold": t, "kept": len(kept), "share_kept": len(kept) / n if n else 0.0,
            **prf(tp, len(kept) - tp, n_gold - tp),
        })
    return {
        "bins": bins,
        "thresholds": rows,
        "ece": ece if n else None,
        "mean_score": sum(s for s, _ in pairs) / n if n else None,
        "accuracy": sum(1 for _, r in pairs if r) / n if n else None,
        "n": n,
        "n_gold": n_gold,
        "unscored": unscored,
        "matching": "strict",
    }


def score_calibration(
    gold_docs: Sequence[Doc],
    pred_docs: Sequence[Doc],
    *,
    labels: Sequence[str] | None = None,
    spans_key: str = SPANS_KEY,
    n_bins: int = N_BINS,
    thresholds: Sequence[float] = THRESHOLDS,
) -> dict[str, Any] | None:
    """`calibration` of the predicted docs' entity scores against the gold docs.

    RETURNS (Optional[Dict[str, Any]]): the `calibration` output; None when no
        predicted entity has a score (nothing to calibrate: a pipeline without
        `clinkd_ner`, or no entities at all).
    """
    pairs, n_gold, unscored = scored_entities(gold_docs, pred_docs, labels=labels, spans_key=spans_key)
    if not pairs:
        return None
    return calibration(pairs, n_gold=n_gold, unscored=unscored, n_bins=n_bins, thresholds=thresholds)

