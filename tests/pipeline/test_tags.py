import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from spacy_clinkd.pipeline.tags import BIOScheme, viterbi_decode

LABELS = ["DISEASE", "MEDICATION", "SYMPTOM"]


def is_valid_bio(tags):
    previous = "O"
    for tag in tags:
        if tag.startswith("I-"):
            label = tag[2:]
            if previous not in (f"B-{label}", f"I-{label}"):
                return False
        previous = tag
    return True


def test_tags_and_ids():
    scheme = BIOScheme(LABELS)
    assert scheme.tags == (
        "O", "B-DISEASE", "I-DISEASE", "B-MEDICATION", "I-MEDICATION", "B-SYMPTOM", "I-SYMPTOM",
    )
    ids, mask = scheme.ids_from_biluo(["O", "U-SYMPTOM", "B-DISEASE", "I-DISEASE", "L-DISEASE", None, "-", "U-OTHER"])
    assert ids.tolist() == [0, 5, 1, 2, 2, 0, 0, 0]
    assert mask.tolist() == [1, 1, 1, 1, 1, 0, 0, 1]


def test_spans_from_tags():
    scheme = BIOScheme(LABELS)
    t = scheme.tag_to_id
    path = [t["B-DISEASE"], t["I-DISEASE"], t["O"], t["B-SYMPTOM"], t["B-SYMPTOM"], t["I-SYMPTOM"]]
    assert scheme.spans(path) == [(0, 2, "DISEASE"), (3, 4, "SYMPTOM"), (4, 6, "SYMPTOM")]


def test_viterbi_repairs_an_invalid_argmax():
    scheme = BIOScheme(["X"])
    start, trans = scheme.allowed()
    # The argmax would be O, I-X, I-X: invalid. Best valid: O, B-X, I-X or all O.
    scores = numpy.log(numpy.asarray([[0.9, 0.05, 0.05], [0.1, 0.3, 0.6], [0.1, 0.1, 0.8]]))
    path = viterbi_decode(scores, start, trans)
    assert [scheme.tags[i] for i in path] == ["O", "B-X", "I-X"]


def test_viterbi_empty():
    scheme = BIOScheme(["X"])
    start, trans = scheme.allowed()
    assert viterbi_decode(numpy.zeros((0, 3)), start, trans).shape == (0,)


@settings(max_examples=200, deadline=None)
@given(
    n_labels=st.integers(min_value=1, max_value=4),
    data=st.data(),
)
def test_decoder_never_emits_invalid_sequences(n_labels, data):
    labels = [f"L{i}" for i in range(n_labels)]
    scheme = BIOScheme(labels)
    n_tokens = data.draw(st.integers(min_value=0, max_value=30))
    scores = data.draw(
        arrays(
            numpy.float64,
            (n_tokens, len(scheme)),
            elements=st.floats(min_value=-20, max_value=20, allow_nan=False),
        )
    )
    start, trans = scheme.allowed()
    path = viterbi_decode(scores, start, trans)
    tags = [scheme.tags[i] for i in path]
    assert len(tags) == n_tokens
    assert is_valid_bio(tags)
    spans = scheme.spans(path)
    covered = set()
    for s, e, label in spans:
        assert 0 <= s < e <= n_tokens
        assert label in labels
        assert not covered & set(range(s, e))
        covered |= set(range(s, e))
    # Every non-O token belongs to exactly one span.
    assert covered == {i for i, tag in enumerate(tags) if tag != "O"}


@pytest.mark.parametrize("labels", [["Sign-symptom"], ["A", "B"]])
def test_labels_with_dashes_round_trip(labels):
    scheme = BIOScheme(labels)
    ids, _ = scheme.ids_from_biluo([f"U-{labels[0]}"])
    assert scheme.spans(ids) == [(0, 1, labels[0])]


def test_projection_sums_left_out_labels_into_outside():
    full = BIOScheme(["AUX", "SYMPTOM"])
    subset, matrix = full.projection(["SYMPTOM"])
    assert subset.tags == ("O", "B-SYMPTOM", "I-SYMPTOM")
    probs = numpy.array([[0.3, 0.2, 0.1, 0.4, 0.0]], dtype="float32")  # O, B-AUX, I-AUX, B-SYM, I-SYM
    numpy.testing.assert_allclose(probs @ matrix, [[0.6, 0.4, 0.0]])
    with pytest.raises(ValueError, match="OTHER"):
        full.projection(["OTHER"])
