"""The NER scorer a component uses during `spacy train` (clinkd.ner_scorer.v1).

Registered through the setup.py entry point `spacy_scorers`, so a config can say

    [components.clinkd_ner.scorer]
    @scorers = "clinkd.ner_scorer.v1"
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from spacy.scorer import get_ner_prf
from spacy.training import Example

from .metrics import LENIENT, aggregate_counts, count_doc


def score_ner(examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
    """Score the entities of predicted docs against their references.

    The keys spaCy's own ner scorer returns (`ents_p`, `ents_r`, `ents_f`,
    `ents_per_type`) come from `spacy.scorer.get_ner_prf`, so `spacy train`'s table
    and `score_weights` behave as with the built-in `ner`. Lenient (overlap, same
    label) micro scores are added as `ents_lenient_p`, `ents_lenient_r` and
    `ents_lenient_f`, computed by `spacy_clinkd.evaluation.metrics` over the
    examples whose reference has entity annotation (missing annotation counts as
    outside there, unlike in `get_ner_prf`).

    examples (Iterable[Example]): Examples with predicted and reference docs.
    kwargs (Any): Passed on to `get_ner_prf`.
    RETURNS (Dict[str, Any]): The scores; all None when there is nothing to score,
        as with spaCy's scorer.
    """
    examples = list(examples)
    scores = get_ner_prf(examples, **kwargs)
    lenient_counts: list[dict[str, dict[str, int]]] = [
        count_doc(eg.reference, eg.predicted)[LENIENT]
        for eg in examples
        if eg.reference.has_annotation("ENT_IOB")
    ]
    lenient = aggregate_counts(lenient_counts)["micro"]
    seen = lenient["tp"] + lenient["fp"] + lenient["fn"] > 0
    for key in ("p", "r", "f"):
        scores[f"ents_lenient_{key}"] = lenient[key] if seen else None
    return scores


def make_ner_scorer() -> Callable[..., dict[str, Any]]:
    """Create the entity scorer (registered as clinkd.ner_scorer.v1).

    RETURNS (Callable[..., Dict[str, Any]]): `score_ner`, called as
        `score(examples, **kwargs)`.
    """
    return score_ner
