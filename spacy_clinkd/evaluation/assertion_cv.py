"""Cross-validated scores of assertion candidates (the fair referee of issue 29).

A candidate is scored on every fold's held-out documents (`folds.document_folds`):
rules frozen before the folds are simply applied to each fold, a learned
candidate is fitted on the other k-1 folds first. Per fold, `score_assertions`
gives one-vs-rest P/R/F1 per class; the summary is the mean and sample sd over
folds of each class's F1 (and P, R), and over the pooled held-out pairs of all
folds (every document predicted exactly once, by a model that did not see it)
the scores with percentile-bootstrap intervals that resample documents
(`bootstrap.bootstrap_intervals`, the classes as labels).
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from ..errors import ClinkdError, Errors
from ..pipeline.assertion import ASSERTIONS
from .assertion import score_assertions
from .bootstrap import bootstrap_intervals

Pairs = list[tuple[str, str]]


def class_counts(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    """One-vs-rest tp / fp / fn per assertion class of (gold, predicted) pairs,
    the counts `score_assertions` scores.

    RETURNS (Dict[str, Dict[str, int]]): {class: {"tp", "fp", "fn"}}, every class.
    """
    counts = {}
    for c in ASSERTIONS:
        counts[c] = {
            "tp": sum(1 for g, p in pairs if g == c and p == c),
            "fp": sum(1 for g, p in pairs if g != c and p == c),
            "fn": sum(1 for g, p in pairs if g == c and p != c),
        }
    return counts


def class_intervals(pairs_by_doc: Sequence[Pairs], *, n_samples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Percentile-bootstrap intervals of each assertion class's P/R/F1,
    resampling documents (`bootstrap.bootstrap_intervals`, the classes as labels).

    pairs_by_doc (Sequence[List[Tuple[str, str]]]): per document, the (gold,
        predicted) assertion of each of its gold entities.
    RETURNS (Dict[str, Any]): `{"per_class": {class: {"p", "r", "f": [lo, hi]}},
        "n_samples", "confidence", "seed", "n_docs"}`.
    """
    counts = [class_counts(pairs) for pairs in pairs_by_doc]
    # one-vs-rest counts have no lenient variant: both modes get the same counts
    boot = bootstrap_intervals(
        [{"strict": c, "lenient": c} for c in counts], labels=list(ASSERTIONS), n_samples=n_samples, seed=seed
    )
    return {"per_class": boot["strict"]["per_label"], **{k: boot[k] for k in ("n_samples", "confidence", "seed", "n_docs")}}


