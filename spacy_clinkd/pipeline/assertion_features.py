"""Features of an entity for the learned assertion classifier.

Each entity becomes a bag of string features, hashed to uint64 keys
(`spacy.strings.hash_string`, so the vocabulary's StringStore does not grow)
for a sparse linear model (`models.assertion.AssertionClassifier`):

- the rules' verdict (`rule=absent`): the learned model starts from what the
  cue rules say and learns where they go wrong;
- each cue pointing at the entity (`assertion.ClinkdAssertion.cue_relations`):
  its category, its phrase, its distance bucket, whether a termination cue
  stands between (`cue=negation_preceding`, `cue=negation_preceding|no`,
  `cue=negation_preceding@4-7`, `cue=negation_preceding+blocked`);
- the words around the entity in its scope: each of the `window` nearest
  lower-cased words left and right (`L=denies`, `R=was`), the nearest one
  and two by position (`L1=denies`, `L2=patient`), and left/right bigrams;
- the entity's own words (`E=fever`) and label (`label=SYMPTOM`);
- whether the entity sits in a list (a comma or "or"/"and" next to it), and
  whether its scope is a heading line or ends with a question mark.

Feature strings are versioned by `FEATURES_VERSION`; a trained model records
it and refuses another.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from spacy.strings import hash_string
from spacy.tokens import Doc, Span

from .assertion import CueRelation

FEATURES_VERSION = 1
_DISTANCE_BUCKETS = ((0, "0"), (1, "1"), (3, "2-3"), (7, "4-7"), (15, "8-15"))


def _bucket(gap: int) -> str:
    for top, name in _DISTANCE_BUCKETS:
        if gap <= top:
            return name
    return "16+"


def _words(doc: Doc, start: int, end: int) -> list[str]:
    return [t.lower_ for t in doc[start:end] if not t.is_space]


def entity_features(
    doc: Doc, ent: Span, relations: Sequence[CueRelation], rule: str, scope: tuple[int, int], *, window: int = 6
) -> list[str]:
    """The feature strings of one entity (module docstring).

    doc (Doc): the entity's doc.
    ent (Span): the entity.
    relations (Sequence[CueRelation]): the cues pointing at it.
    rule (str): the rules' assertion of it.
    scope (Tuple[int, int]): token offsets of its scope (sentence cut at line breaks).
    window (int): context words taken on each side.
    RETURNS (List[str]): the features, duplicates allowed (they count).
    """
    feats = [f"rule={rule}", f"label={ent.label_}"]
    for rel in relations:
        phrase = doc[rel.start : rel.end].text.lower()
        tag = f"cue={rel.category}"
        feats += [tag, f"{tag}|{phrase}", f"{tag}@{_bucket(rel.gap)}"]
        if rel.blocked:
            feats.append(f"{tag}+blocked")
    left = _words(doc, scope[0], ent.start)[::-1][:window]
    right = _words(doc, ent.end, scope[1])[:window]
    feats += [f"L={w}" for w in left] + [f"R={w}" for w in right]
    feats += [f"L{i}={w}" for i, w in enumerate(left[:2], 1)] + [f"R{i}={w}" for i, w in enumerate(right[:2], 1)]
    feats += [f"LB={a}_{b}" for b, a in zip(left, left[1:])] + [f"RB={a}_{b}" for a, b in zip(right, right[1:])]
    feats += [f"E={w}" for w in _words(doc, ent.start, ent.end)]
    if (left[:1] and left[0] in {",", "or", "and", "nor"}) or (right[:1] and right[0] in {",", "or", "and", "nor"}):
        feats.append("in_list")
    scope_words = _words(doc, scope[0], scope[1])
    if scope_words and scope_words[-1] == "?":
        feats.append("question")
    if scope_words and scope_words[-1] == ":":
        feats.append("heading")
    return feats


def hash_features(batch: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys, values, lengths) of a batch of feature bags, `SparseLinear`'s input.

    keys are uint64 hashes, values float32 ones (a repeated feature counts
    once per occurrence), lengths int32 per bag.
    """
    keys = np.fromiter((hash_string(f) for bag in batch for f in bag), dtype=np.uint64)
    values = np.ones(len(keys), dtype=np.float32)
    lengths = np.asarray([len(bag) for bag in batch], dtype=np.int32)
    return keys, values, lengths
