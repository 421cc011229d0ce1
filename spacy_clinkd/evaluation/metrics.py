"""Entity-level precision, recall and F1, strict and lenient.

Entities are compared by character offsets and label, `(start_char, end_char,
label)`, so gold and predicted docs may be tokenized differently as long as
their texts are identical.

Two matching modes are reported side by side:

- strict: a predicted entity is a true positive iff a gold entity has exactly
  the same start, end and label.
- lenient: predicted and gold entities with the same label are paired one to
  one when their character spans overlap (a maximum matching, so one long
  prediction covering two gold entities counts one tp and one fn). Strict
  matches are always lenient matches.

Counting (`count_doc`) and aggregation (`aggregate_counts`) are separate, so a
bootstrap over documents can resample `doc_counts` without re-running models.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from spacy.tokens import Doc, Span

from ..errors import ClinkdError, Errors

# (start_char, end_char, label)
Entity = tuple[int, int, str]
# {label: {"tp": int, "fp": int, "fn": int}}
LabelCounts = dict[str, dict[str, int]]

STRICT = "strict"
LENIENT = "lenient"
MODES = (STRICT, LENIENT)


def get_entities(doc: Doc, *, labels: Sequence[str] | None = None) -> set[Entity]:
    """Collect a doc's entities as character-offset triples.

    doc (Doc): The doc whose `doc.ents` are read.
    labels (Optional[Sequence[str]]): Keep only these labels; None keeps all.
    RETURNS (Set[Entity]): `(start_char, end_char, label)` triples.
    """
    keep = None if labels is None else set(labels)
    return {
        (ent.start_char, ent.end_char, ent.label_)
        for ent in doc.ents
        if keep is None or ent.label_ in keep
    }


def _match_lenient(gold: list[Entity], pred: list[Entity]) -> int:
    """Size of a maximum one-to-one matching of overlapping spans.

    Both lists hold entities of one label and come from `doc.ents`, so the spans
    within each list are disjoint. A left-to-right sweep is then optimal: the
    earlier-ending span of the current pair can overlap nothing further right.
    """
    gold = sorted(gold)
    pred = sorted(pred)
    i = j = matched = 0
    while i < len(gold) and j < len(pred):
        g_start, g_end, _ = gold[i]
        p_start, p_end, _ = pred[j]
        if g_start < p_end and p_start < g_end:
            matched += 1
            i += 1
            j += 1
        elif g_end <= p_end:
            i += 1
        else:
            j += 1
    return matched


def count_entities(
    gold: set[Entity], pred: set[Entity], *, mode: str = STRICT
) -> LabelCounts:
    """Count true positives, false positives and false negatives per label.

    gold (Set[Entity]): Gold `(start_char, end_char, label)` triples of one doc.
    pred (Set[Entity]): Predicted triples of the same doc.
    mode (str): "strict" (exact span and label) or "lenient" (overlap, same label).
    RETURNS (LabelCounts): `{label: {"tp", "fp", "fn"}}` for every label seen.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    counts: LabelCounts = {}
    for label in sorted({e[2] for e in gold} | {e[2] for e in pred}):
        g = [e for e in gold if e[2] == label]
        p = [e for e in pred if e[2] == label]
        if mode == STRICT:
            tp = len(set(g) & set(p))
        else:
            tp = _match_lenient(g, p)
        counts[label] = {"tp": tp, "fp": len(p) - tp, "fn": len(g) - tp}
    return counts


def count_doc(
    gold_doc: Doc, pred_doc: Doc, *, labels: Sequence[str] | None = None
) -> dict[str, LabelCounts]:
    """Count one gold/predicted doc pair in both matching modes.

    gold_doc (Doc): The reference doc.
    pred_doc (Doc): The predicted doc; its text must equal the gold text.
    labels (Optional[Sequence[str]]): Count only these labels; None counts all.
    RETURNS (Dict[str, LabelCounts]): `{"strict": {...}, "lenient": {...}}`.
    """
    gold = get_entities(gold_doc, labels=labels)
    pred = get_entities(pred_doc, labels=labels)
    return {mode: count_entities(gold, pred, mode=mode) for mode in MODES}


