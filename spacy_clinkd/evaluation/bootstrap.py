"""Bootstrap confidence intervals for entity scores, resampling test documents.

Method (percentile bootstrap over documents): the test set is treated as a sample
of documents, so documents, not entities, are the resampling unit (entities within
a note are correlated). Each of `n_samples` replicates draws `n_docs` documents
with replacement, sums their tp / fp / fn per label, and computes precision, recall
and F1 per label and micro-averaged over `labels`, exactly as `aggregate_counts`
and `prf` do (a zero denominator gives 0.0). The interval is the
`(1 - confidence) / 2` and `(1 + confidence) / 2` percentiles of the replicate
scores. Strict and lenient scores are computed from the same replicates, so their
intervals are paired.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .metrics import MODES, LabelCounts

COUNT_KEYS = ("tp", "fp", "fn")
SCORE_KEYS = ("p", "r", "f")


def _counts_array(
    doc_counts: Sequence[Mapping[str, LabelCounts]], mode: str, labels: Sequence[str]
) -> np.ndarray:
    """Per-doc counts of one mode as an int array; labels outside `labels` are ignored."""
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(doc_counts), len(labels), len(COUNT_KEYS)), dtype=np.int64)
    for d, doc in enumerate(doc_counts):
        for label, c in doc.get(mode, {}).items():
            if label in index:
                counts[d, index[label]] = [c[key] for key in COUNT_KEYS]
    return counts  # (n_docs, n_labels, 3)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _scores(totals: np.ndarray) -> dict[str, np.ndarray]:
    """P, R and F1 from summed counts `(..., 3)`, with `prf`'s zero conventions."""
    tp, fp, fn = totals[..., 0], totals[..., 1], totals[..., 2]
    p = _safe_div(tp, tp + fp)
    r = _safe_div(tp, tp + fn)
    f = _safe_div(2 * p * r, p + r)
    return {"p": p, "r": r, "f": f}


def _interval(values: np.ndarray, percentiles: list[float]) -> list[float]:
    lo, hi = np.percentile(values, percentiles)
    return [float(lo), float(hi)]


def bootstrap_intervals(
    doc_counts: Sequence[Mapping[str, LabelCounts]],
    *,
    labels: Sequence[str] | None,
    n_samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Percentile bootstrap intervals for P, R and F1, resampling documents.

    Each replicate draws `len(doc_counts)` documents with replacement (a numpy
    `Generator` seeded with `seed`, so the result is deterministic for a seed),
    sums their counts and scores them like `aggregate_counts`; the interval is the
    central `confidence` mass of the replicate scores. Strict and lenient use the
    same replicates.

    doc_counts (Sequence[Dict[str, LabelCounts]]): The `"doc_counts"` of
        `score_entities`: per doc `{"strict": {label: {tp, fp, fn}}, "lenient": {...}}`.
    labels (Optional[Sequence[str]]): Labels to report and micro-average over (other
        labels are ignored), as passed to `aggregate_counts`; None uses every label
        seen in `doc_counts`, sorted.
    n_samples (int): Number of bootstrap replicates, at least 1.
    confidence (float): Interval coverage, strictly between 0 and 1.
    seed (int): Seed of the random generator.
    RETURNS (Dict[str, Any]): `{"strict": {"micro": {"p": [lo, hi], "r": [...],
        "f": [...]}, "per_label": {label: {...}}}, "lenient": {...}, "n_samples",
        "confidence", "seed", "n_docs"}`. With no documents there is nothing to
        resample and every interval is None.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}")
    if labels is None:
        labels = sorted({label for doc in doc_counts for mode in MODES for label in doc.get(mode, {})})
    labels = list(labels)
    n_docs = len(doc_counts)
    result: dict[str, Any] = {}
    if n_docs == 0:
        empty = dict.fromkeys(SCORE_KEYS)
        for mode in MODES:
            result[mode] = {
                "micro": dict(empty),
                "per_label": {label: dict(empty) for label in labels},
            }
    else:
        rng = np.random.default_rng(seed)
        indices = rng.integers(0, n_docs, size=(n_samples, n_docs))  # (n_samples, n_docs)
        # How often each doc is drawn per replicate, so the sums are one matmul
        # instead of materialising (n_samples, n_docs, n_labels, 3).
        offsets = indices + n_docs * np.arange(n_samples)[:, None]
        weights = np.bincount(offsets.ravel(), minlength=n_samples * n_docs).reshape(
            n_samples, n_docs
        )  # (n_samples, n_docs)
        alpha = 1.0 - confidence
        percentiles = [100.0 * alpha / 2, 100.0 * (1.0 - alpha / 2)]
        for mode in MODES:
            counts = _counts_array(doc_counts, mode, labels)  # (n_docs, n_labels, 3)
            flat = counts.reshape(n_docs, -1)  # (n_docs, n_labels * 3)
            totals = (weights @ flat).reshape(n_samples, len(labels), len(COUNT_KEYS))
            per_label = _scores(totals)  # each (n_samples, n_labels)
            micro = _scores(totals.sum(axis=1))  # each (n_samples,)
            result[mode] = {
                "micro": {key: _interval(micro[key], percentiles) for key in SCORE_KEYS},
                "per_label": {
                    label: {
                        key: _interval(per_label[key][:, i], percentiles) for key in SCORE_KEYS
                    }
                    for i, label in enumerate(labels)
                },
            }
    result.update(n_samples=n_samples, confidence=confidence, seed=seed, n_docs=n_docs)
    return result
