"""Scores of the assertion status (present / absent / possible).

Two views:

- on gold entities (`assertions_on_gold`, `score_assertions`): the gold
  entities are given to the pipeline's components after the entity
  recognizer (sentence boundaries, `clinkd_assertion`), so the assertion is
  scored apart from entity errors. Each class c gets P/R/F1 as one-vs-rest
  classification of the gold entities: tp = predicted c and gold c,
  fp = predicted c and gold other, fn = gold c and predicted other.
- end to end (`score_end_to_end`): a predicted entity is a true positive iff
  a gold entity has the same start, end, label and assertion (strict F1 of
  (span, label, assertion)); per assertion class too.

Gold assertions come from `doc.user_data["clinkd_assertions"]` (the brat
reader keeps MACCROBAT's polarity there, `spacy_clinkd.corpora.spans`); an
entity without one counts as present.

ConText's categories (historical, hypothetical, family: `ent._.is_historical`,
...) are scored on gold entities too, where the gold has them
(`doc.user_data["clinkd_contexts"]`, from MACCROBAT's `History` and
`Family_history` spans with `convert-brat --context-labels`): per category,
tp = predicted and gold, fp = predicted only, fn = gold only
(`score_contexts`). The gold is weak: MACCROBAT's annotators marked a
history span where they saw one, not for every past condition.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..corpora.spans import gold_assertions, gold_contexts
from ..pipeline.assertion import ASSERTIONS, CONTEXT_ATTRS, PRESENT
from .bootstrap import bootstrap_intervals
from .metrics import prf

# per gold entity: (gold contexts, or None where the gold has none; predicted contexts)
ContextPair = tuple[frozenset[str] | None, frozenset[str]]


def has_assertion_component(nlp: Language) -> bool:
    """Whether a pipeline sets `ent._.assertion`."""
    return any("span._.assertion" in nlp.get_pipe_meta(name).assigns for name in nlp.pipe_names)


def assertions_on_gold(nlp: Language, gold_docs: Sequence[Doc]) -> list[tuple[str, str]]:
    """Run the components after entity recognition on the gold entities.

    nlp (Language): a pipeline with an assertion component.
    gold_docs (Sequence[Doc]): gold docs with `doc.ents` and gold assertions.
    RETURNS (List[Tuple[str, str]]): (gold, predicted) assertion per gold entity.
    """
    return [assertion for assertion, _ in statuses_on_gold(nlp, gold_docs)]


def statuses_on_gold(nlp: Language, gold_docs: Sequence[Doc]) -> list[tuple[tuple[str, str], ContextPair]]:
    """`assertions_on_gold`, with the ConText categories of each gold entity.

    RETURNS (List[Tuple[Tuple[str, str], ContextPair]]): per gold entity, doc
        after doc, its (gold, predicted) assertion and (gold, predicted) contexts.
    """
    entity_pipes = [name for name in nlp.pipe_names if "doc.ents" in nlp.get_pipe_meta(name).assigns]
    docs = []
    for gold in gold_docs:
        doc = nlp.make_doc(gold.text)
        doc.ents = [doc.char_span(e.start_char, e.end_char, label=e.label_, alignment_mode="expand") for e in gold.ents]
        docs.append(doc)
    results: list[tuple[tuple[str, str], ContextPair]] = []
    with nlp.select_pipes(disable=entity_pipes):
        for gold, doc in zip(gold_docs, nlp.pipe(docs)):
            truth = gold_assertions(gold) or {}
            contexts = gold_contexts(gold)
            for g, p in zip(gold.ents, doc.ents):
                key = (g.start_char, g.end_char)
                assertion = (truth.get(key, PRESENT), p._.assertion or PRESENT)
                gold_context = None if contexts is None else contexts.get(key, frozenset())
                predicted = frozenset(c for c, attr in CONTEXT_ATTRS.items() if Span.has_extension(attr) and p._.get(attr))
                results.append((assertion, (gold_context, predicted)))
    return results


def context_counts(pairs: Sequence[ContextPair]) -> dict[str, dict[str, int]]:
    """tp / fp / fn per ConText category of (gold, predicted) context pairs;
    entities whose gold has no contexts (None) are not counted.

    RETURNS (Dict[str, Dict[str, int]]): {category: {"tp", "fp", "fn"}}, every category.
    """
    scored = [(g, p) for g, p in pairs if g is not None]
    return {
        c: {
            "tp": sum(1 for g, p in scored if c in g and c in p),
            "fp": sum(1 for g, p in scored if c not in g and c in p),
            "fn": sum(1 for g, p in scored if c in g and c not in p),
        }
        for c in CONTEXT_ATTRS
    }


def score_contexts(
    pairs_by_doc: Sequence[Sequence[ContextPair]], *, bootstrap: int = 0, seed: int = 0
) -> dict[str, Any]:
    """P/R/F1 of each ConText category on gold entities, with document-bootstrap
    intervals when `bootstrap` > 0 (`bootstrap.bootstrap_intervals`).

    pairs_by_doc (Sequence[Sequence[ContextPair]]): per document, the (gold,
        predicted) contexts of its gold entities.
    RETURNS (Dict[str, Any]): `{"per_class": {category: prf}, "n"}` (n: the
        entities scored), plus `"bootstrap"` (as `class_intervals`).
    """
    counts = [context_counts(pairs) for pairs in pairs_by_doc]
    total = {c: {k: sum(doc[c][k] for doc in counts) for k in ("tp", "fp", "fn")} for c in CONTEXT_ATTRS}
    result: dict[str, Any] = {
        "per_class": {c: prf(**t) for c, t in total.items()},
        "n": sum(1 for pairs in pairs_by_doc for g, _ in pairs if g is not None),
    }
    if bootstrap > 0:
        boot = bootstrap_intervals(
            [{"strict": c, "lenient": c} for c in counts], labels=list(CONTEXT_ATTRS), n_samples=bootstrap, seed=seed
        )
        result["bootstrap"] = {
            "per_class": boot["strict"]["per_label"], **{k: boot[k] for k in ("n_samples", "confidence", "seed", "n_docs")}
        }
    return result


def score_assertions(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Per-class P/R/F1 (one vs rest), accuracy and macro F1 of (gold, predicted) pairs.

    RETURNS (Dict[str, Any]): `{"per_class": {c: prf}, "accuracy", "macro_f", "n",
        "confusion": {gold: {predicted: n}}}`.
    """
    per_class = {}
    for c in ASSERTIONS:
        tp = sum(1 for g, p in pairs if g == c and p == c)
        fp = sum(1 for g, p in pairs if g != c and p == c)
        fn = sum(1 for g, p in pairs if g == c and p != c)
        per_class[c] = prf(tp, fp, fn)
    confusion = {g: {p: sum(1 for a, b in pairs if a == g and b == p) for p in ASSERTIONS} for g in ASSERTIONS}
    return {
        "per_class": per_class,
        "accuracy": sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0,
        "macro_f": sum(s["f"] for s in per_class.values()) / len(per_class),
        "n": len(pairs),
        "confusion": confusion,
    }