def cv_summary(
    pairs_by_doc: Sequence[Pairs], folds: Sequence[int], *, n_samples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Summarise one candidate's held-out (gold, predicted) pairs over folds.

    pairs_by_doc (Sequence[List[Tuple[str, str]]]): per document, the (gold,
        predicted) assertion of each gold entity, predicted by a model that did
        not see the document.
    folds (Sequence[int]): the fold of each document (`document_folds`).
    RETURNS (Dict[str, Any]): `{"k", "per_fold": [score_assertions(...)],
        "mean": {class: {"p", "r", "f"}}, "sd": {...}, "macro_f": {"mean", "sd"},
        "pooled": score_assertions(all pairs), "intervals": {class: {"p", "r", "f"}},
        "n_docs", "n"}`.
    """
    k = max(folds) + 1 if folds else 0
    per_fold = []
    for fold in range(k):
        pairs = [pair for doc_pairs, f in zip(pairs_by_doc, folds) if f == fold for pair in doc_pairs]
        per_fold.append(score_assertions(pairs))
    mean: dict[str, dict[str, float]] = {}
    sd: dict[str, dict[str, float]] = {}
    for c in ASSERTIONS:
        mean[c], sd[c] = {}, {}
        for key in ("p", "r", "f"):
            values = [fold["per_class"][c][key] for fold in per_fold]
            mean[c][key] = statistics.fmean(values) if values else 0.0
            sd[c][key] = statistics.stdev(values) if len(values) > 1 else 0.0
    macro = [fold["macro_f"] for fold in per_fold]
    everything = [pair for doc_pairs in pairs_by_doc for pair in doc_pairs]
    intervals = class_intervals(pairs_by_doc, n_samples=n_samples, seed=seed)
    return {
        "k": k,
        "per_fold": per_fold,
        "mean": mean,
        "sd": sd,
        "macro_f": {"mean": statistics.fmean(macro) if macro else 0.0, "sd": statistics.stdev(macro) if len(macro) > 1 else 0.0},
        "pooled": score_assertions(everything),
        "intervals": intervals["per_class"],
        "n_docs": len(pairs_by_doc),
        "n": len(everything),
    }


def run_assertion_cv(
    examples_by_doc: Sequence[Sequence[Any]],
    ids: Sequence[str],
    *,
    k: int,
    seed: int,
    encoder: str | None,
    settings: Any = None,
    name: str = "learned",
    linear: Any = None,
    hybrid: Any = None,
    log: Any = None,
) -> dict[str, Any]:
    """Score the rules (frozen) and, with an `encoder`, the learned classifier,
    with `linear` settings the linear classifier, with `hybrid` settings the
    linear classifier that leaves its `keep_rules` classes to the rules (each
    fitted per fold on the other k-1 folds) on every fold's held-out docs.

    examples_by_doc (Sequence[Sequence[EntityExample]]): per doc, its gold
        entities (`pipeline.assertion_training.entity_examples`).
    ids (Sequence[str]): the docs' ids (`folds.doc_id`), for the folds.
    encoder (Optional[str]): the classifier's encoder; None scores the rules only.
    settings (Optional[TrainSettings]): the classifier's training settings.
    name (str): the learned candidate's name in the result.
    linear (Optional[LinearSettings]): the linear classifier's settings
        (candidate "linear"); None: not scored.
    hybrid (Optional[LinearSettings]): the same with `keep_rules` (candidate
        "hybrid"); None: not scored.
    log (Optional[Callable[[str], None]]): progress lines.
    RETURNS (Dict[str, Any]): `{"k", "seed", "folds": {id: fold},
        "candidates": {"rules": cv_summary, name: cv_summary, "linear": cv_summary,
        "hybrid": cv_summary}, "settings", "linear_settings", "hybrid_settings"}`.
    """
    from dataclasses import asdict, replace

    from ..pipeline.assertion_training import TrainSettings, classify, train_classifier, train_linear
    from .folds import document_folds

    settings = settings or TrainSettings()
    folds = document_folds(ids, k, seed)
    candidates = {"rules": cv_summary([[(e.gold, e.rule) for e in doc] for doc in examples_by_doc], folds)}

    def held_out(fit: Any, label: str) -> dict[str, Any]:
        predicted: list[Pairs] = [[] for _ in examples_by_doc]
        for fold in range(k):
            train = [e for doc, f in zip(examples_by_doc, folds) if f != fold for e in doc]
            model = fit(fold, train)
            for i, (doc, f) in enumerate(zip(examples_by_doc, folds)):
                if f == fold:
                    predicted[i] = list(zip([e.gold for e in doc], classify(model, doc)))
            if log is not None:
                held = [pair for doc, f in zip(predicted, folds) if f == fold for pair in doc]
                score = score_assertions(held)["per_class"]["absent"]["f"]
                log(f"{label} fold {fold + 1}/{k}: {len(train)} training entities, held-out absent F1 {score:.3f}")
        return cv_summary(predicted, folds)

    # the linear and the hybrid candidate differ only in how they decide: one fit per fold and settings
    linear_fits: dict[tuple[int, Any], Any] = {}

    def fit_linear(chosen: Any) -> Any:
        def fit(fold: int, train: list[Any]) -> Any:
            key = (fold, replace(chosen, keep_rules=(), overrides=()))
            if key not in linear_fits:
                linear_fits[key] = train_linear(train, key[1])
            return linear_fits[key].with_keep_rules(chosen.keep_rules, chosen.overrides)

        return fit

    if linear is not None:
        candidates["linear"] = held_out(fit_linear(linear), "linear")
    if hybrid is not None:
        candidates["hybrid"] = held_out(fit_linear(hybrid), "hybrid")
    if encoder is not None:
        candidates[name] = held_out(lambda fold, train: train_classifier(encoder, train, settings), name)
    return {
        "k": k,
        "seed": seed,
        "folds": dict(zip(ids, folds)),
        "encoder": encoder,
        "settings": asdict(settings),
        "linear_settings": asdict(linear) if linear is not None else None,
        "hybrid_settings": asdict(hybrid) if hybrid is not None else None,
        "candidates": candidates,
    }


def add_candidates(result: dict[str, Any], other: dict[str, Any], *, source: Any) -> None:
    """Add the candidates of another CV result (e.g. the external baselines of
    `scripts/assertion_baselines.py`) to `result`, if they were scored on the
    same folds of the same documents.

    RAISES ClinkdError: the folds differ (E459).
    """
    if other.get("folds") != result["folds"]:
        raise ClinkdError(Errors.E459.format(path=source, k=other.get("k"), seed=other.get("seed")))
    for name, summary in other["candidates"].items():
        result["candidates"].setdefault(name, summary)
