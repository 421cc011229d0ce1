"""Where strict errors come from: each gold entity and each unmatched
prediction put in one class, per label.

For each gold entity, the first that applies (predictions of the same doc):
- `correct`: a prediction with the same span and label;
- `type`: a prediction with the same span and another label;
- `boundary`: an overlapping prediction with the same label, other span;
- `boundary_type`: an overlapping prediction, other span and other label;
- `missed`: no prediction overlaps it.
A prediction that overlaps no gold entity is `spurious` (under its own
label). Every strict false negative is one of type / boundary /
boundary_type / missed; a false positive that overlaps a gold entity is
accounted for by that entity's class, so the table counts gold entities plus
spurious predictions, not predictions one by one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from spacy.tokens import Doc

from .metrics import Entity, get_entities

CLASSES = ("correct", "type", "boundary", "boundary_type", "missed", "spurious")


def _overlaps(a: Entity, b: Entity) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def classify_doc(gold: set[Entity], pred: set[Entity]) -> list[tuple[str, str]]:
    """(class, label) for each gold entity and each spurious prediction."""
    out: list[tuple[str, str]] = []
    for g in sorted(gold):
        if g in pred:
            out.append(("correct", g[2]))
            continue
        overlapping = [p for p in pred if _overlaps(g, p)]
        if any(p[:2] == g[:2] for p in overlapping):
            out.append(("type", g[2]))
        elif any(p[2] == g[2] for p in overlapping):
            out.append(("boundary", g[2]))
        elif overlapping:
            out.append(("boundary_type", g[2]))
        else:
            out.append(("missed", g[2]))
    for p in sorted(pred):
        if not any(_overlaps(p, g) for g in gold):
            out.append(("spurious", p[2]))
    return out


def error_table(
    gold_docs: Iterable[Doc], pred_docs: Iterable[Doc], *, labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Counts of each class (module docstring) per label and in total.

    gold_docs (Iterable[Doc]): gold docs.
    pred_docs (Iterable[Doc]): predicted docs over the same texts, in order.
    labels (Optional[Sequence[str]]): labels to count; None: all.
    RETURNS (Dict[str, Any]): {"per_label": {label: {class: n}}, "total":
        {class: n}}.
    """
    per_label: dict[str, dict[str, int]] = {}
    for gold_doc, pred_doc in zip(gold_docs, pred_docs, strict=True):
        gold = get_entities(gold_doc, labels=labels)
        pred = get_entities(pred_doc, labels=labels)
        for name, label in classify_doc(gold, pred):
            counts = per_label.setdefault(label, dict.fromkeys(CLASSES, 0))
            counts[name] += 1
    total = {name: sum(c[name] for c in per_label.values()) for name in CLASSES}
    return {"per_label": dict(sorted(per_label.items())), "total": total}