def _triples(doc: Doc, assertions: dict[tuple[int, int], str], labels: Sequence[str] | None):
    return {
        (e.start_char, e.end_char, e.label_, assertions.get((e.start_char, e.end_char), PRESENT))
        for e in doc.ents
        if labels is None or e.label_ in labels
    }


def _predicted(doc: Doc) -> dict[tuple[int, int], str]:
    if not Span.has_extension("assertion"):
        return {}
    return {(e.start_char, e.end_char): e._.assertion or PRESENT for e in doc.ents}


def score_end_to_end(
    gold_docs: Sequence[Doc], pred_docs: Sequence[Doc], *, labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Strict P/R/F1 of (start, end, label, assertion), micro and per assertion class.

    RETURNS (Dict[str, Any]): `{"micro": prf, "per_class": {assertion: prf}}`.
    """
    counts = {c: {"tp": 0, "fp": 0, "fn": 0} for c in ASSERTIONS}
    for gold, pred in zip(gold_docs, pred_docs):
        g = _triples(gold, gold_assertions(gold) or {}, labels)
        p = _triples(pred, _predicted(pred), labels)
        for c in ASSERTIONS:
            gc = {t for t in g if t[3] == c}
            pc = {t for t in p if t[3] == c}
            counts[c]["tp"] += len(gc & pc)
            counts[c]["fp"] += len(pc - gc)
            counts[c]["fn"] += len(gc - pc)
    micro = prf(*(sum(c[k] for c in counts.values()) for k in ("tp", "fp", "fn")))
    return {"micro": micro, "per_class": {c: prf(**counts[c]) for c in ASSERTIONS}}
