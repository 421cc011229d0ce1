"""Document-level folds: every doc in one fold, the same folds whatever the order."""
import pytest

from spacy_clinkd.errors import ClinkdError
from spacy_clinkd.evaluation.folds import document_folds


def test_every_doc_in_one_fold_of_near_equal_size():
    ids = [f"doc{i}" for i in range(23)]
    folds = document_folds(ids, k=5, seed=0)
    sizes = sorted(folds.count(f) for f in range(5))
    assert sizes == [4, 4, 5, 5, 5]


def test_folds_depend_on_ids_not_order():
    ids = [f"doc{i}" for i in range(20)]
    forward = dict(zip(ids, document_folds(ids, k=4, seed=3)))
    backward = dict(zip(ids[::-1], document_folds(ids[::-1], k=4, seed=3)))
    assert forward == backward
    assert dict(zip(ids, document_folds(ids, k=4, seed=4))) != forward


def test_repeated_ids_and_bad_k_are_refused():
    with pytest.raises(ClinkdError, match="repeat.*'a'"):
        document_folds(["a", "b", "a"], k=2)
    with pytest.raises(ClinkdError, match="k=4, 3 documents"):
        document_folds(["a", "b", "c"], k=4)
    with pytest.raises(ClinkdError, match="k=1"):
        document_folds(["a", "b", "c"], k=1)
