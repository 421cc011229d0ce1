"""Bootstrap intervals over documents, on hand-made per-doc counts."""
from __future__ import annotations

import numpy as np
import pytest

from spacy_clinkd.evaluation.bootstrap import bootstrap_intervals
from spacy_clinkd.evaluation.metrics import aggregate_counts

LABELS = ["DIS", "MED", "SYM"]
MODES = ("strict", "lenient")


def _doc(strict: dict, lenient: dict) -> dict:
    return {"strict": strict, "lenient": lenient}


def _c(tp: int, fp: int, fn: int) -> dict[str, int]:
    return {"tp": tp, "fp": fp, "fn": fn}


def _point(doc_counts, labels):
    """Point estimates in the layout of `score_entities`."""
    strict = aggregate_counts((c["strict"] for c in doc_counts), labels=labels)
    lenient = aggregate_counts((c["lenient"] for c in doc_counts), labels=labels)
    return {**strict, "lenient": lenient, "n_docs": len(doc_counts)}


def _random_doc_counts(n_docs: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    docs = []
    for _ in range(n_docs):
        strict, lenient = {}, {}
        for label in LABELS:
            tp, fp, fn = (int(x) for x in rng.integers(0, 4, size=3))
            # Lenient turns some strict boundary errors (an fp plus an fn) into a tp.
            fixed = min(fp, fn, int(rng.integers(0, 2)))
            strict[label] = _c(tp, fp, fn)
            lenient[label] = _c(tp + fixed, fp - fixed, fn - fixed)
        docs.append(_doc(strict, lenient))
    return docs


def test_identical_docs_collapse_to_point():
    doc = _doc(
        {"MED": _c(2, 1, 0), "SYM": _c(1, 1, 2)},
        {"MED": _c(2, 1, 0), "SYM": _c(2, 0, 1)},
    )
    doc_counts = [doc] * 7
    point = _point(doc_counts, LABELS)
    boot = bootstrap_intervals(doc_counts, labels=LABELS, n_samples=50)
    for mode in MODES:
        scores = point if mode == "strict" else point["lenient"]
        for key in ("p", "r", "f"):
            value = scores["micro"][key]
            assert boot[mode]["micro"][key] == [pytest.approx(value), pytest.approx(value)]
            for label in LABELS:
                value = scores["per_label"][label][key]
                assert boot[mode]["per_label"][label][key] == [
                    pytest.approx(value), pytest.approx(value)
                ]
    # DIS never occurs: every replicate scores 0.0, like prf.
    assert boot["strict"]["per_label"]["DIS"]["f"] == [0.0, 0.0]
    assert (boot["n_samples"], boot["confidence"], boot["seed"], boot["n_docs"]) == (50, 0.95, 0, 7)


def test_deterministic_for_a_seed():
    doc_counts = _random_doc_counts(20, seed=1)
    a = bootstrap_intervals(doc_counts, labels=LABELS, n_samples=200, seed=3)
    b = bootstrap_intervals(doc_counts, labels=LABELS, n_samples=200, seed=3)
    c = bootstrap_intervals(doc_counts, labels=LABELS, n_samples=200, seed=4)
    assert a == b
    assert a != c


def test_interval_contains_point_estimate():
    doc_counts = _random_doc_counts(40, seed=0)
    point = _point(doc_counts, LABELS)
    boot = bootstrap_intervals(doc_counts, labels=LABELS, n_samples=500)
    for mode in MODES:
        scores = point if mode == "strict" else point["lenient"]
        cells = [(boot[mode]["micro"], scores["micro"])] + [
            (boot[mode]["per_label"][label], scores["per_label"][label]) for label in LABELS
        ]
        for interval, point_scores in cells:
            for key in ("p", "r", "f"):
                lo, hi = interval[key]
                assert 0.0 <= lo < point_scores[key] < hi <= 1.0
    # A wider confidence gives a wider interval on the same replicates.
    wide = bootstrap_intervals(doc_counts, labels=LABELS, n_samples=500, confidence=0.99)
    lo, hi = boot["strict"]["micro"]["f"]
    wide_lo, wide_hi = wide["strict"]["micro"]["f"]
    assert wide_lo < lo and hi < wide_hi


@pytest.mark.parametrize(
    "confidence,f_interval", [(0.4, [0.75, 0.75]), (0.6, [0.0, 1.0]), (0.95, [0.0, 1.0])]
)
def test_interval_is_the_central_mass_of_summed_replicates(confidence, f_interval):
    # Two docs: A (3 tp, F1 1) and B (1 fp + 1 fn, F1 0). A replicate is AA
    # (F1 1) a quarter of the time, BB (F1 0) a quarter, and AB or BA half the
    # time: counts summed, tp 3 fp 1 fn 1, F1 0.75 (the mean of per-doc F1s
    # would be 0.5). So a central mass under 50% is 0.75 alone, one over 50%
    # (the 20th to 80th percentiles for 60%) spans all three.
    good = _doc({"MED": _c(3, 0, 0)}, {"MED": _c(3, 0, 0)})
    bad = _doc({"MED": _c(0, 1, 1)}, {"MED": _c(1, 0, 0)})
    boot = bootstrap_intervals([good, bad], labels=["MED"], n_samples=2000, confidence=confidence)
    assert boot["strict"]["micro"]["f"] == f_interval
    assert boot["strict"]["per_label"]["MED"]["f"] == f_interval
    # lenient: B is a tp too, so every replicate scores 1.0
    assert boot["lenient"]["micro"]["f"] == [1.0, 1.0]


def test_labels_none_and_unknown_labels():
    doc_counts = _random_doc_counts(5, seed=2)
    assert list(bootstrap_intervals(doc_counts, labels=None, n_samples=10)["strict"]["per_label"]) == LABELS
    boot = bootstrap_intervals(doc_counts, labels=["SYM", "PROC"], n_samples=10)
    assert list(boot["lenient"]["per_label"]) == ["SYM", "PROC"]
    assert boot["strict"]["per_label"]["PROC"] == {"p": [0.0, 0.0], "r": [0.0, 0.0], "f": [0.0, 0.0]}


def test_no_docs_gives_none_intervals():
    boot = bootstrap_intervals([], labels=["MED"], n_samples=10)
    assert boot["n_docs"] == 0
    for mode in MODES:
        assert boot[mode]["micro"] == {"p": None, "r": None, "f": None}
        assert boot[mode]["per_label"] == {"MED": {"p": None, "r": None, "f": None}}
    assert bootstrap_intervals([], labels=None)["strict"]["per_label"] == {}


@pytest.mark.parametrize("n_samples", [0, -1, 2.5, True])
def test_bad_n_samples(n_samples):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        bootstrap_intervals(_random_doc_counts(3, seed=0), labels=LABELS, n_samples=n_samples)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95])
def test_bad_confidence(confidence):
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_intervals(_random_doc_counts(3, seed=0), labels=LABELS, confidence=confidence)