def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Precision, recall and F1 from counts.

    A zero denominator gives 0.0 (e.g. a label with no gold and no predicted
    entities has p = r = f = 0.0), never NaN.

    tp (int): True positives.
    fp (int): False positives.
    fn (int): False negatives.
    RETURNS (Dict[str, Any]): `p`, `r`, `f`, `tp`, `fp`, `fn` and `support` (= tp + fn,
        the number of gold entities).
    """
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f": f, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


def aggregate_counts(
    doc_counts: Iterable[LabelCounts], *, labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Sum per-document counts into per-label and micro-averaged scores.

    doc_counts (Iterable[LabelCounts]): One `{label: {"tp", "fp", "fn"}}` per doc,
        for a single matching mode.
    labels (Optional[Sequence[str]]): Report exactly these labels (zero-support ones
        included, with 0.0 scores) and micro-average over them; other labels are
        ignored. None reports every label seen, sorted.
    RETURNS (Dict[str, Any]): `{"micro": {...}, "per_label": {label: {...}}}` where each
        inner dict is the output of `prf`.
    """
    totals: LabelCounts = {}
    for counts in doc_counts:
        for label, c in counts.items():
            t = totals.setdefault(label, {"tp": 0, "fp": 0, "fn": 0})
            for key in ("tp", "fp", "fn"):
                t[key] += c[key]
    report_labels = sorted(totals) if labels is None else list(labels)
    zero = {"tp": 0, "fp": 0, "fn": 0}
    per_label = {label: prf(**totals.get(label, zero)) for label in report_labels}
    micro = prf(
        tp=sum(s["tp"] for s in per_label.values()),
        fp=sum(s["fp"] for s in per_label.values()),
        fn=sum(s["fn"] for s in per_label.values()),
    )
    return {"micro": micro, "per_label": per_label}


def score_entities(
    gold_docs: Iterable[Doc],
    pred_docs: Iterable[Doc],
    *,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Score predicted entities against gold entities, strict and lenient.

    Docs pair up by position and must have identical texts; their tokenizations
    may differ. With `labels` given, entities of other labels are ignored on both
    sides and `per_label` lists exactly those labels; a label without gold or
    predicted entities gets p = r = f = 0.0 (it is still listed).

    gold_docs (Iterable[Doc]): Reference docs.
    pred_docs (Iterable[Doc]): Predicted docs, in the same order.
    labels (Optional[Sequence[str]]): Labels to score; None scores every label seen.
    RETURNS (Dict[str, Any]): Strict scores at the top level, `"micro"` (`p`, `r`, `f`,
        `tp`, `fp`, `fn`, `support`) and `"per_label"` (label -> same keys);
        `"lenient"` with the same two keys for overlap matching; `"n_docs"`; and
        `"doc_counts"`, one `{"strict": {label: {tp, fp, fn}}, "lenient": {...}}`
        per doc, for resampling.
    """
    gold_list = list(gold_docs)
    pred_list = list(pred_docs)
    if len(gold_list) != len(pred_list):
        raise ClinkdError(Errors.E251.format(n_gold=len(gold_list), n_pred=len(pred_list)))
    doc_counts: list[dict[str, LabelCounts]] = []
    for i, (gold_doc, pred_doc) in enumerate(zip(gold_list, pred_list)):
        if gold_doc.text != pred_doc.text:
            raise ClinkdError(
                Errors.E250.format(i=i, gold=gold_doc.text[:40], pred=pred_doc.text[:40])
            )
        doc_counts.append(count_doc(gold_doc, pred_doc, labels=labels))
    strict = aggregate_counts((c[STRICT] for c in doc_counts), labels=labels)
    lenient = aggregate_counts((c[LENIENT] for c in doc_counts), labels=labels)
    return {
        "micro": strict["micro"],
        "per_label": strict["per_label"],
        "lenient": lenient,
        "n_docs": len(gold_list),
        "doc_counts": doc_counts,
    }


def remap_entities(doc: Doc, label_map: Mapping[str, str]) -> Doc:
    """Rename a doc's entity labels in place; entities with unmapped labels are dropped.

    Used to score a model whose label set differs from the gold data's (external
    validation), e.g. `{"Disease_disorder": "DISEASE"}`.

    doc (Doc): The predicted doc to modify.
    label_map (Mapping[str, str]): Predicted label -> gold label.
    RETURNS (Doc): The same doc, with remapped `doc.ents`.
    """
    doc.ents = [
        Span(doc, ent.start, ent.end, label=label_map[ent.label_])
        for ent in doc.ents
        if ent.label_ in label_map
    ]
    return doc
