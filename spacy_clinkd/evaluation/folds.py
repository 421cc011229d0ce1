"""Document-level folds for cross-validation.

Every document falls in exactly one of `k` folds; the assignment depends only
on the documents' ids, `k` and `seed` (not on the order the docs are read
in), so every candidate scored with the same (k, seed) sees the same folds.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from spacy.tokens import Doc

from ..errors import ClinkdError, Errors


def doc_id(doc: Doc, index: int) -> str:
    """A doc's id: `doc.user_data["doc_id"]` (the readers keep it), else its position."""
    return str(doc.user_data.get("doc_id", f"#{index}"))


def document_folds(ids: Sequence[str], k: int = 5, seed: int = 0) -> list[int]:
    """The fold (0 … k-1) of each document.

    ids (Sequence[str]): document ids, unique.
    k (int): the number of folds, 2 ≤ k ≤ len(ids).
    seed (int): the shuffle's seed.
    RETURNS (List[int]): fold index per id, in the order of `ids`; fold sizes
        differ by at most one document.
    """
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dupes = sorted({i for i in ids if i in seen or seen.add(i)})
        raise ClinkdError(Errors.E453.format(dupes=dupes[:5], n=len(dupes)))
    if not 2 <= k <= len(ids):
        raise ClinkdError(Errors.E454.format(k=k, n=len(ids)))
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    fold_of = {doc: i % k for i, doc in enumerate(order)}
    return [fold_of[i] for i in ids]
