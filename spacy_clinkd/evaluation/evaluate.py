"""Evaluate a pipeline on gold docs: strict and lenient entity scores,
bootstrap intervals over documents, and the speed of the pass, as plain data
(what `python -m spacy_clinkd evaluate` writes through
`report.evaluation_report.write_evaluation`, and `scripts/ablation.py` tabulates)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..corpora.spans import ASSERTIONS as GOLD_ASSERTIONS
from ..corpora.spans import CONTEXTS as GOLD_CONTEXTS
from ..corpora.spans import require_gold_assertions
from .assertion import (
    has_assertion_component,
    score_assertions,
    score_contexts,
    score_end_to_end,
    statuses_on_gold,
)
from .assertion_cv import class_intervals
from .bootstrap import bootstrap_intervals
from .calibration import score_calibration
from .error_table import error_table
from .metrics import remap_entities, score_entities


def _torch_threads() -> int | None:
    try:
        import torch
    except ImportError:  # torch is only needed by transformer pipelines
        return None
    return torch.get_num_threads()


def evaluate_pipeline(
    model: str,
    data_path: Path,
    *,
    labels: list[str] | None = None,
    label_map: dict[str, str] | None = None,
    batch_size: int = 8,
    bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Run a pipeline over gold docs' texts, score its entities and time the pass.

    model (str): Pipeline directory or installed package name, for `pipeline.loading.load_pipeline`.
    data_path (Path): A `.spacy` DocBin of gold docs.
    labels (Optional[List[str]]): Labels to score; None scores all.
    label_map (Optional[Dict[str, str]]): Predicted label -> gold label; predicted
        entities whose label is not in the map are dropped. None keeps labels as is.
    batch_size (int): Batch size for `nlp.pipe`.
    bootstrap (int): Bootstrap samples over documents for confidence intervals;
        0 disables them.
    seed (int): Seed of the bootstrap.
    RETURNS (Dict[str, Any]): `score_entities` output without `doc_counts`, plus
        `model`, `data`, `efficiency`, `labels` and `label_map`, and `bootstrap`
        (the output of `bootstrap_intervals`) unless `bootstrap` is 0; and
        `assertion` (`on_gold_entities`: `score_assertions`, `end_to_end`:
        `score_end_to_end`) when the pipeline sets `ent._.assertion` and the
        gold docs hold assertions, `on_gold_entities` with `bootstrap` (per
        class intervals, `assertion_cv.class_intervals`) unless `bootstrap`
        is 0; `errors`, where the strict errors come from
        (`error_table.error_table`); `calibration` (`calibration.score_calibration`:
        the entity scores against strict correctness) when the predicted
        entities carry scores.
    """
    from ..corpora.docbins import read_docbin
    from ..pipeline.loading import load_pipeline

    if bootstrap < 0:
        raise ValueError(f"bootstrap must be >= 0 (0 disables it), got {bootstrap}")
    nlp = load_pipeline(model)
    # no documents would give scores of zeros or NaN that look like results: E259
    gold_docs = read_docbin(data_path, nlp.vocab)
    texts = [doc.text for doc in gold_docs]
    start = time.perf_counter()
    pred_docs = list(nlp.pipe(texts, batch_size=batch_size))
    seconds = time.perf_counter() - start
    if label_map is not None:
        pred_docs = [remap_entities(doc, label_map) for doc in pred_docs]
    metrics = score_entities(gold_docs, pred_docs, labels=labels)
    # Per-doc counts are kept in memory for resampling but would swamp the file.
    doc_counts = metrics.pop("doc_counts")
    metrics["errors"] = error_table(gold_docs, pred_docs, labels=labels)
    calibration = score_calibration(gold_docs, pred_docs, labels=labels)
    if calibration is not None:
        metrics["calibration"] = calibration
    if bootstrap > 0:
        metrics["bootstrap"] = bootstrap_intervals(
            doc_counts, labels=list(metrics["per_label"]), n_samples=bootstrap, seed=seed
        )
    n_words = sum(1 for doc in gold_docs for token in doc if not token.is_space)
    metrics["efficiency"] = {
        "docs": len(gold_docs),
        "words": n_words,
        "seconds": seconds,
        "words_per_second": n_words / seconds if seconds > 0 else None,
        "batch_size": batch_size,
        "torch_threads": _torch_threads(),
    }
    # Assertion status, when the pipeline sets it and the gold has it (MACCROBAT via the brat reader).
    if has_assertion_component(nlp) and any(GOLD_ASSERTIONS in doc.user_data for doc in gold_docs):
        require_gold_assertions(gold_docs, str(data_path))
        statuses = statuses_on_gold(nlp, gold_docs)  # one per gold entity, doc after doc
        ends = [0]
        for doc in gold_docs:
            ends.append(ends[-1] + len(doc.ents))
        by_doc = [statuses[a:b] for a, b in zip(ends, ends[1:])]
        pairs_by_doc = [[assertion for assertion, _ in doc] for doc in by_doc]
        on_gold = score_assertions([pair for doc in pairs_by_doc for pair in doc])
        if bootstrap > 0:
            on_gold["bootstrap"] = class_intervals(pairs_by_doc, n_samples=bootstrap, seed=seed)
        metrics["assertion"] = {
            "on_gold_entities": on_gold,
            "end_to_end": score_end_to_end(gold_docs, pred_docs, labels=labels),
        }
        if any(GOLD_CONTEXTS in doc.user_data for doc in gold_docs):
            contexts_by_doc = [[context for _, context in doc] for doc in by_doc]
            metrics["assertion"]["context_on_gold_entities"] = score_contexts(
                contexts_by_doc, bootstrap=bootstrap, seed=seed
            )
    metrics["model"] = {
        "path": model,
        "name": f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}",
        "version": nlp.meta.get("version"),
        "pipeline": list(nlp.pipe_names),
    }
    metrics["data"] = {"path": str(data_path)}
    metrics["labels"] = labels
    metrics["label_map"] = label_map
    return metrics
